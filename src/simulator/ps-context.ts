/**
 * What the publicservice's REST handlers share: the job history, who counts as an admin, whether the
 * filesystem owner check is on, and Spring's conversion of request parameters.
 */
import type { JobHistory } from './job-history';
import type { ServiceIdentity } from './wire';

export interface PsContext {
  history: JobHistory;
  /** wds.linkis.jobhistory.admin ∪ wds.linkis.governance.station.admin, lower-cased (compared case-insensitively). */
  admins: ReadonlySet<string>;
  /** wds.linkis.workspace.filesystem.owner.check. */
  ownerCheck: boolean;
  who: ServiceIdentity;
}

export function isAdmin(ctx: PsContext, user: string): boolean {
  return ctx.admins.has(user.toLowerCase());
}

/** A request parameter Spring binds to Integer/Long: null when absent or blank, 'bad' when it does not convert. */
export function numberParam(q: URLSearchParams, name: string, fallback: number | null = null): number | null | 'bad' {
  const v = q.get(name);
  if (v === null || v.trim() === '') return fallback;
  if (!/^\s*[+-]?[0-9]{1,18}\s*$/.test(v)) return 'bad';
  return Number(v);
}

/** A request parameter that must be present for the handler to run (StringUtils.isEmpty in FsRestfulApi). */
export function pathParam(q: URLSearchParams): string | null {
  const v = q.get('path');
  return v === null || v === '' ? null : v;
}
