// Signatures as the registry stores them become the material the verifiers judge: a legacy layer's
// annotations its fields (empty ones dropped), sizes of blobs not read kept, manifest digests carried.
import { describe, expect, it } from 'vitest';
import { COSIGN_ANNOTATIONS, MAX_SIGNATURE_BLOB_BYTES } from '../../src/registry/stored-signatures.ts';
import { MAX_ENVELOPE_BYTES } from '../../src/verify/notation/envelope.ts';
import { signatureMaterial } from '../../src/verify/signature-material.ts';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

describe('signatureMaterial', () => {
  it('reads a legacy layer: signature, certificate, chain and Rekor bundle from its annotations', () => {
    const payload = Buffer.from('payload');
    const [sig] = signatureMaterial({ bundles: [], notation: [] }, [
      {
        bytes: payload,
        manifestDigest: D1,
        annotations: {
          [COSIGN_ANNOTATIONS.signature]: 'c2ln',
          [COSIGN_ANNOTATIONS.certificate]: 'CERT',
          [COSIGN_ANNOTATIONS.chain]: '',
          [COSIGN_ANNOTATIONS.bundle]: '{}',
          other: 'ignored',
        },
      },
    ]).cosignLegacy;
    expect(sig).toEqual({
      payload,
      signature: 'c2ln',
      certificate: 'CERT',
      rekorBundle: '{}',
      signatureManifestDigest: D1,
    });
  });

  it('keeps the declared size of a blob that was not read, and each signature manifest digest', () => {
    const material = signatureMaterial({
      bundles: [{ bytes: Buffer.alloc(0), tooLarge: 5_000_000, manifestDigest: D1 }],
      notation: [{ mediaType: 'application/cose', bytes: Buffer.from('env'), manifestDigest: D2 }],
    });
    expect(material).toEqual({
      cosignLegacy: [],
      cosignBundles: [{ bytes: Buffer.alloc(0), tooLarge: 5_000_000, signatureManifestDigest: D1 }],
      notation: [{ mediaType: 'application/cose', bytes: Buffer.from('env'), signatureManifestDigest: D2 }],
    });
  });

  it('fetches no signature blob larger than Notation reads an envelope', () => {
    expect(MAX_SIGNATURE_BLOB_BYTES).toBe(MAX_ENVELOPE_BYTES);
  });
});
