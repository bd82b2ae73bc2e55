// Each cosign signature is judged on its own: a signature whose certificate carries a key node:crypto
// cannot use (or any other input a check throws on) fails that signature only; the next signature and
// the other signer entries are still evaluated. Signatures are made here the way cosign makes them (a
// simple-signing payload signed with SHA-256, a DSSE in-toto statement for bundles), certificates by
// openssl (test/env/pki.ts), odd keys by test/verify/odd-key-certificates.ts.
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCA, issueCertificate, type KeyPair } from '../../env/pki.ts';
import { fulcioIssuerExtensions, privateTrustedRoot } from '../../env/sign.ts';
import { CosignVerifier } from '../../../src/verify/cosign/cosign-verifier.ts';
import { evaluatePolicy } from '../../../src/verify/evaluate-policy.ts';
import type { SignatureMaterial } from '../../../src/verify/types.ts';
import { ODD_KEY_KINDS, withOddKey } from '../odd-key-certificates.ts';
import { bundle, ISSUER, legacy, target, where } from './cosign-signatures.ts';

const material = (parts: Partial<SignatureMaterial>): SignatureMaterial => ({
  cosignLegacy: [],
  cosignBundles: [],
  notation: [],
  ...parts,
});

let ca: KeyPair;
let aliceKey: KeyObject;
let aliceCert: string;
let oddCerts: Map<string, string>;
const bob = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const bobPem = bob.publicKey.export({ type: 'spki', format: 'pem' }).toString();

let keyless: CosignVerifier;
const keyed = new CosignVerifier({ name: 'bob', publicKeys: [bobPem], requireTransparencyLog: false });

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tagguard-cosign-unit-'));
  ca = await createCA(dir, 'signing-ca');
  const leaf = await issueCertificate(ca, dir, 'alice', {
    subject: '/CN=alice',
    usage: 'code-signing',
    extraExtensions: ['subjectAltName = email:alice@tagguard.test', ...fulcioIssuerExtensions(ISSUER)],
  });
  aliceKey = createPrivateKey(await readFile(leaf.keyFile));
  aliceCert = leaf.certPem;
  oddCerts = new Map(
    await Promise.all(
      ODD_KEY_KINDS.map(async (kind) => [kind, await withOddKey(aliceCert, ca, kind)] as const),
    ),
  );
  keyless = new CosignVerifier({
    name: 'alice',
    publicKeys: [],
    keyless: { issuer: ISSUER, subject: 'alice@tagguard.test' },
    trustedRoot: privateTrustedRoot(ca.certPem),
    requireTransparencyLog: false,
  });
});

describe('CosignVerifier judges each signature on its own', () => {
  it('verifies the well-formed legacy and bundle signatures these tests make', () => {
    const now = new Date();
    expect(keyed.verify(target, material({ cosignLegacy: [legacy(bob.privateKey)] }), now)).toMatchObject({
      verified: true,
    });
    const signedByAlice = legacy(aliceKey, { certificate: aliceCert, chain: ca.certPem });
    expect(keyless.verify(target, material({ cosignLegacy: [signedByAlice] }), now)).toMatchObject({
      verified: true,
      identity: 'alice@tagguard.test',
    });
    expect(
      keyless.verify(target, material({ cosignBundles: [bundle(aliceKey, aliceCert, 2)] }), now),
    ).toMatchObject({
      verified: true,
      format: 'bundle',
    });
  });

  for (const kind of ODD_KEY_KINDS) {
    it(`fails a legacy signature whose certificate has a ${kind} key, and still evaluates the next one`, () => {
      const now = new Date();
      const odd = legacy(aliceKey, { certificate: oddCerts.get(kind) ?? '', chain: ca.certPem }, 1);
      const alone = keyless.verify(target, material({ cosignLegacy: [odd] }), now);
      expect(alone).toMatchObject({ verified: false, reason: 'SignatureInvalid' });

      const good = legacy(aliceKey, { certificate: aliceCert, chain: ca.certPem }, 2);
      expect(keyless.verify(target, material({ cosignLegacy: [odd, good] }), now)).toMatchObject({
        verified: true,
      });

      // The reproduced case: signer A's only signature is the odd one, signer B's follows.
      const both = material({ cosignLegacy: [odd, legacy(bob.privateKey, {}, 3)] });
      const results = [keyless.verify(target, both, now), keyed.verify(target, both, now)];
      expect(results.map((r) => r.verified)).toEqual([false, true]);
      expect(evaluatePolicy(target.digest, results, 1).verdict).toBe('Trusted');
      expect(evaluatePolicy(target.digest, results, 2).verdict).toBe('Untrusted');
    });

    it(`fails a bundle whose certificate has a ${kind} key, and still evaluates the next one`, () => {
      const now = new Date();
      const odd = bundle(aliceKey, oddCerts.get(kind) ?? '', 1);
      expect(keyless.verify(target, material({ cosignBundles: [odd] }), now)).toMatchObject({
        verified: false,
        reason: 'SignatureInvalid',
      });
      expect(
        keyless.verify(target, material({ cosignBundles: [odd, bundle(aliceKey, aliceCert, 2)] }), now),
      ).toMatchObject({ verified: true });
    });
  }

  it('turns any exception while checking a signature into SignatureInvalid for that signature only', () => {
    // Not a string where the annotation should be: Buffer.from throws inside the check.
    const broken = { ...legacy(bob.privateKey, {}, 1), signature: 42 as unknown as string };
    const result = keyed.verify(target, material({ cosignLegacy: [broken] }), new Date());
    expect(result).toMatchObject({ verified: false, reason: 'SignatureInvalid' });
    expect(
      keyed.verify(target, material({ cosignLegacy: [broken, legacy(bob.privateKey, {}, 2)] }), new Date()),
    ).toMatchObject({ verified: true });
  });

  it('refuses a chain of more certificates than any signer attaches', () => {
    const long = legacy(aliceKey, { certificate: aliceCert, chain: ca.certPem.repeat(11) });
    expect(keyless.verify(target, material({ cosignLegacy: [long] }), new Date())).toMatchObject({
      verified: false,
      reason: 'SignatureInvalid',
    });
  });

  it('refuses a bundle with more transparency-log entries than any signer writes', () => {
    const sig = bundle(aliceKey, aliceCert, 1);
    const json = JSON.parse(sig.bytes.toString()) as { verificationMaterial: { tlogEntries: unknown[] } };
    json.verificationMaterial.tlogEntries = Array.from({ length: 11 }, (_, i) => ({ logIndex: String(i) }));
    const many = { ...sig, bytes: Buffer.from(JSON.stringify(json)) };
    expect(keyless.verify(target, material({ cosignBundles: [many] }), new Date())).toMatchObject({
      verified: false,
      reason: 'SignatureInvalid',
      message: expect.stringContaining('more than 10') as unknown,
    });
  });

  it('judges a signature whose blob was too large to read as invalid, without reading it', () => {
    const big = { ...legacy(bob.privateKey), payload: Buffer.alloc(0), tooLarge: 2 * 1024 * 1024 };
    expect(keyed.verify(target, material({ cosignLegacy: [big] }), new Date())).toMatchObject({
      verified: false,
      reason: 'SignatureInvalid',
    });
    const bigBundle = { bytes: Buffer.alloc(0), signatureManifestDigest: where(9), tooLarge: 5e6 };
    expect(keyless.verify(target, material({ cosignBundles: [bigBundle] }), new Date())).toMatchObject({
      verified: false,
      reason: 'SignatureInvalid',
    });
  });
});
