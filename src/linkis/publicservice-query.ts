/**
 * publicservice calls whose query parameters Linkis 1.8 trusts without checking them against the caller:
 * - `proxyUser` on jobhistory/listDurationTop and jobstatistics/taskCount, engineCount (QueryRestfulApi,
 *   StatisticsRestfulApi): without it they answer for every user, with it for anyone named, and
 *   listDurationTop returns other users' jobs with their code. Pinned to the authenticated user.
 * - `isDeptView` on jobhistory/list and download-job-list: any user with a department then lists (or
 *   exports) every job of the department, or of a colleague named in proxyUser; there is no department
 *   admin check (QueryRestfulApi.getJobhistoryList). Dropped: department views are not served.
 * - `creator` on filesystem openScriptFromBML (BMLFsRestfulApi): BML is asked as that user. Dropped, so
 *   BML is asked as the login user.
 * Pure: the caller forwards the target this returns instead of the client's.
 */
import { API_PREFIX } from './routes';

interface QueryRule {
  /** Parameter names to remove (in any encoding of the name). */
  drop: readonly string[];
  /** Added once, naming the authenticated user. */
  pin?: string;
}

const RULES = new Map<string, QueryRule>();
const rule = (paths: string[], r: QueryRule) => paths.forEach((p) => RULES.set(`${API_PREFIX}${p}`, r));
rule(['jobhistory/listDurationTop', 'jobhistory/jobstatistics/taskCount', 'jobhistory/jobstatistics/engineCount'], { drop: ['proxyUser'], pin: 'proxyUser' });
rule(['jobhistory/list', 'jobhistory/download-job-list'], { drop: ['isDeptView'] });
rule(['filesystem/openScriptFromBML', 'filesystem/product/openScriptFromBML'], { drop: ['creator'] });

/** The request target to forward instead, or undefined when it stays as the client sent it. */
export function ownUserQuery(target: string, user: string): string | undefined {
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const r = RULES.get(springPath(path));
  if (!r) return undefined;
  const pairs = q < 0 ? [] : target.slice(q + 1).split('&');
  const dropped = (pair: string) => pair !== '' && r.drop.includes(decodedName(pair));
  if (!r.pin && !pairs.some(dropped)) return undefined; // nothing to change: forwarded byte for byte
  const kept = pairs.filter((pair) => pair !== '' && !dropped(pair));
  if (r.pin) kept.push(`${r.pin}=${encodeURIComponent(user)}`);
  return kept.length ? `${path}?${kept.join('&')}` : path;
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

/** A parameter's name as Spring reads it (`+` a space, percent-decoded; names are case-sensitive). */
function decodedName(pair: string): string {
  return new URLSearchParams(pair).keys().next().value ?? '';
}
