// Failures of the operator runtime talking to the API server. `Expired` (HTTP 410 Gone) is not a fault
// but a signal: the resourceVersion or continue token is too old and the caller must list again.
import { BaseError } from '../errors.ts';

export type RuntimeErrorCode =
  | 'Expired'
  | 'Conflict'
  | 'NotFound'
  | 'Forbidden'
  | 'Unauthorized'
  | 'ApiError'
  | 'ConnectionFailed'
  | 'Timeout'
  | 'InvalidResponse'
  | 'Stopped';

export class RuntimeError extends BaseError<RuntimeErrorCode> {
  /** HTTP status of the API server's answer, when there was one. */
  readonly status: number | undefined;

  constructor(code: RuntimeErrorCode, message: string, details: { status?: number; cause?: unknown } = {}) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status;
  }
}

/** The error code for an HTTP status of the API server. */
export const codeForStatus = (status: number): RuntimeErrorCode => {
  switch (status) {
    case 401:
      return 'Unauthorized';
    case 403:
      return 'Forbidden';
    case 404:
      return 'NotFound';
    case 409:
      return 'Conflict';
    case 410:
      return 'Expired';
    default:
      return 'ApiError';
  }
};

export const isRuntimeError = (error: unknown, code?: RuntimeErrorCode): error is RuntimeError =>
  error instanceof RuntimeError && (code === undefined || error.code === code);
