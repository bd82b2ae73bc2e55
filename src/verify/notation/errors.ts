// Why a Notary Project envelope, certificate chain or trust policy was refused. The verifier maps these
// codes onto the reasons of docs/verification.md#reason-codes; tests assert the codes.
import { BaseError } from '../../errors.ts';

export type NotationErrorCode =
  /** The envelope is not a well-formed JWS / COSE_Sign1 of the Notary Project shape. */
  | 'MalformedEnvelope'
  /** Bigger than the envelope, chain or nesting limits. */
  | 'EnvelopeTooLarge'
  /** Neither application/jose+json nor application/cose. */
  | 'UnsupportedMediaType'
  /** alg is not one of PS256/384/512, ES256/384/512 (or the COSE labels for them). */
  | 'UnsupportedAlgorithm'
  /** alg does not match the signing certificate's key type and size. */
  | 'AlgorithmMismatch'
  /** A header listed in crit that this verifier does not understand. */
  | 'UnknownCriticalHeader'
  /** A header that must be critical is not, or crit names a header that is absent. */
  | 'CriticalHeaderMismatch'
  /** The signature needs a Notation verification plugin, which tagguard does not run. */
  | 'VerificationPluginRequired'
  | 'InvalidSigningScheme'
  | 'InvalidSigningTime'
  /** Content type or payload is not a Notary Project descriptor payload. */
  | 'InvalidPayload'
  | 'MalformedCertificate'
  /** The x5c / x5chain is not a valid code-signing chain (spec: certificate requirements). */
  | 'InvalidCertificateChain'
  /** The signature does not verify with the signing certificate's key. */
  | 'SignatureMismatch'
  /** An RFC 3161 timestamp countersignature that does not verify. */
  | 'InvalidTimestamp'
  /** A trustedIdentities entry that the trust-policy spec does not allow. */
  | 'InvalidTrustedIdentity';

export class NotationError extends BaseError<NotationErrorCode> {}
