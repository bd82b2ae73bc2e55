// Failures of holding and releasing, by what the caller should do: UnsupportedTarget, InvalidDigest and
// InvalidVersion (a pin value that is not a digest / not an exact version) are
// programming or spec errors; TargetNotFound and InvalidHoldRecord need a person; Conflict is retried
// here and only surfaces when the target keeps changing; ApiError wraps the API server's answer.
import { BaseError } from '../errors.ts';

export type EnforceErrorCode =
  | 'UnsupportedTarget'
  | 'InvalidDigest'
  | 'InvalidVersion'
  | 'TargetNotFound'
  | 'InvalidHoldRecord'
  | 'Conflict'
  | 'ApiError';

export class EnforceError extends BaseError<EnforceErrorCode> {}

export const isEnforceError = (error: unknown, code?: EnforceErrorCode): error is EnforceError =>
  error instanceof EnforceError && (code === undefined || error.code === code);
