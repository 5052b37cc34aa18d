/**
 * The architecture `ls src` shows is the one the imports follow: folders import downward only
 * (linkis ← control-plane ← ops ← data-plane ← gateway/main; admin and cli over the planes; the
 * simulator over the Linkis protocol alone), and no file imports itself back through a circle.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';

const SRC = join(__dirname, '..', 'src');

// What each folder may import (besides itself). Top-level files (main, gateway, demo) may import anything.
const MAY_IMPORT: Record<string, string[]> = {
  linkis: [],
  'control-plane': ['linkis'],
  ops: ['linkis', 'control-plane'],
  'data-plane': ['linkis', 'control-plane', 'ops'],
  admin: ['linkis', 'control-plane', 'ops'],
  cli: ['linkis', 'control-plane', 'ops', 'admin'],
  simulator: ['linkis'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|import\(\s*)'(\.{1,2}\/[^']+)'/g)) {
    out.push(normalize(join(dirname(relative(SRC, file)), m[1]!)));
  }
  return out;
}

const graph = new Map(sourceFiles(SRC).map((f) => [relative(SRC, f).replace(/\.ts$/, ''), imports(f)]));

test('every folder of src/ is a known layer', () => {
  const folders = readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  assert.deepEqual(folders.filter((f) => !(f in MAY_IMPORT)), []);
});

test('folders import downward only', () => {
  const wrong: string[] = [];
  for (const [file, deps] of graph) {
    const from = file.split('/')[0]!;
    if (!(from in MAY_IMPORT)) continue;
    for (const dep of deps) {
      const to = dep.split('/')[0]!;
      if (to !== from && !MAY_IMPORT[from]!.includes(to)) wrong.push(`${file} -> ${dep}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('no import circles', () => {
  const circles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (node: string, path: string[]) => {
    if (state.get(node) === 'done') return;
    if (state.get(node) === 'open') return void circles.push([...path.slice(path.indexOf(node)), node].join(' -> '));
    state.set(node, 'open');
    for (const dep of graph.get(node) ?? []) if (graph.has(dep)) visit(dep, [...path, node]);
    state.set(node, 'done');
  };
  for (const node of graph.keys()) visit(node, []);
  assert.deepEqual(circles, []);
});
