// Reconcile errors typed by what should happen next (as Flux's stalling / waiting / generic errors):
// Stalled = the spec or a referenced object must change, no retry; Waiting = retry after a delay without
// counting it as a failure; Generic = event + exponential backoff.
import { BaseError } from '../errors.ts';

export type ReconcileErrorKind = 'Stalled' | 'Waiting' | 'Generic';

export class ReconcileError extends BaseError<ReconcileErrorKind> {
  /** PascalCase reason for the conditions and the Event. */
  readonly reason: string;
  readonly retryAfterMs: number | undefined;

  constructor(
    kind: ReconcileErrorKind,
    reason: string,
    message: string,
    options: { cause?: unknown; retryAfterMs?: number } = {},
  ) {
    super(kind, message, { cause: options.cause });
    this.reason = reason;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export const stalled = (reason: string, message: string, cause?: unknown): ReconcileError =>
  new ReconcileError('Stalled', reason, message, { cause });

export const waiting = (
  reason: string,
  message: string,
  retryAfterMs: number,
  cause?: unknown,
): ReconcileError => new ReconcileError('Waiting', reason, message, { cause, retryAfterMs });
