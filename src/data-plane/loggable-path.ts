/**
 * The path an access line records. A client that put a secret into its path by mistake (a
 * `;validationCode=` parameter, an encoded `?` before its query, its token as a path segment) must not
 * have it logged; the query itself is never logged. Pure: the secret probe is handed in.
 */

export const REDACTED_IN_PATH = '[redacted]';

/** A secret-named parameter inside the path itself: the value goes, the name stays (it says what happened). */
const SECRET_PARAM = /((?:validation|token)[-_]?code|passw(?:or)?d|secret)(=|%3D)([^&;/?#]*)/gi;
const MAY_NAME_A_SECRET = /code|passw|secret/i;
/** Pieces of a path between separators: what a pasted token would be (one holding a separator, pasted unencoded, is not found). */
const PIECE = /[^/;=&,]{1,512}/g;
/** Hashing every piece of a refused request is bounded: a long hostile path must not cost much. */
const MAX_PIECES = 64;

/**
 * `refused`: the request was refused or failed (HTTP 400 and above). Only then are the path's pieces
 * compared with the configured tokens (each comparison hashes): a forwarded path that an Entrance
 * answered with success is one of the routes the gateway knows, made of ids and names.
 */
export function loggablePath(path: string, refused: boolean, isSecret: (value: string) => boolean): string {
  let out = MAY_NAME_A_SECRET.test(path) ? path.replace(SECRET_PARAM, (_m, name: string, eq: string) => `${name}${eq}${REDACTED_IN_PATH}`) : path;
  if (!refused) return out;
  let pieces = 0;
  out = out.replace(PIECE, (piece) => {
    if (++pieces > MAX_PIECES || piece === REDACTED_IN_PATH) return piece;
    return isSecret(piece) || (piece.includes('%') && isSecret(decoded(piece))) ? REDACTED_IN_PATH : piece;
  });
  return out;
}

function decoded(piece: string): string {
  try {
    return decodeURIComponent(piece);
  } catch {
    return piece;
  }
}
