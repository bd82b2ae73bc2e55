// Registry failures, typed by what the caller should do next: transient ones (5xx, 429, timeouts,
// resets) are retried with backoff; permanent ones are reported. Messages name the registry host and
// never a credential.
import { BaseError } from '../errors.ts';

export type RegistryErrorCode =
  | 'InvalidReference'
  | 'NotFound'
  | 'Unauthorized'
  | 'Denied'
  | 'DigestMismatch'
  | 'TooLarge'
  | 'InvalidResponse'
  | 'Unsupported'
  | 'RateLimited'
  | 'Unavailable'
  | 'Timeout'
  | 'ConnectionFailed'
  | 'TlsFailure';

const TRANSIENT: ReadonlySet<RegistryErrorCode> = new Set([
  'RateLimited',
  'Unavailable',
  'Timeout',
  'ConnectionFailed',
]);

export class RegistryError extends BaseError<RegistryErrorCode> {
  /** The registry host the error came from, if any. */
  readonly host: string | undefined;
  /** HTTP status, when the error is an HTTP answer. */
  readonly status: number | undefined;
  /** Delay the registry asked for (Retry-After), in milliseconds. */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: RegistryErrorCode,
    message: string,
    details: { host?: string; status?: number; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.host = details.host;
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
  }

  /** True for failures worth retrying later: the same request may succeed. */
  get transient(): boolean {
    return TRANSIENT.has(this.code);
  }
}

export const isRegistryError = (error: unknown, code?: RegistryErrorCode): error is RegistryError =>
  error instanceof RegistryError && (code === undefined || error.code === code);
