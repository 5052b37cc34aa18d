/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): where the gateway's CPU goes, by function (self
 * time), by module (self time: a node_modules package, a src/ file, a node: internal), and the inclusive
 * time of the gateway's own and its dependencies' functions (what a middleware costs with everything it
 * calls). `node dist/bench/profile.js FILE.cpuprofile` prints the same summary.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Share of all samples that were not idle. */
  busyMs: number;
  selfByFunction: Array<[string, number]>;
  selfByModule: Array<[string, number]>;
  inclusive: Array<[string, number]>;
}

const IDLE = new Set(['(idle)', '(root)']);

function moduleOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm !== -1) {
    const parts = url.slice(nm + 'node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const src = url.lastIndexOf('/dist/');
  if (src !== -1) return url.slice(src + '/dist/'.length).replace(/\.js$/, '');
  return url.replace(/^file:\/\//, '');
}

function label(n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  const where = moduleOf(url, functionName);
  return `${functionName || '(anonymous)'} ${where}${url ? `:${lineNumber + 1}` : ''}`;
}

export function summarizeProfile(file: string, top = 25): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const selfFn = new Map<string, number>();
  const selfMod = new Map<string, number>();
  const incl = new Map<string, number>();
  let busy = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const node = byId.get(p.samples[i])!;
    // timeDeltas[i] is the time since the previous sample: the time this sample stands for.
    const us = p.timeDeltas[i] ?? 0;
    if (IDLE.has(node.callFrame.functionName)) continue;
    busy += us;
    const l = label(node);
    selfFn.set(l, (selfFn.get(l) ?? 0) + us);
    const m = moduleOf(node.callFrame.url, node.callFrame.functionName);
    selfMod.set(m, (selfMod.get(m) ?? 0) + us);
    // Inclusive: every distinct function on the stack, once (recursion counts once).
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id)!;
      if (!n.callFrame.url || !/node_modules|\/dist\//.test(n.callFrame.url)) continue;
      const key = label(n);
      if (!seen.has(key)) {
        seen.add(key);
        incl.set(key, (incl.get(key) ?? 0) + us);
      }
    }
  }
  const pct = (m: Map<string, number>) =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => [k, (100 * v) / Math.max(busy, 1)] as [string, number]);
  return { busyMs: busy / 1000, selfByFunction: pct(selfFn), selfByModule: pct(selfMod), inclusive: pct(incl) };
}

export function formatProfile(s: ProfileSummary): string {
  const rows = (title: string, list: Array<[string, number]>) =>
    `| ${title} | % of busy CPU |\n|---|---:|\n${list.map(([k, v]) => `| \`${k}\` | ${v.toFixed(1)} |`).join('\n')}\n`;
  return [
    `Busy (non-idle) CPU in the profile: ${s.busyMs.toFixed(0)} ms.\n`,
    rows('self time, by module', s.selfByModule.slice(0, 15)),
    rows('self time, by function', s.selfByFunction),
    rows('inclusive time (gateway and node_modules functions)', s.inclusive),
  ].join('\n');
}

if (require.main === module) {
  process.stdout.write(formatProfile(summarizeProfile(process.argv[2])));
}
