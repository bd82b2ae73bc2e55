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

/** Which deadline a Timeout hit: the idle timeouts (connect, headers, a pause in the body), one request's
 * overall deadline, or one operation's (a resolve, a fetch, a signature lookup). */
export type Deadline = 'idle' | 'request' | 'operation';

export class RegistryError extends BaseError<RegistryErrorCode> {
  /** The registry host the error came from, if any. */
  readonly host: string | undefined;
  /** HTTP status, when the error is an HTTP answer. */
  readonly status: number | undefined;
  /** Delay the registry asked for (Retry-After), in milliseconds. */
  readonly retryAfterMs: number | undefined;
  /** For a Timeout: which deadline ran out. */
  readonly deadline: Deadline | undefined;

  constructor(
    code: RegistryErrorCode,
    message: string,
    details: {
      host?: string;
      status?: number;
      retryAfterMs?: number;
      deadline?: Deadline;
      cause?: unknown;
    } = {},
  ) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.host = details.host;
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
    this.deadline = details.deadline;
  }

  /** True for failures worth retrying later: the same request may succeed. */
  get transient(): boolean {
    return TRANSIENT.has(this.code);
  }
}

export const isRegistryError = (error: unknown, code?: RegistryErrorCode): error is RegistryError =>
  error instanceof RegistryError && (code === undefined || error.code === code);
