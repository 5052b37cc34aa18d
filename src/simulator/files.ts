/**
 * The simulated HDFS behind linkis-ps-publicservice: result-set files and finished job logs, written by the
 * Entrances when a job ends and read through filesystem/getDirFileTrees, openFile and openLog. Rows are
 * computed from their index, never stored, so a 12,000-row result costs a few numbers.
 */

/** One column of a table result set, as FileSplit.collectMetaData writes it (`comment` is null for engine results). */
export interface ColumnMeta {
  columnName: string;
  comment: string | null;
  dataType: string;
}

export const RESULT_COLUMNS: readonly ColumnMeta[] = [
  { columnName: 'id', comment: null, dataType: 'int' },
  { columnName: 'name', comment: null, dataType: 'string' },
  { columnName: 'score', comment: null, dataType: 'double' },
];

/** Row `i` (0-based) of every simulated result set; every tenth score is a SQL NULL, so `nullValue` has work to do. */
export function resultRow(i: number): [string, string, string | null] {
  const n = i + 1;
  return [String(n), `name_${n}`, n % 10 === 0 ? null : (n * 1.5).toFixed(1)];
}

/** Files belong to the user who ran the job: HDFS permissions are what stop another user after the path check. */
export type SimFile =
  | { kind: 'resultset'; owner: string; rows: number; size: number; modifytime: number }
  | { kind: 'log'; owner: string; lines: string[]; size: number; modifytime: number };

// `dolphin` + the TABLE type as 10 digits (linkis-storage Dolphin.scala): every result file starts with it.
const DOLPHIN_HEADER = 'dolphin0000000002';

export function newResultSet(owner: string, rows: number, now: number): SimFile {
  // The size is what a listing shows; the exact dolphin encoding does not matter, only that it grows with rows.
  let size = DOLPHIN_HEADER.length + JSON.stringify(RESULT_COLUMNS).length;
  for (let i = 0; i < rows; i++) for (const cell of resultRow(i)) size += (cell ?? 'NULL').length + 1;
  return { kind: 'resultset', owner, rows, size, modifytime: now };
}

export function newLog(owner: string, lines: string[], now: number): SimFile {
  return { kind: 'log', owner, lines, size: lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0), modifytime: now };
}

/** A path as the store keys it: trimmed, without trailing slashes (`hdfs:///tmp/x/` → `hdfs:///tmp/x`). */
export function normalizePath(path: string): string {
  return path.trim().replace(/(?<=[^/:])\/+$/, '');
}

/** What HDFSFileSystem.checkHDFSPath leaves of a path for its messages: `hdfs:///tmp/x` → `/tmp/x`. */
export function hdfsPathPart(path: string): string {
  return normalizePath(path).replace(/^hdfs:\/\//, '');
}

export function baseName(path: string): string {
  const p = normalizePath(path);
  return p.slice(p.lastIndexOf('/') + 1);
}

export class FileStore {
  /** By normalized path, scheme included: `hdfs:///tmp/x` and a local `/tmp/x` are different files. */
  private readonly files = new Map<string, SimFile>();

  put(path: string, file: SimFile): void {
    this.files.set(normalizePath(path), file);
  }

  get(path: string): SimFile | undefined {
    return this.files.get(normalizePath(path));
  }

  /**
   * The entries directly under a directory (files, and sub-directories named once), or null when nothing is
   * under it, i.e. the directory does not exist. The owner of a directory is the owner of what it holds.
   */
  list(dir: string): { owner: string; entries: Array<{ name: string; file: SimFile | undefined }> } | null {
    const prefix = `${normalizePath(dir)}/`;
    const entries = new Map<string, SimFile | undefined>();
    let owner: string | undefined;
    for (const [path, file] of this.files) {
      if (!path.startsWith(prefix)) continue;
      owner ??= file.owner;
      const rest = path.slice(prefix.length);
      const slash = rest.indexOf('/');
      if (slash < 0) entries.set(rest, file);
      else if (!entries.has(rest.slice(0, slash))) entries.set(rest.slice(0, slash), undefined);
    }
    if (owner === undefined) return null;
    return { owner, entries: [...entries].sort(([a], [b]) => a.localeCompare(b)).map(([name, file]) => ({ name, file })) };
  }

  clear(): void {
    this.files.clear();
  }
}

// WorkspaceUtil.infoReg/warnReg/errorReg: a Linkis timestamp, optional spaces, the level, anything.
const LEVEL_PREFIX = '((19|20)[0-9]{2})-(0?[1-9]|1[012])-(0?[1-9]|[12][0-9]|3[01]) ([01]?[0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\\.\\d{3}\\s*';
const LEVELS: Array<[index: number, re: RegExp]> = [
  [0, new RegExp(`^${LEVEL_PREFIX}ERROR(.*)$`)],
  [1, new RegExp(`^${LEVEL_PREFIX}WARN(.*)$`)],
  [2, new RegExp(`^${LEVEL_PREFIX}INFO(.*)$`)],
];

/**
 * openLog's four strings [error, warn, info, all] (FsRestfulApi.openLog + WorkspaceUtil.logMatch): a line
 * with a level goes to that level and to all; a line without one goes to all and to the level of the last
 * line that had one. Every line ends with "\n".
 */
export function splitLogLevels(lines: readonly string[]): [string, string, string, string] {
  const out = ['', '', '', ''];
  let current = 3;
  for (const line of lines) {
    const hit = LEVELS.find(([, re]) => re.test(line));
    if (hit) current = hit[0];
    out[3] += `${line}\n`;
    if (current !== 3) out[current] += `${line}\n`;
  }
  return out as [string, string, string, string];
}
