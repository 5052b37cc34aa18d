/**
 * One GET to a service registry: Node's fetch under a deadline that covers the whole answer, the body
 * bounded, credentials from the URL moved into a header (fetch refuses URLs that carry them, and Eureka's
 * defaultZone often does: `http://user:pass@host:20303/eureka/`).
 */
import { redactUrl } from './discovery-config';

export interface RegistryAnswer {
  status: number;
  /** Parsed JSON for a 2xx answer; undefined otherwise. */
  body: unknown;
}

const MAX_BYTES = 16 * 1024 * 1024;

export class RegistryError extends Error {}

export async function getJson(url: string, timeoutMs: number): Promise<RegistryAnswer> {
  const u = new URL(url);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (u.username) {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
    u.username = '';
    u.password = '';
  }
  const where = redactUrl(url);
  let res: Response;
  try {
    res = await fetch(u, { headers, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  } catch (err) {
    throw new RegistryError(`${where}: ${reason(err, timeoutMs)}`);
  }
  if (res.status < 200 || res.status > 299) {
    await res.body?.cancel().catch(() => undefined);
    return { status: res.status, body: undefined };
  }
  try {
    const bytes = await readBounded(res);
    return { status: res.status, body: JSON.parse(bytes.toString('utf8')) };
  } catch (err) {
    throw new RegistryError(`${where}: ${err instanceof SyntaxError ? 'the answer is not JSON' : reason(err, timeoutMs)}`);
  }
}

async function readBounded(res: Response): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = res.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks);
    size += value.byteLength;
    if (size > MAX_BYTES) {
      await reader.cancel();
      throw new Error(`the answer is larger than ${MAX_BYTES} bytes`);
    }
    chunks.push(Buffer.from(value));
  }
}

function reason(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
}
