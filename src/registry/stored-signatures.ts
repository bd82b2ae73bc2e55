// Where cosign and notation keep signatures in an OCI registry, and the shapes tagguard reads them into:
// layers as stored (annotations, media type, blob bytes already re-hashed), judged by nobody here. Types
// and constants only, no client: verify/ reads these shapes without reaching registry I/O.

/** The media type of a cosign legacy (`.sig` tag) layer: a simple-signing payload. */
export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';

/** The annotations of a cosign legacy layer that carry the signature and its verification material. */
export const COSIGN_ANNOTATIONS = {
  signature: 'dev.cosignproject.cosign/signature',
  certificate: 'dev.sigstore.cosign/certificate',
  chain: 'dev.sigstore.cosign/chain',
  bundle: 'dev.sigstore.cosign/bundle',
} as const;

/** The media types of a Notary Project envelope (the signature manifest's single layer). */
export const NOTATION_ENVELOPE_MEDIA_TYPES: ReadonlySet<string> = new Set([
  'application/jose+json',
  'application/cose',
]);

/** Signatures of one format read per digest: a registry cannot make tagguard fetch without end. */
export const MAX_SIGNATURES_PER_FORMAT = 50;

/**
 * Real signature blobs are a few KiB (a payload, a bundle, an envelope with its chain): a larger one is
 * not read (the registry client would take up to its blob cap, 64 MiB, times MAX_SIGNATURES_PER_FORMAT)
 * and is judged an invalid signature. The same as Notation's envelope cap (MAX_ENVELOPE_BYTES in
 * src/verify/notation/envelope.ts; a unit test holds the two equal).
 */
export const MAX_SIGNATURE_BLOB_BYTES = 1024 * 1024;

/** One signature blob as read: its bytes (re-hashed against the descriptor), or only its declared size. */
export interface StoredSignatureBlob {
  /** Empty when `tooLarge` is set. */
  readonly bytes: Buffer;
  /** Set (to the declared size) when the blob was not read: larger than MAX_SIGNATURE_BLOB_BYTES. */
  readonly tooLarge?: number;
  /** The digest of the signature manifest the blob is a layer of. */
  readonly manifestDigest: string;
}

/** A layer of the legacy `sha256-<hex>.sig` manifest: the payload blob and the layer's annotations. */
export interface LegacySignatureLayer extends StoredSignatureBlob {
  readonly annotations: Readonly<Record<string, string>>;
}

/** A Notary Project envelope found as a referrer, with its layer media type. */
export interface NotationSignatureLayer extends StoredSignatureBlob {
  readonly mediaType: string;
}

/** What the referrers of a digest hold, and the target manifest when asked for. */
export interface ReferrerSignatures {
  /** The target manifest's media type and size in bytes (Notation signs them). */
  readonly target?: { readonly mediaType: string; readonly size: number };
  /** Sigstore bundles (cosign v3). */
  readonly bundles: readonly StoredSignatureBlob[];
  readonly notation: readonly NotationSignatureLayer[];
}
