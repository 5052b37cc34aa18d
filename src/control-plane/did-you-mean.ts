/**
 * "Did you mean" for an unknown configuration key: the known key closest in edit distance, when it is close
 * enough to be a typo. A dozen lines over ~50 keys, once per unknown key at start-up: no package needed.
 */

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      // `prot` for `port` is one slip of the fingers, not two.
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest of `known` to `key` (ignoring case) within 3 edits and a quarter of its length, or one it is the start of. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const limit = Math.min(3, Math.floor(key.length / 4));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const distance = editDistance(key.toLowerCase(), k.toLowerCase());
    if (distance <= limit && distance < bestDistance) [best, bestDistance] = [k, distance];
  }
  // A key cut short (`gateway.admin.credentials` for `gateway.admin.credentials.file`) is far in edits but obvious.
  return best ?? known.find((k) => k.toLowerCase().startsWith(`${key.toLowerCase()}.`));
}
