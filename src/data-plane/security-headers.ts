/**
 * helmet's headers for the answers the gateway makes itself (errors, health). Computed once by running
 * helmet against a stub response: the data plane then adds a constant object instead of running helmet
 * per request. Entrance answers pass with their own headers, untouched.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';

export function helmetHeaders(): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const stub = {
    setHeader: (name: string, value: unknown) => void (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
    getHeader: (name: string) => headers[name.toLowerCase()],
  } as unknown as ServerResponse;
  let ran = false;
  helmet()({ headers: {} } as IncomingMessage, stub, () => (ran = true));
  if (!ran) throw new Error('helmet did not complete synchronously');
  return Object.freeze(headers);
}
