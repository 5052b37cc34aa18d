/**
 * Whose job an execID names. Linkis builds a job's short id from its scheduler group and its index in
 * it: `<creator>_<user>_<engineType>_<index>` in 1.x (EntranceGroupFactory.getGroupNameByLabels, and
 * AbstractScheduler's `_<index>`), `<creator>_<user>_<index>` in 0.x. The user there is the userCreator
 * label's, which the gateway sets to the authenticated user on every submission. An Entrance answers
 * `status`, `progress` and `log` for any execID without asking whose job it is (EntranceRestfulApi), and
 * short ids are easy to guess (a counter), so the gateway asks instead. Creators, users and engine types
 * may contain `_`: every split is tried, and the execID is the user's if one fits. Pure.
 */

const AFTER_USER = /^(?:[^\s/]+_)?[0-9]+$/;

export function shortIdNamesUser(shortId: string, user: string): boolean {
  const needle = `_${user}_`;
  // at > 0: a creator comes first.
  for (let at = shortId.indexOf(needle); at > 0; at = shortId.indexOf(needle, at + 1)) {
    if (AFTER_USER.test(shortId.slice(at + needle.length))) return true;
  }
  return false;
}
