// Cosign signatures made in the test the way cosign makes them, for unit tests: a legacy signature is a
// simple-signing payload signed with SHA-256; a v3 bundle is a DSSE in-toto statement (cosign's sign
// predicate) with the signing certificate. Real cosign output is used by test/integration/verify/.
import { sign, X509Certificate, type KeyObject } from 'node:crypto';
import { COSIGN_SIGN_PREDICATE } from '../../../src/verify/cosign/cosign-bundle-verifier.ts';
import type {
  CosignBundleSignature,
  CosignLegacySignature,
  VerificationTarget,
} from '../../../src/verify/types.ts';

export const ISSUER = 'https://token.tagguard.test';

export const target: VerificationTarget = {
  repository: 'registry.test/charts/app',
  digest: `sha256:${'ab'.repeat(32)}`,
};

/** A made-up signature manifest digest, numbered. */
export const where = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`;

export const simpleSigning = (digest: string): Buffer =>
  Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': target.repository },
        image: { 'docker-manifest-digest': digest },
        type: 'cosign container image signature',
      },
      optional: null,
    }),
  );

export const legacy = (
  key: KeyObject,
  extra: Partial<CosignLegacySignature> = {},
  n = 1,
): CosignLegacySignature => {
  const payload = simpleSigning(target.digest);
  return {
    payload,
    signature: sign('sha256', payload, key).toString('base64'),
    signatureManifestDigest: where(n),
    ...extra,
  };
};

/** A cosign v3-shaped bundle: DSSE in-toto statement about the target, signed by `key`, with `certPem`. */
export const bundle = (key: KeyObject, certPem: string, n: number): CosignBundleSignature => {
  const payloadType = 'application/vnd.in-toto+json';
  const payload = Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: target.repository, digest: { sha256: 'ab'.repeat(32) } }],
      predicateType: COSIGN_SIGN_PREDICATE,
      predicate: {},
    }),
  );
  const pae = Buffer.concat([
    Buffer.from(`DSSEv1 ${payloadType.length} ${payloadType} ${payload.length} `),
    payload,
  ]);
  const json = {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: {
      certificate: { rawBytes: new X509Certificate(certPem).raw.toString('base64') },
      tlogEntries: [],
      timestampVerificationData: {},
    },
    dsseEnvelope: {
      payload: payload.toString('base64'),
      payloadType,
      signatures: [{ sig: sign('sha256', pae, key).toString('base64'), keyid: '' }],
    },
  };
  return { bytes: Buffer.from(JSON.stringify(json)), signatureManifestDigest: where(n) };
};
