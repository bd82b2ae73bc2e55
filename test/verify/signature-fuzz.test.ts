// Fuzzing the verifiers with mutations of signatures made in the test in each format (cosign legacy
// keyed and with a certificate chain, cosign v3 bundle, Notation JWS and COSE) and of a real Rekor SET
// from the public-good log: no exception escapes, each input is judged in bounded time, and only a
// mutation that leaves the signed view unchanged may verify. The same harness runs on signatures made
// by the real cosign and notation in test/integration/verify/signature-fuzz.test.ts (1,000+ each).
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCA, issueCertificate } from '../env/pki.ts';
import { fulcioIssuerExtensions, privateTrustedRoot } from '../env/sign.ts';
import { CosignVerifier } from '../../src/verify/cosign/cosign-verifier.ts';
import { verifyRekorBundle } from '../../src/verify/cosign/rekor-set.ts';
import { parseTrustedRoot, PUBLIC_GOOD_TRUSTED_ROOT } from '../../src/verify/cosign/trusted-root.ts';
import { verifyNotation } from '../../src/verify/notation/notation-verifier.ts';
import type { CosignLegacySignature } from '../../src/verify/types.ts';
import { bundle, ISSUER, legacy, target } from './cosign/cosign-signatures.ts';
import * as kubewarden from './cosign/fixtures/kubewarden-keyless-2022.ts';
import {
  buildCose,
  buildJws,
  chartTarget,
  coseEnvelope,
  createTestSigner,
  jwsEnvelope,
  trustFor,
} from './notation/fixtures.ts';
import { ODD_KEY_KINDS, withOddKey } from './odd-key-certificates.ts';
import { mutate, mutations, type MutationContext } from './signature-mutations.ts';
import {
  bundleView,
  coseView,
  jwsView,
  legacyDocument,
  legacyFromDocument,
  legacyView,
  runFuzz,
  type FuzzSubject,
} from './signature-fuzz.ts';

/** Kept small here (the unit suite runs often); the integration fuzz runs 1,000+ per format. */
const RUNS = 300;

const empty = { cosignLegacy: [], cosignBundles: [], notation: [] };
let subjects: FuzzSubject[];

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tagguard-fuzz-unit-'));
  const ca = await createCA(dir, 'signing-ca');
  const leaf = await issueCertificate(ca, dir, 'alice', {
    subject: '/CN=alice',
    usage: 'code-signing',
    extraExtensions: ['subjectAltName = email:alice@tagguard.test', ...fulcioIssuerExtensions(ISSUER)],
  });
  const aliceKey = createPrivateKey(await readFile(leaf.keyFile));
  const bob = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const odd = await Promise.all(ODD_KEY_KINDS.map((kind) => withOddKey(leaf.certPem, ca, kind)));
  const notationSigner = await createTestSigner();
  const certificates = [...odd, ca.certPem, notationSigner.caPem].map((pem) => new X509Certificate(pem).raw);

  const keyed = new CosignVerifier({
    name: 'bob',
    publicKeys: [bob.publicKey.export({ type: 'spki', format: 'pem' }).toString()],
    requireTransparencyLog: false,
  });
  const keyless = new CosignVerifier({
    name: 'alice',
    publicKeys: [],
    keyless: { issuer: ISSUER, subject: 'alice@tagguard.test' },
    trustedRoot: privateTrustedRoot(ca.certPem),
    requireTransparencyLog: false,
  });
  const keyedSig = legacy(bob.privateKey);
  const certSig = legacy(aliceKey, { certificate: leaf.certPem, chain: ca.certPem });
  const bundleSig = bundle(aliceKey, leaf.certPem, 1);
  const jws = buildJws(notationSigner, chartTarget);
  const cose = buildCose(notationSigner, chartTarget);
  const donors = [legacyDocument(keyedSig), legacyDocument(certSig), bundleSig.bytes, jws, cose];
  const context: MutationContext = { donors, certificates };
  const legacySubject = (
    name: string,
    sig: CosignLegacySignature,
    verifier: CosignVerifier,
    withCert: boolean,
  ) => ({
    name,
    original: legacyDocument(sig),
    context,
    judge: (bytes: Buffer) =>
      verifier.verify(target, { ...empty, cosignLegacy: [legacyFromDocument(bytes, sig)] }, new Date()),
    view: legacyView(sig, withCert),
  });
  subjects = [
    legacySubject('cosign legacy keyed signature', keyedSig, keyed, false),
    legacySubject('cosign legacy certificate signature', certSig, keyless, true),
    {
      name: 'cosign bundle',
      original: bundleSig.bytes,
      context,
      judge: (bytes) =>
        keyless.verify(target, { ...empty, cosignBundles: [{ ...bundleSig, bytes }] }, new Date()),
      view: bundleView(true),
    },
    {
      name: 'Notation JWS envelope',
      original: jws,
      context,
      judge: (bytes) =>
        verifyNotation(chartTarget, [jwsEnvelope(bytes)], trustFor(notationSigner), new Date()),
      view: jwsView,
    },
    {
      name: 'Notation COSE envelope',
      original: cose,
      context,
      judge: (bytes) =>
        verifyNotation(chartTarget, [coseEnvelope(bytes)], trustFor(notationSigner), new Date()),
      view: coseView,
    },
  ];
});

describe('verifiers under mutated signatures', () => {
  for (const name of [
    'cosign legacy keyed signature',
    'cosign legacy certificate signature',
    'cosign bundle',
    'Notation JWS envelope',
    'Notation COSE envelope',
  ]) {
    it(`${name}: never throws, stays bounded, and verifies only no-op mutations`, async () => {
      const subject = subjects.find((s) => s.name === name);
      if (!subject) throw new Error(`no subject ${name}`);
      const report = await runFuzz(subject, RUNS);
      expect(report.runs).toBe(RUNS);
    }, 120_000);
  }

  it('a real Rekor SET (public-good log): mutations never get past the SET unless its signed entry is unchanged', () => {
    const anchors = parseTrustedRoot(PUBLIC_GOOD_TRUSTED_ROOT, 'public-good');
    const key = createPublicKey(kubewarden.certificate);
    const signature = Buffer.from(kubewarden.signature, 'base64');
    const original = Buffer.from(kubewarden.rekorBundle);
    // Past the SET, the check stops at the payload, which the fixture does not have.
    const pastTheSet = 'the Rekor entry is about another payload';
    const check = (bytes: Buffer) =>
      verifyRekorBundle(bytes.toString('utf8'), anchors, signature, Buffer.from('x'), key);
    expect(check(original)).toEqual({ ok: false, message: pastTheSet });
    const signedEntry = (bytes: Buffer): string => {
      try {
        const doc = JSON.parse(bytes.toString('utf8')) as {
          SignedEntryTimestamp?: unknown;
          Payload?: Record<string, unknown>;
        };
        const p = doc.Payload ?? {};
        return JSON.stringify([
          Buffer.from(String(doc.SignedEntryTimestamp), 'base64').toString('hex'),
          p.body,
          p.integratedTime,
          p.logIndex,
          p.logID,
        ]);
      } catch {
        return 'unreadable';
      }
    };
    const context: MutationContext = { donors: [Buffer.from(kubewarden.certificate)], certificates: [] };
    fc.assert(
      fc.property(mutations, (list) => {
        const mutated = mutate(original, list, context);
        const result = check(mutated);
        expect(result.ok).toBe(false);
        if (!result.ok && result.message === pastTheSet)
          expect(signedEntry(mutated)).toBe(signedEntry(original));
      }),
      { numRuns: 1000 },
    );
  }, 120_000);
});
