/**
 * winston, JSON lines by default (what log shippers want) or human-readable in a terminal.
 */
import winston from 'winston';
import type { GatewayConfig } from '../control-plane/config';

/** `auto` means pretty for a person at a terminal, JSON for everything else. */
export function isPretty(log: GatewayConfig['log'], isTTY: boolean | undefined = process.stdout.isTTY): boolean {
  return log.format === 'pretty' || (log.format === 'auto' && !!isTTY);
}

/**
 * `worker`: with gateway.workers > 1, written on every line (0 for the supervising primary, 1, 2, ... for
 * the workers, a replacement taking the next number), so lines from N processes on one stdout can be told
 * apart and followed. A single process writes none.
 */
export function createLogger(log: GatewayConfig['log'], opts: { isTTY?: boolean; stream?: NodeJS.WritableStream; worker?: number } = {}): winston.Logger {
  const pretty = isPretty(log, opts.isTTY ?? process.stdout.isTTY);
  const format = pretty
    ? winston.format.combine(
        winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
        winston.format.printf(({ timestamp, level, message, ...rest }) => {
          const fields = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
          return `${timestamp} ${level.padEnd(5)} ${message} ${fields.join(' ')}`.trimEnd();
        }),
      )
    : winston.format.combine(winston.format.timestamp(), winston.format.json());
  const transport = opts.stream ? new winston.transports.Stream({ stream: opts.stream }) : new winston.transports.Console();
  return winston.createLogger({ level: log.level, format, transports: [transport], defaultMeta: opts.worker === undefined ? undefined : { worker: opts.worker } });
}
