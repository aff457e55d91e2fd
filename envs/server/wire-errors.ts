/** Session errors as HTTP answers: FastAPI's 422 with a pydantic-style `detail` list, 409, 500. */
import { HttpError } from '../core/http.js';
import type { ValidationDetail, WireErrorCode } from './session.js';
import { SessionError } from './session.js';

/** Runs a session call over HTTP: a SessionError becomes 422 (validation) or 409/500. */
export function sessionCall<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (!(err instanceof SessionError)) throw err;
    const status = err.code === 'VALIDATION_ERROR' ? 422 : err.code === 'SESSION_ERROR' ? 409 : 500;
    throw new WireHttpError(status, err.message, err.code, err.errors);
  }
}

/** An HTTP error carrying FastAPI's `detail` list. */
export class WireHttpError extends HttpError {
  constructor(
    status: number,
    message: string,
    readonly wireCode: WireErrorCode,
    readonly detail: ValidationDetail[],
  ) {
    super(status, message, null, wireCode);
  }
}
