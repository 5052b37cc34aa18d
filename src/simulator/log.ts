/**
 * The simulator's `/log` answers: paged logs read the way Linkis's LogReader reads them, and a huge-log
 * mode that streams an envelope of an exact byte size without ever holding it in memory (Linkis issues
 * #4830 and #1986 are out-of-memory failures on big log reads; the gateway must stream, and tests need
 * an upstream that can produce 200 MB cheaply).
 */
import { Readable } from 'node:stream';
import type { SimJob } from './jobs';

export type LogArray = [error: string, warn: string, info: string, all: string];

/** `yyyy-MM-dd HH:mm:ss.SSS` in local time, the prefix WorkspaceUtil.logMatch reads a level after. */
export function timestamp(millis: number): string {
  const d = new Date(millis);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

type Level = 'ERROR' | 'WARN' | 'INFO';

/** Line `n` (1-based) of a job's log. Computed, not stored, so a job with many lines costs nothing. */
export function logLine(job: SimJob, n: number): { level: Level; text: string } {
  const ts = timestamp(job.submittedAt + n);
  if (n === 1) {
    return {
      level: 'INFO',
      text: `${ts} INFO Your job is accepted,  jobID is ${job.execID} and taskID is ${job.taskID}. Please wait it to be scheduled`,
    };
  }
  // Fixed positions for WARN and ERROR lines so every one of the four log strings has content to check.
  const level: Level = n % 13 === 0 ? 'ERROR' : n % 7 === 0 ? 'WARN' : 'INFO';
  return { level, text: `${ts} ${level} [${job.shortId}] simulated ${job.engineType} log line ${n} of ${job.logLines}` };
}

/**
 * Linkis's paging (EntranceRestfulApi.log + LogReader.readLog): `fromLine` is 1-based and 0 reads from line
 * 1 too; a negative `size` means 10000 lines (not "all": Linkis caps it). The answer's `fromLine` is the
 * request's `fromLine` plus the lines read, so a client that starts at 0 sees one line twice; that is
 * Linkis's behaviour and the simulator keeps it.
 */
export function readLogPage(job: SimJob, fromLine: number, size: number): { logs: LogArray; nextFromLine: number } {
  const start = Math.max(fromLine, 1);
  const limit = size < 0 ? 10000 : size;
  const parts: Record<Level | 'ALL', string[]> = { ERROR: [], WARN: [], INFO: [], ALL: [] };
  let read = 0;
  for (let n = start; n <= job.logLines && read < limit; n++, read++) {
    const line = logLine(job, n);
    parts[line.level].push(line.text);
    parts.ALL.push(line.text);
  }
  return {
    logs: [parts.ERROR.join('\n'), parts.WARN.join('\n'), parts.INFO.join('\n'), parts.ALL.join('\n')],
    nextFromLine: Math.max(fromLine, 0) + read,
  };
}

// One huge-log line as it appears inside a JSON string: plain ASCII, so bytes == characters, with the
// newline already escaped (`\n` is two bytes in JSON).
const HUGE_LINE = Buffer.from('2000-01-01 00:00:00.000 INFO simulated huge log line, streamed chunk by chunk with backpressure\\n', 'latin1');
const LINES_PER_BLOCK = Math.floor(65536 / HUGE_LINE.length);
const HUGE_BLOCK = Buffer.concat(Array.from({ length: LINES_PER_BLOCK }, () => HUGE_LINE));
// Room for the `fromLine` number; JSON allows the spaces that pad it, which keeps the size exact.
const FROMLINE_WIDTH = 20;

/**
 * A `/log` envelope of exactly `totalBytes` bytes (or the smallest possible envelope if `totalBytes` is
 * smaller): `[ "", "", info, all ]` with identical info and all strings, generated on demand.
 */
export function hugeLogBody(method: string, execID: string, totalBytes: number, fromLine: number): Readable {
  const prefix = Buffer.from(
    `{"method":${JSON.stringify(method)},"status":0,"message":"OK","data":{"execID":${JSON.stringify(execID)},"log":["","","`,
  );
  const middle = Buffer.from('","');
  const fixed = prefix.length + middle.length + `"],"fromLine":`.length + FROMLINE_WIDTH + '}}'.length;
  const filler = Math.max(totalBytes - fixed, 0);
  const perString = Math.floor(filler / 2);
  const fullLines = Math.floor(perString / HUGE_LINE.length);
  const rest = perString % HUGE_LINE.length;
  const lines = fullLines + (rest > 0 ? 1 : 0);
  const number = String(Math.max(fromLine, 0) + lines).padEnd(FROMLINE_WIDTH, ' ');
  // An odd filler leaves one byte over: it becomes a space before the closing braces.
  const suffix = Buffer.from(`"],"fromLine":${number}${filler % 2 === 1 ? ' ' : ''}}}`);

  function* logString(): Generator<Buffer> {
    for (let i = 0; i < Math.floor(fullLines / LINES_PER_BLOCK); i++) yield HUGE_BLOCK;
    const tail = (fullLines % LINES_PER_BLOCK) * HUGE_LINE.length;
    if (tail > 0) yield HUGE_BLOCK.subarray(0, tail);
    if (rest > 0) yield Buffer.alloc(rest, 'x');
  }
  function* body(): Generator<Buffer> {
    yield prefix;
    yield* logString();
    yield middle;
    yield* logString();
    yield suffix;
  }
  // Readable.from pulls from the generator only when the socket has drained: that is the backpressure.
  return Readable.from(body(), { objectMode: false, highWaterMark: 65536 });
}
