/**
 * An admin refusal: a catalogue entry (src/errors.ts) plus data a client can act on, e.g. the current
 * ETag with a conflict, or the file's problems with a validation error. Details never quote tokens.
 */
import { GatewayError, type ErrorCode } from '../linkis/errors';

export class AdminError extends GatewayError {
  constructor(
    code: ErrorCode,
    detail?: string,
    /** Extra fields for the envelope's `data`. */
    readonly data: Record<string, unknown> = {},
  ) {
    super(code, detail);
  }
}
