/**
 * Whether a change to a line file (proxy.properties) is still in a later version of it: every line the
 * change added is there (as many times), and every line it removed is gone (down to as many as it left).
 * Lines are compared as bytes; their order does not matter (a later writer may have moved them). Pure.
 */

function lineCounts(bytes: Buffer): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of bytes.toString('latin1').split('\n')) {
    const key = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (key !== '') counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

export function changeSurvives(before: Buffer, after: Buffer, now: Buffer): boolean {
  const was = lineCounts(before);
  const made = lineCounts(after);
  const is = lineCounts(now);
  for (const [line, n] of made) {
    const old = was.get(line) ?? 0;
    if (n > old && (is.get(line) ?? 0) < n) return false; // an added line (or copy of one) is missing
  }
  for (const [line, old] of was) {
    const n = made.get(line) ?? 0;
    if (old > n && (is.get(line) ?? 0) > n) return false; // a removed line is back
  }
  return true;
}
