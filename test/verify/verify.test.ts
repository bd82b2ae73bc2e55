// The pure verify over in-memory material (no registry): the reason when nothing is signed, minSignatures
// counting distinct signer entries, the Error verdict of a fetch that failed, and the second pass over
// legacy signatures that judges only the cosign entries still unverified. Signatures are made here the
// way cosign makes them (test/verify/cosign/cosign-signatures.ts).
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NO_SIGNATURES } from '../../src/verify/signature-material.ts';
import type { SignatureMaterial, TrustPolicy, VerificationResult } from '../../src/verify/types.ts';
import { registryFailure, signerEntries, verify, wantsLegacySignatures } from '../../src/verify/verify.ts';
import { legacy, target } from './cosign/cosign-signatures.ts';

const keyPair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const bob = keyPair();
const carol = keyPair();
const pem = (pair: ReturnType<typeof keyPair>): string =>
  pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();

const cosign = (name: string, pair: ReturnType<typeof keyPair>) => ({
  name,
  publicKeys: [pem(pair)],
  requireTransparencyLog: false,
});

const policy = (minSignatures: number, ...entries: ReturnType<typeof cosign>[]): TrustPolicy => ({
  minSignatures,
  cosign: entries,
  notation: [],
});

const material = (parts: Partial<SignatureMaterial>): SignatureMaterial => ({ ...NO_SIGNATURES, ...parts });

const deps = { now: new Date() };

const verified = (result: VerificationResult): string[] =>
  result.signers.filter((s) => s.verified).map((s) => s.name);

describe('verify (material in, verdict out)', () => {
  it('judges a digest with no signature Untrusted with SignatureMissing for every signer entry', async () => {
    const result = await verify(
      NO_SIGNATURES,
      policy(1, cosign('bob', bob), cosign('carol', carol)),
      target,
      deps,
    );
    expect(result).toMatchObject({
      digest: target.digest,
      verdict: 'Untrusted',
      reasons: ['SignatureMissing'],
    });
    expect(result.signers.map((s) => [s.name, s.verified, s.reason])).toEqual([
      ['bob', false, 'SignatureMissing'],
      ['carol', false, 'SignatureMissing'],
    ]);
  });

  it.each([
    ['requires nothing with minSignatures 0', 0, 'Trusted', []],
    ['cannot meet minSignatures 1', 1, 'Untrusted', ['ThresholdNotMet']],
  ] as const)('a policy without signer entries %s', async (_what, min, verdict, reasons) => {
    const result = await verify(NO_SIGNATURES, policy(min), target, deps);
    expect(result).toEqual({ digest: target.digest, verdict, reasons, signers: [] });
  });

  it.each([
    ['one of two entries signed, minSignatures 1', 1, [bob], 'Trusted', []],
    ['one of two entries signed, minSignatures 2', 2, [bob], 'Untrusted', ['ThresholdNotMet']],
    ['both entries signed, minSignatures 2', 2, [bob, carol], 'Trusted', []],
    ['the same entry signed twice, minSignatures 2', 2, [bob, bob], 'Untrusted', ['ThresholdNotMet']],
  ] as const)('counts distinct signer entries: %s', async (_what, min, signers, verdict, reasons) => {
    const signed = material({ cosignLegacy: signers.map((pair, i) => legacy(pair.privateKey, {}, i + 1)) });
    const result = await verify(
      signed,
      policy(min, cosign('bob', bob), cosign('carol', carol)),
      target,
      deps,
    );
    expect(result.verdict).toBe(verdict);
    for (const reason of reasons) expect(result.reasons).toContain(reason);
    if (verdict === 'Trusted') expect(result.reasons).toEqual([]);
    expect(verified(result)).toEqual([...new Set(signers.map((p) => (p === bob ? 'bob' : 'carol')))]);
  });

  it('surfaces a registry failure while fetching as Error, RegistryError for every signer entry', () => {
    const result = registryFailure(
      policy(1, cosign('bob', bob), cosign('carol', carol)),
      target.digest,
      'Unavailable: registry.test: HTTP 503',
    );
    expect(result).toEqual({
      digest: target.digest,
      verdict: 'Error',
      reasons: ['RegistryError'],
      signers: ['bob', 'carol'].map((name) => ({
        name,
        type: 'cosign',
        verified: false,
        reason: 'RegistryError',
        message: 'Unavailable: registry.test: HTTP 503',
      })),
    });
  });

  it('judges again only the cosign entries an earlier pass left unverified', async () => {
    const both = policy(2, cosign('bob', bob), cosign('carol', carol));
    const first = await verify(material({ cosignLegacy: [legacy(bob.privateKey)] }), both, target, deps);
    expect(verified(first)).toEqual(['bob']);
    expect(wantsLegacySignatures(first)).toBe(true);
    // Bob's verified result stands although this material no longer holds his signature.
    const second = await verify(
      material({ cosignLegacy: [legacy(carol.privateKey, {}, 2)] }),
      both,
      target,
      deps,
      first,
    );
    expect(second.verdict).toBe('Trusted');
    expect(second.signers[0]).toBe(first.signers[0]);
    expect(wantsLegacySignatures(second)).toBe(false);
  });

  it('keeps the Notation results of an earlier pass', async () => {
    const withNotation: TrustPolicy = {
      minSignatures: 1,
      cosign: [cosign('bob', bob)],
      notation: [
        { name: 'nora', caCertificates: [], tsaCertificates: [], trustedIdentities: ['*'], level: 'strict' },
      ],
    };
    const earlier: VerificationResult = {
      digest: target.digest,
      verdict: 'Untrusted',
      reasons: ['SignatureMissing', 'UntrustedSigner'],
      signers: [
        { name: 'bob', type: 'cosign', verified: false, reason: 'SignatureMissing', message: 'none yet' },
        { name: 'nora', type: 'notation', verified: false, reason: 'UntrustedSigner', message: 'first pass' },
      ],
    };
    const result = await verify(
      material({ cosignLegacy: [legacy(bob.privateKey)] }),
      withNotation,
      target,
      deps,
      earlier,
    );
    expect(result.verdict).toBe('Trusted');
    expect(result.signers[1]).toBe(earlier.signers[1]);
  });

  it('throws TrustPolicyError for unusable trust material before any signature is looked at', () => {
    const broken = policy(1, { name: 'bad', publicKeys: ['not a key'], requireTransparencyLog: false });
    expect(() => signerEntries(broken)).toThrow(expect.objectContaining({ code: 'InvalidKey' }));
  });
});
