/**
 * What a broken upstream sends instead of an envelope. Each is a shape seen in front of real Entrances:
 * a proxy's HTML 502 page, Spring Boot's own error JSON when a request dies before Linkis's code runs,
 * bytes that are not JSON at all, a connection cut mid-body, or no answer.
 */
import type { ServerResponse } from 'node:http';

export type FaultMode = 'normal' | 'hang' | 'garbage' | 'html-error' | 'spring-error' | 'die-mid-response';

export const FAULT_MODES: readonly FaultMode[] = ['normal', 'hang', 'garbage', 'html-error', 'spring-error', 'die-mid-response'];

// Starts like an envelope and then is not JSON, with a NUL and invalid UTF-8 bytes: a parser that only
// sniffs the first bytes, or trusts the content type, is caught out.
const GARBAGE = Buffer.concat([
  Buffer.from('{"method":"/api/rest_j/v1/entrance/', 'utf8'),
  Buffer.from([0x00, 0xff, 0xfe, 0xc3, 0x28]),
  Buffer.from(' <<not json>> \r\n', 'utf8'),
]);

const HTML_502 =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n' +
  '<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

/** Spring Boot's timestamp style: ISO-8601 with a `+00:00` offset. */
function springTimestamp(): string {
  return new Date().toISOString().replace('Z', '+00:00');
}

function write(res: ServerResponse, httpStatus: number, contentType: string, body: Buffer): void {
  res.writeHead(httpStatus, { 'content-type': contentType, 'content-length': body.length });
  res.end(body);
}

/** Answers with the fault for `mode`; returns false for the modes the normal handlers carry out. */
export function answerFault(mode: FaultMode, res: ServerResponse, path: string): boolean {
  switch (mode) {
    case 'hang':
      // Never answered: the socket stays open until the client gives up or the simulator closes.
      return true;
    case 'garbage':
      // Claims JSON on purpose: the content type of a broken upstream cannot be trusted either.
      write(res, 200, 'application/json;charset=UTF-8', GARBAGE);
      return true;
    case 'html-error':
      write(res, 502, 'text/html', Buffer.from(HTML_502, 'utf8'));
      return true;
    case 'spring-error': {
      const body = JSON.stringify({ timestamp: springTimestamp(), status: 500, error: 'Internal Server Error', path });
      write(res, 500, 'application/json', Buffer.from(body, 'utf8'));
      return true;
    }
    case 'normal':
    case 'die-mid-response':
      // die-mid-response runs the real handler (so a submit really creates its job) and cuts the answer.
      return false;
  }
}
