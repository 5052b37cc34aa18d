/**
 * linkis-ps-publicservice's filesystem API (FsRestfulApi 1.8.0, research §2) over the simulated HDFS:
 * result listings, result pages and finished logs, with `wds.linkis.workspace.filesystem.owner.check=true`.
 *
 * Two checks stand between a user and another user's files, in Linkis's order:
 * 1. the owner check on the path (80010). Linkis tests that the lower-cased path contains the user's
 *    workspace prefix; the simulator's result and log paths carry the user as a path segment
 *    (`.../result/<date>/<creator>/<user>/<taskId>`), so it tests for `/<user>/` the same substring way,
 *    and an admin passes;
 * 2. storage permissions: files are the executing user's (an admin reads all), so a path that passes the
 *    substring check but is someone else's file (a creator named like the reader) is refused with 80010
 *    for a listing, 80012 for openFile and 80018 for openLog.
 */
import { baseName, hdfsPathPart, normalizePath, RESULT_COLUMNS, resultRow, splitLogLevels, type SimFile } from './files';
import { isAdmin, numberParam, pathParam, type PsContext } from './ps-context';
import { errorCodeAnswer, exceptionAnswer, ok, springBadRequest, type Answer } from './wire';

const EMPTY_PATH = (path: string | null) => `The path:${path} is empty(路径:${path} 为空)!`;
const NO_DIR_PERMISSION = (user: string, path: string) =>
  `The user: ${user} has no permission to view the contents of the directory:${path}(该用户:${user}无权限查看该目录:${path}的内容).`;
const NO_READ_FILE = 'This user has no permission to read this file(该用户无权读取该文件)!';
const NO_READ_LOG = 'This user has no permission to read this log(该用户无权限读取此日志)!';
const BAD_COLUMN_PAGE =
  'Parameter error, page size is incorrect, please pass in a number within [1-500] (分页参数错误，页码从1开始，页大小需在[1-500]范围内，获取的列索引需在实际结果集列数范围内)';
// linkis.filesystem.resultset.row.limit, formatted by MessageFormat (hence the grouping comma).
const ROW_LIMIT = 100_000;
const TOO_MANY_ROWS = `The result set exceeds 100,000 rows and page viewing is currently not supported. Please download to view or view in the shared directory(结果集行数超过100,000行，暂不支持页面查看。请下载查看或在共享目录中查看)`;
const UNSUPPORTED_TYPE = 'Unsupported open file type(不支持打开的文件类型)';

function ownerCheck(ctx: PsContext, path: string, user: string): boolean {
  if (!ctx.ownerCheck || isAdmin(ctx, user)) return true;
  return `${path.toLowerCase().trim()}/`.includes(`/${user.toLowerCase()}/`);
}

function canRead(ctx: PsContext, owner: string, user: string): boolean {
  return owner === user || isAdmin(ctx, user);
}

/** HDFSFileSystem.canAccess on a path that does not exist: an IOException, reported by catchIt. */
function notExists(ctx: PsContext, method: string, path: string): Answer {
  return exceptionAnswer(method, `IOException: directory or file not exists: ${hdfsPathPart(path)}`, ctx.who);
}

export function getDirFileTrees(ctx: PsContext, q: URLSearchParams, user: string): Answer {
  const method = '/api/filesystem/getDirFileTrees';
  const path = pathParam(q);
  if (path === null) return errorCodeAnswer(method, 80004, EMPTY_PATH(q.get('path')), ctx.who);
  if (!ownerCheck(ctx, path, user)) return errorCodeAnswer(method, 80010, NO_DIR_PERMISSION(user, path), ctx.who);
  const file = ctx.history.files.get(path);
  const listing = ctx.history.files.list(path);
  if (!file && !listing) return ok(method, 'OK', { dirFileTrees: null });
  // A file has no execute permission, so listing it is refused like another user's directory.
  if (!listing || !canRead(ctx, listing.owner, user)) return errorCodeAnswer(method, 80010, NO_DIR_PERMISSION(user, path), ctx.who);
  const root = normalizePath(path);
  const children = listing.entries.map(({ name, file: f }) => ({
    name,
    path: `${root}/${name}`,
    properties: f ? { size: String(f.size), modifytime: String(f.modifytime) } : {},
    children: null,
    isLeaf: f !== undefined,
    parentPath: root,
  }));
  return ok(method, 'OK', { dirFileTrees: { name: baseName(root), path: root, properties: null, children, isLeaf: false, parentPath: null } });
}

