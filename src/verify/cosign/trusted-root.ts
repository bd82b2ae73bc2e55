// Sigstore trust anchors from a trusted_root.json (the public-good one shipped with tagguard, or a private
// one from a ConfigMap): certificate authorities, transparency-log and certificate-transparency-log keys,
// parsed once per document.
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { X509Certificate } from '@sigstore/core';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { TrustPolicyError } from '../errors.ts';
import publicGoodTrustedRoot from './public-good-trusted-root.json' with { type: 'json' };

export interface Validity {
  readonly start: Date;
  readonly end: Date;
}

export interface CertificateAuthority {
  /** Leaf-most first, root last, as trusted_root.json lists them. */
  readonly certificates: readonly X509Certificate[];
  readonly validFor: Validity;
}

export interface TransparencyLog {
  readonly key: KeyObject;
  readonly validFor: Validity;
}

export interface TrustAnchors {
  /** The protobuf form, for @sigstore/verify. */
  readonly root: TrustedRoot;
  readonly certificateAuthorities: readonly CertificateAuthority[];
  /** Rekor logs by log ID (hex of the key ID). */
  readonly tlogs: ReadonlyMap<string, TransparencyLog>;
  /**
   * Certificate Transparency logs by RFC 6962 log ID: hex of the SHA-256 of the key's DER, computed here
   * rather than read from `logId`, so an SCT can only ever select the key that signed it.
   */
  readonly ctlogs: ReadonlyMap<string, TransparencyLog>;
}

type LogEntry = TrustedRoot['tlogs'][number];

const publicKeyOf = (log: LogEntry): KeyObject | undefined =>
  log.publicKey?.rawBytes
    ? createPublicKey({ key: Buffer.from(log.publicKey.rawBytes), format: 'der', type: 'spki' })
    : undefined;

const ALWAYS: Validity = { start: new Date(0), end: new Date(8_640_000_000_000_000) };

const validity = (range: { start?: Date | undefined; end?: Date | undefined } | undefined): Validity => ({
  start: range?.start ?? ALWAYS.start,
  end: range?.end ?? ALWAYS.end,
});

const cache = new WeakMap<object, TrustAnchors>();

/** The Sigstore public-good trusted root (from @sigstore/tuf's signed seed), shipped with tagguard. */
export const PUBLIC_GOOD_TRUSTED_ROOT: unknown = publicGoodTrustedRoot;

/** Parses a trusted_root.json document (already JSON-parsed); cached per document object. */
export const parseTrustedRoot = (json: unknown, signer: string): TrustAnchors => {
  if (typeof json !== 'object' || json === null)
    throw new TrustPolicyError('InvalidTrustedRoot', 'trusted root is not a JSON object', signer);
  const cached = cache.get(json);
  if (cached) return cached;
  let anchors: TrustAnchors;
  try {
    const root = TrustedRoot.fromJSON(json);
    anchors = {
      root,
      certificateAuthorities: root.certificateAuthorities.map((ca) => ({
        certificates: (ca.certChain?.certificates ?? []).map((c) =>
          X509Certificate.parse(Buffer.from(c.rawBytes)),
        ),
        validFor: validity(ca.validFor),
      })),
      tlogs: new Map(
        root.tlogs.flatMap((log) => {
          const key = publicKeyOf(log);
          if (!key || !log.logId) return [];
          const id = Buffer.from(log.logId.keyId).toString('hex');
          return [[id, { key, validFor: validity(log.publicKey?.validFor) }]];
        }),
      ),
      ctlogs: new Map(
        root.ctlogs.flatMap((log) => {
          const key = publicKeyOf(log);
          if (!key) return [];
          const id = createHash('sha256')
            .update(key.export({ format: 'der', type: 'spki' }))
            .digest('hex');
          return [[id, { key, validFor: validity(log.publicKey?.validFor) }]];
        }),
      ),
    };
  } catch (cause) {
    throw new TrustPolicyError('InvalidTrustedRoot', 'trusted root does not parse', signer, { cause });
  }
  cache.set(json, anchors);
  return anchors;
};
