/**
 * What a change of proxy.properties did, by fingerprint: the tokens that appeared, disappeared, or changed
 * users (with the users added and removed; `*` counts as a user here). Every audit record carries it, so
 * a hand edit says as much as an admin write. Pure.
 */
import type { Users } from './tokens-file';

export interface TokenDiff {
  appeared: Array<{ token: string; users: Users }>;
  disappeared: Array<{ token: string; users: Users }>;
  usersChanged: Array<{ token: string; added: string[]; removed: string[] }>;
  /** Only when a list was cut at MAX_LISTED: how many there were in all. */
  totals?: { appeared: number; disappeared: number; usersChanged: number };
}

/** Per list, so that a hand edit replacing a 60,000-token file still makes one readable audit line. */
export const MAX_LISTED = 100;

type Tokens = Iterable<{ fingerprint: string; users: Users | readonly string[] }>;

const asList = (u: Users | readonly string[]): string[] => (u === '*' ? ['*'] : [...u]);
const asUsers = (u: Users | readonly string[]): Users => (u === '*' ? '*' : [...u]);

export function diffTokens(before: Tokens, after: Tokens): TokenDiff {
  const old = new Map<string, Users | readonly string[]>();
  for (const t of before) old.set(t.fingerprint, t.users);
  const diff: TokenDiff = { appeared: [], disappeared: [], usersChanged: [] };
  const seen = new Set<string>();
  for (const t of after) {
    seen.add(t.fingerprint);
    const was = old.get(t.fingerprint);
    if (was === undefined) {
      diff.appeared.push({ token: t.fingerprint, users: asUsers(t.users) });
      continue;
    }
    const a = asList(was);
    const b = asList(t.users);
    const added = b.filter((u) => !a.includes(u));
    const removed = a.filter((u) => !b.includes(u));
    if (added.length || removed.length) diff.usersChanged.push({ token: t.fingerprint, added, removed });
  }
  for (const [fingerprint, users] of old) if (!seen.has(fingerprint)) diff.disappeared.push({ token: fingerprint, users: asUsers(users) });
  return capped(diff);
}

/** The diff of one admin operation on one token. */
export function diffOne(token: string, usersBefore: Users | null, usersAfter: Users | null): TokenDiff {
  return diffTokens(usersBefore === null ? [] : [{ fingerprint: token, users: usersBefore }], usersAfter === null ? [] : [{ fingerprint: token, users: usersAfter }]);
}

function capped(diff: TokenDiff): TokenDiff {
  const { appeared, disappeared, usersChanged } = diff;
  if (Math.max(appeared.length, disappeared.length, usersChanged.length) <= MAX_LISTED) return diff;
  return {
    appeared: appeared.slice(0, MAX_LISTED),
    disappeared: disappeared.slice(0, MAX_LISTED),
    usersChanged: usersChanged.slice(0, MAX_LISTED),
    totals: { appeared: appeared.length, disappeared: disappeared.length, usersChanged: usersChanged.length },
  };
}

/** `2 tokens appeared, 1 disappeared, 1 changed users` (for log lines). */
export function describeDiff(d: TokenDiff): string {
  const n = d.totals ?? { appeared: d.appeared.length, disappeared: d.disappeared.length, usersChanged: d.usersChanged.length };
  const parts = [n.appeared && `${n.appeared} appeared`, n.disappeared && `${n.disappeared} disappeared`, n.usersChanged && `${n.usersChanged} changed users`].filter(Boolean);
  return parts.length ? `tokens: ${parts.join(', ')}` : 'no token changed';
}