/** The file at `path` once the checks FsRestfulApi makes before reading have passed, or the refusal. */
function readable(ctx: PsContext, method: string, path: string, user: string, refusal: [number, string]): SimFile | Answer {
  if (!ownerCheck(ctx, path, user)) return errorCodeAnswer(method, 80010, NO_DIR_PERMISSION(user, path), ctx.who);
  const file = ctx.history.files.get(path);
  const listing = file ? null : ctx.history.files.list(path);
  if (!file && !listing) return notExists(ctx, method, path);
  if (!canRead(ctx, file?.owner ?? listing!.owner, user)) return errorCodeAnswer(method, refusal[0], refusal[1], ctx.who);
  // A directory has none of the suffixes FileSource opens (wds.linkis.storage.file.type).
  return file ?? errorCodeAnswer(method, 54001, UNSUPPORTED_TYPE, ctx.who);
}

/** GET filesystem/openFile: one page of a result set (`totalLine` = rows in this page, `totalPage` always 0). */
export function openFile(ctx: PsContext, q: URLSearchParams, user: string, reqPath: string): Answer {
  const method = '/api/filesystem/openFile';
  const page = numberParam(q, 'page', 1);
  const pageSize = numberParam(q, 'pageSize', 5000);
  const columnPage = numberParam(q, 'columnPage', 1);
  const columnPageSize = numberParam(q, 'columnPageSize', 500);
  if ([page, pageSize, columnPage, columnPageSize].includes('bad')) return springBadRequest(reqPath);
  const path = pathParam(q);
  if (path === null) return errorCodeAnswer(method, 80004, EMPTY_PATH(q.get('path')), ctx.who);
  if ((columnPage as number) < 1 || (columnPageSize as number) < 1 || (columnPageSize as number) > 500) {
    return errorCodeAnswer(method, 80036, BAD_COLUMN_PAGE, ctx.who);
  }
  const file = readable(ctx, method, path, user, [80012, NO_READ_FILE]);
  if ('httpStatus' in file) return file;
  if (file.kind === 'log') {
    // A text file is not paged: every line, one cell each.
    return ok(method, 'OK', { metadata: {}, fileContent: file.lines.map((l) => [l]), type: 'script/text', totalLine: file.lines.length, page, totalPage: 0 });
  }
  if ((pageSize as number) > ROW_LIMIT) return errorCodeAnswer(method, 80034, TOO_MANY_ROWS, ctx.who);
  // ResultsetFileSource: a NULL cell becomes `nullValue` when one is given (BLANK means ""), LINKIS_NULL keeps it.
  const given = q.get('nullValue') ?? '';
  const nullValue = given.toUpperCase() === 'BLANK' || given === '' || given === 'LINKIS_NULL' ? 'NULL' : given;
  const start = ((page as number) - 1) * (pageSize as number);
  const end = Math.min(file.rows, start + (pageSize as number));
  const fileContent: string[][] = [];
  for (let i = Math.max(start, 0); i < end; i++) fileContent.push(resultRow(i).map((c) => c ?? nullValue));
  return ok(method, 'OK', {
    metadata: RESULT_COLUMNS,
    fileContent,
    totalColumn: RESULT_COLUMNS.length,
    type: '2',
    totalLine: fileContent.length,
    page,
    totalPage: 0,
  });
}

/** GET filesystem/openLog: the whole finished log in four strings [error, warn, info, all]. */
export function openLog(ctx: PsContext, q: URLSearchParams, user: string): Answer {
  const method = '/api/filesystem/openLog';
  const path = pathParam(q);
  if (path === null) return errorCodeAnswer(method, 80004, EMPTY_PATH(q.get('path')), ctx.who);
  // An admin may read as the job's user.
  const proxyUser = q.get('proxyUser');
  const as = proxyUser !== null && isAdmin(ctx, user) ? proxyUser : user;
  const file = readable(ctx, method, path, as, [80018, NO_READ_LOG]);
  if ('httpStatus' in file) return file;
  const lines = file.kind === 'log' ? file.lines : Array.from({ length: file.rows }, (_, i) => resultRow(i)[0]);
  return ok(method, 'OK', { log: splitLogLevels(lines) });
}
