/**
 * The one catalogue of answers the gateway makes itself. Each entry fixes the HTTP status, the Linkis
 * envelope status (LINKIS.md §3: -1 not logged in, 1 error, 2 validation failed, 3 no permission) and a
 * message a person can act on. Code that refuses a request names an entry; nothing invents statuses inline.
 */
export const ERROR_CATALOGUE = {
  NOT_FOUND: { http: 404, status: 1, message: 'The gateway does not serve this path' },
  METHOD_NOT_ALLOWED: { http: 405, status: 1, message: 'This path does not accept this HTTP method' },
  BAD_PATH: { http: 400, status: 1, message: 'The request path is malformed' },
  EXECID_MALFORMED: { http: 400, status: 1, message: 'The execID in the path is malformed' },
  INSTANCE_UNKNOWN: { http: 404, status: 1, message: 'The Entrance instance is not known to this gateway' },
  INSTANCE_PARAM_MISSING: { http: 400, status: 1, message: 'The query parameter "instance" (host:port) is required' },
  AUTH_MISSING: { http: 401, status: -1, message: 'Proxy-user credentials are missing' },
  AUTH_TOKEN_UNKNOWN: { http: 401, status: -1, message: 'The token (Validation-Code, Token-Code or login password) is not valid' },
  AUTH_USER_NOT_ALLOWED: { http: 403, status: 3, message: 'This token may not act as this user' },
  AUTH_USER_INVALID: { http: 412, status: 2, message: 'The user (Proxy-User, Token-User or login user name) is not a valid user name' },
  SESSION_ENDED: { http: 401, status: -1, message: 'The session has ended; log in again' },
  EXECUTE_USER_MISMATCH: { http: 403, status: 3, message: 'The submission names another user than the one the request is authenticated as' },
  BAD_HEADER: { http: 400, status: 1, message: 'A request header is malformed' },
  BODY_TOO_LARGE: { http: 413, status: 1, message: 'The request body is larger than the gateway accepts' },
  BODY_MALFORMED: { http: 400, status: 1, message: 'The request body is not valid JSON' },
  BODY_INVALID: { http: 400, status: 1, message: 'The request body does not have the shape this call needs' },
  BODY_ABORTED: { http: 400, status: 1, message: 'The client stopped sending the request body' },
  BODY_TOO_COMPLEX: { http: 413, status: 1, message: 'The submission is nested too deeply or has too many keys and array items' },
  BODY_ENCODING_UNSUPPORTED: { http: 415, status: 1, message: 'A submission must be UTF-8 JSON sent without Content-Encoding' },
  USER_NAME_UNSUPPORTED: { http: 412, status: 2, message: 'Linkis cannot run jobs for this user name' },
  CREATOR_INVALID: { http: 400, status: 1, message: 'The creator (labels.userCreator "user-creator", or requestApplicationName) must be 1 to 64 letters, digits or _' },
  NO_HEALTHY_UPSTREAM: { http: 503, status: 1, message: 'No Entrance instance is available for new jobs' },
  PUBLICSERVICE_NOT_CONFIGURED: { http: 503, status: 1, message: 'linkis-ps-publicservice is not configured on this gateway: set gateway.publicservice.instances' },
  PUBLICSERVICE_PREFIX_OFF: { http: 404, status: 1, message: 'This publicservice path is not enabled on this gateway (gateway.publicservice.prefixes)' },
  NO_HEALTHY_PUBLICSERVICE: { http: 503, status: 1, message: 'No linkis-ps-publicservice instance is available' },
  TASK_NOT_FOUND: { http: 404, status: 1, message: 'No such task in the job history of this user' },
  TASK_LOOKUP_FAILED: { http: 502, status: 1, message: 'The job history lookup for this task failed' },
  JOB_NOT_FOUND: { http: 404, status: 1, message: 'No such job for this user' },
  TASK_PARAM_INVALID: { http: 400, status: 1, message: 'A taskID named in the query or in taskIDList must be a task number, given once' },
  TASK_NOT_ROUTABLE: { http: 503, status: 1, message: 'The job history names no Entrance instance for this task yet; retry shortly' },
  UPSTREAM_REFUSED: { http: 503, status: 1, message: 'The Entrance refused the connection (is it running?)' },
  UPSTREAM_TIMEOUT: { http: 504, status: 1, message: 'The Entrance did not answer in time' },
  UPSTREAM_RESET: { http: 502, status: 1, message: 'The connection to the Entrance broke before it answered' },
  UPSTREAM_UNREACHABLE: { http: 502, status: 1, message: 'The Entrance address could not be reached' },
  UPSTREAM_BAD_ANSWER: { http: 502, status: 1, message: 'The Entrance answered with something that is not a Linkis answer' },
  RATE_LIMITED: { http: 429, status: 1, message: 'Too many requests; retry later' },
  CONCURRENCY_LIMITED: { http: 429, status: 1, message: 'Too many requests of this token and user, or of this client, are in progress at once; retry when one is done' },
  UPSTREAM_BUSY: { http: 503, status: 1, message: 'Every connection to this instance is in use; retry shortly' },
  REQUEST_TIMEOUT: { http: 408, status: 1, message: 'The client was too slow sending the request' },
  INTERNAL: { http: 500, status: 1, message: 'The gateway failed to handle this request' },
  // Admin listener (src/admin/): token allowlist administration.
  ADMIN_UNAUTHORIZED: { http: 401, status: -1, message: 'An admin credential is required (Authorization: Bearer <admin token>)' },
  ADMIN_CONFLICT: { http: 409, status: 1, message: 'proxy.properties changed since you read it; reload, check, and retry with the new ETag' },
  ADMIN_PRECONDITION_REQUIRED: { http: 428, status: 1, message: 'A change needs the If-Match header with the ETag of your last read' },
  TOKEN_NOT_FOUND: { http: 404, status: 1, message: 'No token in proxy.properties has this fingerprint' },
  ADMIN_VALIDATION: { http: 412, status: 2, message: 'The change was refused' },
  ADMIN_FILE_BUSY: { http: 503, status: 1, message: 'proxy.properties is locked by another writer; retry in a moment' },
  ADMIN_WRITE_FAILED: { http: 500, status: 1, message: 'proxy.properties could not be written' },
  ADMIN_STORE_UNAVAILABLE: { http: 503, status: 1, message: 'The shared allowlist store (Redis) cannot be used now; nothing was changed' },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** How an upstream connection failed, kept as `cause` so logs and metrics can tell them apart. */
export type UpstreamFailure = 'refused' | 'timeout' | 'connect-timeout' | 'reset' | 'unreachable' | 'other';

export class GatewayError extends Error {
  readonly http: number;
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    /** Specific detail appended to the catalogue message, e.g. which header is missing. */
    readonly detail?: string,
    readonly failure?: UpstreamFailure,
    options?: { cause?: unknown },
  ) {
    const entry = ERROR_CATALOGUE[code];
    super(detail ? `${entry.message}: ${detail}` : entry.message, options);
    this.http = entry.http;
    this.status = entry.status;
  }
}

/**
 * Classifies a socket-level error from an upstream request into the catalogue: Node's socket errors, the
 * gateway's own timers (GW_*), and undici's codes (UND_ERR_*: the forwarder's client). The error itself
 * stays the GatewayError's `cause`.
 */
export function classifyUpstreamError(err: NodeJS.ErrnoException): { code: ErrorCode; failure: UpstreamFailure } {
  switch (err.code) {
    case 'ECONNREFUSED':
      return { code: 'UPSTREAM_REFUSED', failure: 'refused' };
    case 'GW_CONNECT_TIMEOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return { code: 'UPSTREAM_TIMEOUT', failure: 'connect-timeout' };
    case 'ETIMEDOUT':
    case 'GW_RESPONSE_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return { code: 'UPSTREAM_TIMEOUT', failure: 'timeout' };
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
    // undici: the socket closed or failed under a request ("other side closed"), or the answer ended
    // before its Content-Length.
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
      return { code: 'UPSTREAM_RESET', failure: 'reset' };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return { code: 'UPSTREAM_UNREACHABLE', failure: 'unreachable' };
    default:
      return { code: 'UPSTREAM_RESET', failure: 'other' };
  }
}
