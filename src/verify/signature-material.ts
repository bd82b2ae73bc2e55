// The signatures as the registry stores them (src/registry/stored-signatures.ts) turned into the material
// the verifiers judge: a cosign legacy layer's annotations become its signature, certificate, chain and
// Rekor bundle. Pure; reads nothing, rejects nothing (a verifier judges each signature on its own).
import {
  COSIGN_ANNOTATIONS,
  type LegacySignatureLayer,
  type ReferrerSignatures,
} from '../registry/stored-signatures.ts';
import type { CosignLegacySignature, SignatureMaterial } from './types.ts';

/** No signature at all: what a policy without signer entries is judged against. */
export const NO_SIGNATURES: SignatureMaterial = { cosignLegacy: [], cosignBundles: [], notation: [] };

const tooLargeOf = (blob: { readonly tooLarge?: number }): { tooLarge?: number } =>
  blob.tooLarge !== undefined ? { tooLarge: blob.tooLarge } : {};

const legacySignature = (layer: LegacySignatureLayer): CosignLegacySignature => {
  const a = layer.annotations;
  const optional = {
    certificate: a[COSIGN_ANNOTATIONS.certificate],
    chain: a[COSIGN_ANNOTATIONS.chain],
    rekorBundle: a[COSIGN_ANNOTATIONS.bundle],
  };
  return {
    payload: layer.bytes,
    ...tooLargeOf(layer),
    signature: a[COSIGN_ANNOTATIONS.signature] ?? '',
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined && v !== '')),
    signatureManifestDigest: layer.manifestDigest,
  };
};

/** The material of the referrers and, once read, of the legacy `.sig` tag. */
export const signatureMaterial = (
  referrers: Pick<ReferrerSignatures, 'bundles' | 'notation'>,
  legacy: readonly LegacySignatureLayer[] = [],
): SignatureMaterial => ({
  cosignLegacy: legacy.map(legacySignature),
  cosignBundles: referrers.bundles.map((b) => ({
    bytes: b.bytes,
    ...tooLargeOf(b),
    signatureManifestDigest: b.manifestDigest,
  })),
  notation: referrers.notation.map((n) => ({
    mediaType: n.mediaType,
    bytes: n.bytes,
    ...tooLargeOf(n),
    signatureManifestDigest: n.manifestDigest,
  })),
});
