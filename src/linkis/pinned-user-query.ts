/**
 * publicservice calls that filter by a `proxyUser` query parameter and never check it against the caller
 * (Linkis 1.8: QueryRestfulApi.listDurationTop, StatisticsRestfulApi.taskCount and engineCount). Without
 * the parameter they answer for every user, with it for anyone named: listDurationTop returns other users'
 * jobs with their code. Through the gateway they answer for the authenticated user only. Pure.
 */
import { API_PREFIX } from './routes';

const PINNED: ReadonlySet<string> = new Set(['jobhistory/listDurationTop', 'jobhistory/jobstatistics/taskCount', 'jobhistory/jobstatistics/engineCount'].map((p) => `${API_PREFIX}${p}`));

/** The request target to forward instead, or undefined when the call is not one of them. */
export function pinProxyUser(target: string, user: string): string | undefined {
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  if (!PINNED.has(springPath(path))) return undefined;
  // Every proxyUser goes (Spring joins repeated values with a comma), in whatever encoding of its name.
  const kept = q < 0 ? [] : target.slice(q + 1).split('&').filter((pair) => pair !== '' && decodedName(pair) !== 'proxyUser');
  return `${path}?${[...kept, `proxyUser=${encodeURIComponent(user)}`].join('&')}`;
}

/** The path as Spring matches it: percent-decoded, and a trailing slash matches too (Spring 5). */
function springPath(path: string): string {
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // not decodable: Spring would not match it to these handlers either
  }
  return decoded.length > 1 && decoded.endsWith('/') ? decoded.slice(0, -1) : decoded;
}

function decodedName(pair: string): string {
  const eq = pair.indexOf('=');
  const name = (eq < 0 ? pair : pair.slice(0, eq)).replace(/\+/g, ' ');
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}
