/**
 * The one Redis connection through which replicas share state (gateway.allowlist.store=redis): the
 * allowlist (redis-allowlist.ts), logouts and admin draining (redis-sessions.ts). Each part keeps its state
 * in memory, so no request waits for Redis, and follows Redis two ways: a writer PUBLISHes the part's name
 * on one channel (a replica applies the change at once), and every `checkMs` one MGET reads every part's
 * version key, so a message lost while the subscriber reconnected delays a change by one check, not forever.
 *
 * Every command is bounded by a timer that really fires (boundedCommands, as for the rate limits): a hung
 * Redis costs a check one deadline, never a stuck follower. While Redis cannot be read every part keeps
 * what it had (fail-static, never fail-open); healthy() says so for /ready and the log says it once.
 */
import type { Logger } from 'winston';
import { createClient } from 'redis';
import { boundedCommands, withDeadline, type SendCommand } from './redis-commands';

/** Longest wait for one Redis command (a check, a write). */
export const SHARED_TIMEOUT_MS = 1000;

export interface SharedPart {
  /** Also the message published when it changes. */
  name: string;
  versionKey: string;
  /** Brings the part up to `version` (null: the key is absent). Throws to say the part is not in sync. */
  sync(version: string | null): Promise<void>;
}

export interface SharedRedis {
  /** Bounded commands (fail at once while Redis is taken to be hung). */
  send: SendCommand;
  prefix: string;
  /** The channel writers PUBLISH a part's name on (inside their script, so a write and its message are one step). */
  channel: string;
  register(part: SharedPart): void;
  /** Checks every part now; resolves true when all are in sync with Redis. */
  check(): Promise<boolean>;
  /** The first check, once connected or after `waitMs` (then the parts start empty and keep trying). */
  start(waitMs: number): Promise<boolean>;
  healthy(): boolean;
  /** Why not healthy, for /ready's detail and the log. */
  problem(): string | undefined;
  close(): Promise<void>;
}

export interface SharedRedisOptions {
  url: string;
  prefix: string;
  checkMs: number;
  logger: Logger;
  timeoutMs?: number;
}

export function connectSharedRedis(opts: SharedRedisOptions): SharedRedis {
  const { logger, prefix } = opts;
  const timeoutMs = opts.timeoutMs ?? SHARED_TIMEOUT_MS;
  const channel = `${prefix}changed`;
  // No offline queue: a command while Redis is away fails at once instead of waiting for a reconnect.
  const client = createClient({ url: opts.url, disableOfflineQueue: true, socket: { connectTimeout: timeoutMs, reconnectStrategy: (n) => Math.min(100 * 2 ** n, 1000) } });
  const sub = client.duplicate();
  // Errors are reported once, as a change of health below; node-redis reconnects by itself.
  client.on('error', () => undefined);
  sub.on('error', () => undefined);
  const commands = boundedCommands((...args: string[]) => client.sendCommand(args), timeoutMs);
  const parts: SharedPart[] = [];
  const seen = new Map<string, string | null>();
  let problem: string | undefined = 'not read yet';
  let reported: string | undefined;
  let closed = false;

  const setHealth = (next: string | undefined) => {
    problem = next;
    if (next === reported) return;
    if (next) logger.error(`shared store (Redis) not usable: ${next}; keeping the allowlist, logouts and draining this replica had (fail-static)`, { event: 'shared.store.unreachable', error: next });
    else logger.info('shared store (Redis) in sync again', { event: 'shared.store.recovered', was: reported });
    reported = next;
  };

  const checkOnce = async (): Promise<boolean> => {
    if (parts.length === 0) return true;
    try {
      const versions = (await commands.send('MGET', ...parts.map((p) => p.versionKey))) as Array<string | null>;
      for (const [i, part] of parts.entries()) {
        const v = versions[i] ?? null;
        if (seen.has(part.name) && seen.get(part.name) === v) continue;
        await part.sync(v);
        seen.set(part.name, v);
      }
      setHealth(undefined);
      return true;
    } catch (err) {
      setHealth((err as Error).message);
      return false;
    }
  };
  // One check at a time, and at most one waiting: a check waiting to start covers every later request too.
  let queue: Promise<boolean> = Promise.resolve(true);
  let waiting: Promise<boolean> | null = null;
  const check = (): Promise<boolean> => {
    if (closed) return Promise.resolve(false);
    if (waiting) return waiting;
    const next = queue.then(() => {
      waiting = null;
      return checkOnce();
    });
    waiting = next;
    queue = next;
    return next;
  };

  // Both connections retry forever in the background: the gateway starts (fail-static) without Redis.
  const connected = client.connect().then(
    () => true,
    () => false,
  );
  void sub
    .connect()
    .then(() => sub.subscribe(channel, () => void check()))
    .catch(() => undefined);
  // After a reconnect messages may have been missed: check at once rather than at the next tick.
  sub.on('ready', () => void check());
  const timer = setInterval(() => void check(), opts.checkMs);
  timer.unref();

  return {
    send: commands.send,
    prefix,
    channel,
    register: (part) => void parts.push(part),
    check,
    async start(waitMs) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([connected, new Promise((ok) => (timer = setTimeout(ok, waitMs)))]);
      clearTimeout(timer);
      return check();
    },
    healthy: () => problem === undefined,
    problem: () => problem,
    async close() {
      closed = true;
      clearInterval(timer);
      commands.close();
      for (const c of [sub, client]) {
        // QUIT needs a live connection, and a hung Redis never answers it: bounded like every other command.
        if (c.isReady) await withDeadline(c.quit(), timeoutMs, 'Redis').catch(() => undefined);
        if (c.isOpen) c.destroy();
      }
    },
  };
}

/**
 * A plain bounded connection for a one-shot client (the CLI's direct mode): no subscriber, no checks.
 * Commands wait for the connection up to `timeoutMs` once, then fail like any command.
 */
export function connectRedisCommands(url: string, timeoutMs = SHARED_TIMEOUT_MS * 3): { send: SendCommand; close(): Promise<void> } {
  const client = createClient({ url, disableOfflineQueue: true, socket: { connectTimeout: timeoutMs, reconnectStrategy: false } });
  client.on('error', () => undefined);
  const connected = withDeadline(client.connect(), timeoutMs, `Redis at ${url.replace(/\/\/[^@/]*@/, '//')}`);
  connected.catch(() => undefined);
  const commands = boundedCommands((...args: string[]) => client.sendCommand(args), timeoutMs);
  return {
    send: async (...args) => {
      await connected;
      return commands.send(...args);
    },
    async close() {
      commands.close();
      if (client.isReady) await withDeadline(client.quit(), timeoutMs, 'Redis').catch(() => undefined);
      if (client.isOpen) client.destroy();
    },
  };
}
