// The data of Helm provenance verification (`<chart>-<version>.tgz.prov`, OpenPGP clear-signed): its reason
// codes, what the caller hands in (bytes already fetched, the clock) and the per-signer result, shaped like
// SignerResult (src/verify/types.ts) so that a verified provenance can count toward minSignatures.
import type { PublicKey } from 'openpgp';
import { BaseError } from '../../errors.ts';

/** Why a provenance check failed; docs/provenance.md#reason-codes. */
export type ProvenanceReason =
  /** Not a provenance file tagguard reads exactly as helm does (docs/provenance.md#what-is-refused-where-helm-is-lenient). */
  | 'ProvenanceMalformed'
  /** Larger than MAX_PROVENANCE_BYTES: no real provenance file comes close. */
  | 'ProvenanceTooLarge'
  /** The signature does not verify over the signed text with the signer's key (tampered text, bad packet). */
  | 'ProvenanceSignatureInvalid'
  /** The signature carries an expiration time that has passed. */
  | 'ProvenanceSignatureExpired'
  /** The signing key (primary or subkey) has expired. */
  | 'ProvenanceKeyExpired'
  /** The signing key (primary or subkey) is revoked. */
  | 'ProvenanceKeyRevoked'
  /** No key of the keyring issued the signature. */
  | 'ProvenanceUnknownSigner'
  /** The signed archive hash is not the SHA-256 of the archive bytes tagguard fetched. */
  | 'ProvenanceDigestMismatch'
  /** The signed document names another chart, version or archive file. */
  | 'ProvenanceChartMismatch';

export class ProvenanceError extends BaseError<ProvenanceReason> {}

/** What the caller expects the provenance to be about. */
export interface ExpectedChart {
  readonly name: string;
  readonly version: string;
  /** The archive's file name in the signed `files:` map; default `<name>-<version>.tgz` (helm's basename). */
  readonly archiveName?: string;
}

/** What the signed document says, once its signature verified (or, on failure, what it claimed). */
export interface SignedChart {
  readonly name: string;
  readonly version: string;
  readonly archiveName: string;
  /** `sha256:<hex>`, as written in the `files:` map. */
  readonly archiveDigest: string;
}

/** The outcome for one `verify.provenance` entry. */
export interface ProvenanceResult {
  /** The policy entry's name. */
  readonly name: string;
  readonly type: 'provenance';
  /** Fingerprint of the primary key that signed (upper-case hex). Never secret. */
  readonly identity?: string;
  readonly verified: boolean;
  readonly reason?: ProvenanceReason;
  readonly message: string;
  /** Set once the provenance parsed: what the signed document claims. */
  readonly signed?: SignedChart;
}

/** The public keys of one `verify.provenance` entry, read by readProvenanceKeyring. */
export interface ProvenanceKeyring {
  readonly keys: readonly PublicKey[];
  /**
   * `sha256:<hex>` of the key material as given (every value, in order): a rotated Secret, a new expiry
   * or revocation signature changes it, so a verification cached under the policy's hash is not reused.
   */
  readonly digest: string;
  /** What a cache key (stableHash, JSON) sees of the keyring: its digest, never the key objects. */
  toJSON(): { readonly digest: string };
}
