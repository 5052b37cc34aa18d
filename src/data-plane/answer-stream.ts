/**
 * A success answer too large to read whole (logs can be hundreds of megabytes), passed on as it comes.
 * It started like an envelope (its first non-space byte is `{`, checked by the caller); it must also end
 * like one. So the latest chunk is always held back: when the Entrance is done, the held chunk goes out
 * only if the answer's last non-space byte is `}`. Otherwise the client's connection is cut before it,
 * and the client sees a truncated answer (an error), never a clean success that is not a Linkis answer.
 *
 * Back-pressure: push returns false when the client's socket is full; `resume` is called (a microtask
 * after 'drain') for the caller's upstream to go on reading. At most one write per push: a second write
 * after a full socket makes Node emit 'drain' inside it (see log-streams-process.test.ts).
 */
import type { ServerResponse } from 'node:http';
import { isJsonSpace } from './envelope-shape';

const CLOSE_BRACE = 0x7d;

export class StreamedAnswer {
  private held: Buffer | null = null;
  private lastNonSpace = 0;
  private waitingForDrain = false;
  private onDrain: (() => void) | null = null;

  constructor(
    private readonly res: ServerResponse,
    private readonly resume: () => void,
  ) {}

  /** Takes the next chunk, sending the one held before it; false: wait for resume. */
  push(chunk: Buffer): boolean {
    // The client is gone: nothing more is written (the response's 'close' ends the upstream request).
    if (this.res.destroyed) return false;
    for (let i = chunk.length - 1; i >= 0; i--) {
      if (!isJsonSpace(chunk[i]!)) {
        this.lastNonSpace = chunk[i]!;
        break;
      }
    }
    const before = this.held;
    this.held = chunk;
    return before === null || this.write(before);
  }

  /** The Entrance is done: true when the answer ended like an envelope and went out whole. */
  finish(): boolean {
    if (this.lastNonSpace !== CLOSE_BRACE) {
      this.res.destroy();
      return false;
    }
    this.res.end(this.held ?? undefined);
    return true;
  }

  private write(chunk: Buffer): boolean {
    if (this.res.write(chunk)) return true;
    if (!this.waitingForDrain) {
      this.waitingForDrain = true;
      // Node may emit 'drain' synchronously inside another response's write (pipelined requests on one
      // client connection), and so inside another undici parser's callback: undici's resume must not
      // run there (one parser executes at a time), hence a microtask later.
      this.onDrain ??= () => {
        this.waitingForDrain = false;
        queueMicrotask(this.resume);
      };
      this.res.once('drain', this.onDrain);
    }
    return false;
  }
}
