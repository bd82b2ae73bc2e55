// The data the verification layer works on: trust policy as plain data (Secrets and ConfigMaps already
// read by the caller), the signature material fetched for one digest, and per-signer results. No I/O here.
import type {
  NotationLevel,
  RevocationAction,
  SignatureFormat,
  Verdict,
} from '../api/artifact-verification.ts';
import type { ExpectedChart, ProvenanceKeyring } from './provenance/provenance-types.ts';

/** Why a signer (or the whole verification) failed; docs/verification.md#reason-codes. */
export type VerifyReason =
  | 'SignatureMissing'
  | 'SignatureInvalid'
  | 'UntrustedSigner'
  | 'ThresholdNotMet'
  | 'DigestMismatch'
  | 'CertificateExpired'
  | 'RegistryError';

/** A cosign signer entry with its trust material resolved to data. */
export interface CosignTrust {
  readonly name: string;
  /** PEM public keys (inline, or every *.pub of the Secret). Empty for keyless. */
  readonly publicKeys: readonly string[];
  readonly keyless?: {
    readonly issuer: string;
    readonly subject?: string;
    readonly subjectRegex?: string;
  };
  /** Parsed trusted_root.json (Sigstore TrustedRoot, JSON form). Keyless only; default: the shipped public-good root. */
  readonly trustedRoot?: unknown;
  readonly requireTransparencyLog: boolean;
}

/** A notation signer entry with its trust store resolved to data. */
export interface NotationTrust {
  readonly name: string;
  /** CA certificates (PEM, one or many per string). */
  readonly caCertificates: readonly string[];
  /** Signing-authority certificates (PEM) for notary.x509.signingAuthority; TSA roots. */
  readonly tsaCertificates: readonly string[];
  readonly trustedIdentities: readonly string[];
  readonly level: NotationLevel;
  /** Overrides the level's action for revocation. */
  readonly revocation?: RevocationAction;
}

/** A Helm provenance signer entry with its keyring parsed (the keyring hashes as its keys' digest). */
export interface ProvenanceTrust {
  readonly name: string;
  readonly keyring: ProvenanceKeyring;
}

export interface TrustPolicy {
  /** Distinct signer entries that must verify (default 1 when any signer is configured). */
  readonly minSignatures: number;
  readonly cosign: readonly CosignTrust[];
  readonly notation: readonly NotationTrust[];
  /** Absent: none. */
  readonly provenance?: readonly ProvenanceTrust[];
}

/** The outcome for one configured signer entry. */
export interface SignerResult {
  readonly name: string;
  readonly type: 'cosign' | 'notation' | 'provenance';
  /** Format of the signature that verified (or the last one tried). */
  readonly format?: SignatureFormat;
  /** Who signed: key fingerprint, certificate SAN, or x509 subject. Never secret. */
  readonly identity?: string;
  readonly verified: boolean;
  readonly reason?: VerifyReason;
  readonly message: string;
}

export interface VerificationResult {
  readonly digest: string;
  readonly verdict: Verdict;
  /** Distinct reasons of the failure (empty when Trusted). */
  readonly reasons: readonly VerifyReason[];
  readonly signers: readonly SignerResult[];
}

/** The artifact under test: always addressed by digest. */
export interface VerificationTarget {
  /** host[:port]/repository, for messages only; never used to decide trust. */
  readonly repository: string;
  readonly digest: string;
  /** The artifact manifest's media type and size; read only when a verifier needs them (Notation). */
  readonly mediaType?: string;
  readonly size?: number;
}

/** A cosign legacy signature: one layer of the `sha256-<hex>.sig` manifest and its annotations. */
export interface CosignLegacySignature {
  /** The simple-signing payload (the layer blob, re-hashed by the registry client). */
  readonly payload: Buffer;
  /** dev.cosignproject.cosign/signature (base64). */
  readonly signature: string;
  /** dev.sigstore.cosign/certificate (PEM), for certificate-based signatures. */
  readonly certificate?: string;
  /** dev.sigstore.cosign/chain (PEM, intermediates then root). */
  readonly chain?: string;
  /** dev.sigstore.cosign/bundle: the Rekor SET bundle (JSON). */
  readonly rekorBundle?: string;
  readonly signatureManifestDigest: string;
  /** Set (to the declared size) when the payload was not read: larger than any real signature. */
  readonly tooLarge?: number;
}

/** A Sigstore bundle (v0.3) found as a referrer of the digest. */
export interface CosignBundleSignature {
  readonly bytes: Buffer;
  readonly signatureManifestDigest: string;
  /** Set (to the declared size) when the bundle was not read: larger than any real signature. */
  readonly tooLarge?: number;
}

/** A Notary Project signature envelope (the signature manifest's single layer). */
export interface NotationEnvelope {
  /** application/jose+json | application/cose */
  readonly mediaType: string;
  readonly bytes: Buffer;
  readonly signatureManifestDigest: string;
  /** Set (to the declared size) when the envelope was not read: larger than notation's MAX_ENVELOPE_BYTES. */
  readonly tooLarge?: number;
}

/**
 * A Helm chart and its provenance file as fetched, whatever the repository kind: the seam between the
 * fetchers (an OCI chart manifest's layers, an HTTP repository's archive and `<archive URL>.prov`) and
 * src/verify/provenance/judge-chart-provenance.ts.
 */
export type ChartProvenance =
  | {
      readonly kind: 'chart';
      /** `sha256:<hex>` of the archive bytes helm and Flux unpack (an OCI chart layer's digest). */
      readonly archiveDigest: string;
      /** The chart the provenance must be about. */
      readonly expected: ExpectedChart;
      /** The `.prov` bytes; absent when the chart has none. */
      readonly provenance?: Uint8Array;
      /** Set (to the declared size) when the `.prov` was not read: larger than MAX_PROVENANCE_BYTES. */
      readonly tooLarge?: number;
    }
  /**
   * No chart to judge: SignatureMissing (not a chart at all), or a chart helm could read more than one way
   * (several chart or provenance layers, a config naming another chart): the provenance reason, and `why`.
   */
  | {
      readonly kind: 'refused';
      readonly reason: 'SignatureMissing' | 'ProvenanceMalformed' | 'ProvenanceChartMismatch';
      readonly why: string;
    };

/** Everything fetched for one digest, grouped by format. */
export interface SignatureMaterial {
  readonly cosignLegacy: readonly CosignLegacySignature[];
  readonly cosignBundles: readonly CosignBundleSignature[];
  readonly notation: readonly NotationEnvelope[];
  /** The Helm chart's provenance; read only when the policy has provenance entries. */
  readonly chartProvenance?: ChartProvenance;
}
