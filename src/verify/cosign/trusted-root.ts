// Sigstore trust anchors from a trusted_root.json (the public-good one shipped with tagguard, or a private
// one from a ConfigMap): certificate authorities and transparency-log keys, parsed once per document.
import { createPublicKey, type KeyObject } from 'node:crypto';
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
}

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
          if (!log.publicKey?.rawBytes || !log.logId) return [];
          const key = createPublicKey({
            key: Buffer.from(log.publicKey.rawBytes),
            format: 'der',
            type: 'spki',
          });
          return [
            [
              Buffer.from(log.logId.keyId).toString('hex'),
              { key, validFor: validity(log.publicKey.validFor) },
            ],
          ];
        }),
      ),
    };
  } catch (cause) {
    throw new TrustPolicyError('InvalidTrustedRoot', 'trusted root does not parse', signer, { cause });
  }
  cache.set(json, anchors);
  return anchors;
};
