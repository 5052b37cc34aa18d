/**
 * Rate limits: per client address before authentication (cheap protection against floods and token
 * guessing), and per token + effective user after it (one system account cannot starve the others).
 *
 * Two engines with one meaning (a fixed window per key that opens at the key's first hit):
 * - in memory (the default), a synchronous counter with express-rate-limit MemoryStore's semantics
 *   (window-counter.ts; exact, < 1 µs, where express-rate-limit's async path cost ~10 µs per limiter);
 * - with Redis, so that workers and replicas share one limit, express-rate-limit with rate-limit-redis on
 *   every request: exact across replicas, and the Redis round trip dwarfs its cost anyway. A store failure
 *   lets requests through (and is logged): an outage of Redis must not become an outage of Linkis.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { rateLimit } from 'express-rate-limit';
import { createWindowCounter, type WindowCounter } from './window-counter';
import { boundedCommands, createResilientRedisStore, withDeadline } from './redis-store';
import { createClient } from 'redis';
import type { Logger } from 'winston';
import proxyAddr from 'proxy-addr';
import { contextOf } from './context';
import { GatewayError } from '../linkis/errors';
import type { Middleware, Next } from './pipeline';

/** Longest wait for one Redis command before the request is let through unlimited. */
const STORE_TIMEOUT_MS = 1000;
/** How long start-up waits for Redis before serving without limits (and counting once it answers). */
const START_WAIT_MS = 2000;

export interface RateLimitOptions {
  windowMs: number;
  /** Requests per window per client address; 0 turns this limit off. */
  perClient: number;
  /** Requests per window per token and user; 0 turns this limit off. */
  perUser: number;
  /** Addresses/CIDRs (or proxy-addr keywords like "loopback") whose X-Forwarded-For is believed. */
  trustProxy: string[];
  redisUrl?: string;
}

export interface RateLimits {
  /** Before auth: sets ctx.clientAddress, then limits per address. */
  perClient: Middleware;
  /** After auth: limits per token fingerprint and user. */
  perUser: Middleware;
  close(): Promise<void>;
}

export async function createRateLimits(opts: RateLimitOptions, deps: { logger: Logger; onLimited: (scope: 'client' | 'user') => void }): Promise<RateLimits> {
  // Explicit trust: with none configured the socket address is used and X-Forwarded-For is ignored,
  // so a forged header cannot make a client look like someone else.
  const trust = proxyAddr.compile(opts.trustProxy);
  // No offline queue, and every command raced by a timer of our own (node-redis's command timeout does not
  // cover a command already written to a hung Redis): while Redis is down or stuck a count fails within
  // STORE_TIMEOUT_MS, so passOnStoreError lets the request through instead of holding it until Redis is back.
  const redis = opts.redisUrl ? createClient({ url: opts.redisUrl, disableOfflineQueue: true }) : undefined;
  const commands = redis ? boundedCommands((...args: string[]) => redis.sendCommand(args), STORE_TIMEOUT_MS) : undefined;
  if (redis) {
    redis.on('error', (err: Error) => deps.logger.warn('rate limit store error', { event: 'ratelimit.store', error: err.message }));
    // Start without Redis if it does not answer soon: while it is away requests pass unlimited (logged),
    // and counting starts when it answers. A gateway that cannot start because Redis is down would turn
    // a Redis outage into a Linkis outage.
    const connecting = redis.connect().then(
      () => true,
      (err: Error) => {
        deps.logger.error('rate limit store unreachable', { event: 'ratelimit.store.down', error: err.message });
        return false;
      },
    );
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), START_WAIT_MS)));
    const connected = await Promise.race([connecting, waited]);
    clearTimeout(timer);
    if (!connected) deps.logger.error(`rate limit store not reachable within ${START_WAIT_MS} ms; limits are off until it answers`, { event: 'ratelimit.store.down' });
  }
  const counters: WindowCounter[] = [];

  // express-rate-limit logs every request it lets through while the store fails (a stack trace each, on
  // the console by default): one structured line per 10 s says the same.
  let lastStoreError = 0;
  const storeLogger = {
    error(err: unknown, message?: string) {
      if (Date.now() - lastStoreError < 10_000) return;
      lastStoreError = Date.now();
      deps.logger.warn(message ?? 'rate limit store error', { event: 'ratelimit.store', error: err instanceof Error ? err.message : String(err) });
    },
    warn(err: unknown, message?: string) {
      storeLogger.error(err, message);
    },
  };

  const refuse = (scope: 'client' | 'user', limit: number, res: ServerResponse, next: Next, seconds: number) => {
    res.setHeader('Retry-After', String(seconds));
    deps.onLimited(scope);
    next(new GatewayError('RATE_LIMITED', `limit ${limit} per ${opts.windowMs / 1000} s per ${scope === 'client' ? 'client address' : 'token and user'}; retry in ${seconds} s`));
  };

  const limiter = (scope: 'client' | 'user', limit: number, key: (req: IncomingMessage) => string): Middleware => {
    if (limit <= 0) return (_req, _res, next) => next();
    if (!commands) {
      const counter = createWindowCounter(opts.windowMs);
      counters.push(counter);
      return (req, res, next) => {
        const { totalHits, resetAt } = counter.hit(key(req));
        if (totalHits <= limit) return next();
        refuse(scope, limit, res, next, Math.max(1, Math.ceil((resetAt - Date.now()) / 1000)));
      };
    }
    const mw = rateLimit({
      windowMs: opts.windowMs,
      limit,
      standardHeaders: false,
      legacyHeaders: false,
      passOnStoreError: true,
      validate: false,
      logger: storeLogger,
      store: createResilientRedisStore(`lgw:rl:${scope}:`, commands, STORE_TIMEOUT_MS),
      keyGenerator: (req) => key(req as unknown as IncomingMessage),
      handler: (req, res, next) => {
        const reset = (req as unknown as { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
        refuse(scope, limit, res as unknown as ServerResponse, next, reset ? Math.max(1, Math.ceil((reset.getTime() - Date.now()) / 1000)) : Math.ceil(opts.windowMs / 1000));
      },
    });
    return mw as unknown as Middleware;
  };

  const clientLimiter = limiter('client', opts.perClient, (req) => contextOf(req).clientAddress!);
  return {
    perClient: (req, res, next) => {
      // With no trusted proxy, proxy-addr's answer is the socket's address: skip parsing X-Forwarded-For.
      contextOf(req).clientAddress = opts.trustProxy.length === 0 ? req.socket.remoteAddress : proxyAddr(req, trust);
      clientLimiter(req, res, next);
    },
    perUser: limiter('user', opts.perUser, (req) => {
      const ctx = contextOf(req);
      return `${ctx.tokenFingerprint}|${ctx.user}`;
    }),
    async close() {
      for (const c of counters) c.close();
      commands?.close();
      // QUIT needs a live connection, and a hung Redis never answers it: bounded like every other command.
      if (redis?.isReady) await withDeadline(redis.quit(), STORE_TIMEOUT_MS, 'Redis').catch(() => undefined);
      if (redis?.isOpen) redis.destroy();
    },
  };
}
