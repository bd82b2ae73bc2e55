// Errors of the verification layer that are the policy's fault (missing trust material, unparsable keys
// or roots): stalling errors — retrying will not help until the spec or its Secret / ConfigMap changes.
import { BaseError } from '../errors.ts';

export type TrustPolicyErrorCode =
  'MaterialMissing' | 'InvalidKey' | 'InvalidTrustedRoot' | 'InvalidCertificate' | 'InvalidIdentityPattern';

export class TrustPolicyError extends BaseError<TrustPolicyErrorCode> {
  /** The signer entry the error is about. */
  readonly signer: string | undefined;

  constructor(code: TrustPolicyErrorCode, message: string, signer?: string, options?: { cause?: unknown }) {
    super(code, signer === undefined ? message : `signer "${signer}": ${message}`, options);
    this.signer = signer;
  }
}
