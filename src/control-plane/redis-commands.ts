/**
 * Redis commands that cannot hang: every call races a timer of its own, because node-redis's per-command
 * `timeout` only covers commands not yet written to the socket, and a written command waits as long as a
 * hung Redis (stopped, partitioned: the TCP connection stays up, no reply ever comes) does. Used by the rate
 * limits (data-plane/redis-store.ts) and by the shared store (redis-shared.ts).
 */
export type SendCommand = (...args: string[]) => Promise<unknown>;

/** Rejects with a timeout error when `work` has not settled within `ms`; the timer really fires. */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_ok, fail) => {
    timer = setTimeout(() => fail(Object.assign(new Error(`${what} did not answer within ${ms} ms`), { code: 'GW_STORE_TIMEOUT' })), ms);
  });
  // The loser of the race must not become an unhandled rejection.
  work.catch(() => undefined);
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

export interface BoundedCommands {
  send: SendCommand;
  /** True while Redis is taken to be hung (commands fail at once). */
  stalled(): boolean;
  /** A caller's own deadline on Redis passed: the same as a command missing its deadline. */
  missed(): void;
  close(): void;
}

/**
 * Every command bounded by `timeoutMs`. After a command misses its deadline, commands fail at once
 * (no request waits, nothing piles up in the client's queue) while a PING every `probeMs` asks whether
 * Redis answers again; the first answer from Redis, the PING's or a late reply, ends the stall.
 */
export function boundedCommands(send: SendCommand, timeoutMs: number, probeMs = timeoutMs): BoundedCommands {
  let stalled = false;
  let closed = false;
  let probe: NodeJS.Timeout | undefined;
  const answered = () => {
    stalled = false;
    clearTimeout(probe);
    probe = undefined;
  };
  const scheduleProbe = () => {
    if (closed || probe) return;
    probe = setTimeout(() => {
      probe = undefined;
      if (!stalled || closed) return;
      withDeadline(send('PING'), timeoutMs, 'Redis').then(answered, () => scheduleProbe());
    }, probeMs);
    probe.unref(); // a probe must not keep a shutting-down process alive
  };
  const timedOut = () => {
    stalled = true;
    scheduleProbe();
  };
  return {
    send(...args) {
      if (stalled) return Promise.reject(Object.assign(new Error(`Redis missed its ${timeoutMs} ms deadline; not waiting for it until it answers a PING`), { code: 'GW_STORE_STALLED' }));
      const sent = send(...args);
      sent.then(answered, () => undefined);
      const bounded = withDeadline(sent, timeoutMs, 'Redis');
      bounded.catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'GW_STORE_TIMEOUT') timedOut();
      });
      return bounded;
    },
    stalled: () => stalled,
    missed: timedOut,
    close() {
      closed = true;
      clearTimeout(probe);
    },
  };
}
