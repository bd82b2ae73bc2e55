// What the verifier does with revocation answers (the answers themselves — OCSP, CRL, openssl-made —
// are tested in revocation/*): which chain it asks about and when, and what each level makes of
// "revoked" and "unknown". The checker here is scripted: it is the verifier's decision under test.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTimestampAuthority, timestampToken, type TimestampAuthority } from '../../env/pki.ts';
import { verifyNotation } from '../../../src/verify/notation/notation-verifier.ts';
import type { SigningCertificate } from '../../../src/verify/notation/certificate.ts';
import type {
  ChainRevocation,
  ChainRevocationResult,
} from '../../../src/verify/notation/revocation/revocation.ts';
import type { CertCheckOptions } from '../../../src/verify/notation/revocation/types.ts';
import {
  buildJws,
  chartTarget,
  createTestSigner,
  jwsEnvelope,
  trustFor,
  type TestSigner,
} from './fixtures.ts';

class ScriptedRevocation implements ChainRevocation {
  readonly asked: { subjects: string[]; options: CertCheckOptions }[] = [];
  private readonly answer: (subjects: string[]) => ChainRevocationResult;
  constructor(answer: (subjects: string[]) => ChainRevocationResult) {
    this.answer = answer;
  }
  check(chain: readonly SigningCertificate[], options: CertCheckOptions): Promise<ChainRevocationResult> {
    const subjects = chain.map((c) => c.x509.subject.replaceAll('\n', ', '));
    this.asked.push({ subjects, options });
    return Promise.resolve(this.answer(subjects));
  }
}

const revoked: ChainRevocationResult = {
  status: 'revoked',
  details: ['certificate "CN=release" is revoked'],
};
const unknown: ChainRevocationResult = {
  status: 'unknown',
  details: ['CRL at http://crl.example: HTTP 503'],
};
const ok: ChainRevocationResult = { status: 'ok', details: [] };
const DAY = 86_400_000;
const iso = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

let signer: TestSigner;
let authority: TimestampAuthority;

beforeAll(async () => {
  [signer, authority] = await Promise.all([
    createTestSigner(),
    createTimestampAuthority(await mkdtemp(join(tmpdir(), 'tagguard-revocation-decision-'))),
  ]);
  await new Promise((resolve) => setTimeout(resolve, 2100)); // timestamps must not start before the TSA root
});

const verify = (checker: ChainRevocation, overrides: Parameters<typeof trustFor>[1] = {}, now = new Date()) =>
  verifyNotation(
    chartTarget,
    [jwsEnvelope(buildJws(signer, chartTarget))],
    trustFor(signer, overrides),
    now,
    checker,
  );

describe('revocation in the verifier', () => {
  it('asks about the envelope chain, leaf first, without a signing time for notary.x509', async () => {
    const checker = new ScriptedRevocation(() => ok);
    const result = await verify(checker);
    expect(result).toMatchObject({ verified: true });
    expect(result.message).toContain('not revoked');
    expect(checker.asked).toHaveLength(1);
    expect(checker.asked[0]?.subjects[0]).toContain('CN=release');
    expect(checker.asked[0]?.subjects).toHaveLength(2);
    expect(checker.asked[0]?.options.signingTime).toBeUndefined();
  });

  it.each([
    ['revoked', revoked],
    ['unknown', unknown],
  ])(
    'fails a %s chain where revocation is enforced (strict, or an enforce override)',
    async (_name, answer) => {
      for (const overrides of [{}, { level: 'permissive' as const, revocation: 'enforce' as const }]) {
        const result = await verify(new ScriptedRevocation(() => answer), overrides);
        expect(result).toMatchObject({ verified: false, reason: 'UntrustedSigner' });
        expect(result.message).toContain(`revocation: ${answer.details[0] ?? ''}`);
      }
    },
  );

  it('only reports a revoked chain where revocation is logged (permissive, audit, a log override)', async () => {
    for (const overrides of [
      { level: 'permissive' as const },
      { level: 'audit' as const },
      { revocation: 'log' as const },
    ]) {
      const result = await verify(new ScriptedRevocation(() => revoked), overrides);
      expect(result.verified).toBe(true);
      expect(result.message).toContain('revocation (logged)');
    }
  });

  it('asks once per distinct chain, however many copies of a signature the registry attached', async () => {
    const checker = new ScriptedRevocation(() => revoked);
    const bytes = buildJws(signer, chartTarget);
    const copies = Array.from({ length: 20 }, (_, i) =>
      jwsEnvelope(bytes, `sha256:${i.toString(16).padStart(64, '0')}`),
    );
    const result = await verifyNotation(chartTarget, copies, trustFor(signer), new Date(), checker);
    expect(result).toMatchObject({ verified: false, reason: 'UntrustedSigner' });
    expect(checker.asked).toHaveLength(1);
  });

  it('does not ask at all with revocation: skip', async () => {
    const checker = new ScriptedRevocation(() => revoked);
    const result = await verify(checker, { revocation: 'skip' });
    expect(result.verified).toBe(true);
    expect(result.message).toContain('revocation skipped');
    expect(checker.asked).toHaveLength(0);
  });

  it('never follows the locations of a chain that does not lead to the trust store (audit logs authenticity)', async () => {
    const stranger = await createTestSigner();
    const checker = new ScriptedRevocation(() => ok);
    const result = await verifyNotation(
      chartTarget,
      [jwsEnvelope(buildJws(stranger, chartTarget))],
      trustFor(signer, { level: 'audit' }),
      new Date(),
      checker,
    );
    expect(result.verified).toBe(true); // audit: authenticity only logged
    expect(result.message).toContain('revocation not checked (the chain does not lead to the trust store)');
    expect(checker.asked).toHaveLength(0);
  });

  it('passes the authentic signing time for notary.x509.signingAuthority', async () => {
    const signedAt = new Date(Math.floor(Date.now() / 1000) * 1000); // after the leaf's notBefore
    const bytes = buildJws(signer, chartTarget, {
      header: {
        'io.cncf.notary.signingScheme': 'notary.x509.signingAuthority',
        'io.cncf.notary.signingTime': undefined,
        'io.cncf.notary.authenticSigningTime': iso(signedAt),
        crit: ['io.cncf.notary.signingScheme', 'io.cncf.notary.authenticSigningTime'],
      },
    });
    const checker = new ScriptedRevocation(() => ok);
    const trust = trustFor(signer, { caCertificates: [], tsaCertificates: [signer.caPem] });
    const result = await verifyNotation(chartTarget, [jwsEnvelope(bytes)], trust, new Date(), checker);
    expect(result.verified, result.message).toBe(true);
    expect(checker.asked[0]?.options.signingTime?.getTime()).toBe(signedAt.getTime());
  });

  it('refuses a timestamp from a revoked TSA chain once the signing chain has expired (logged at permissive)', async () => {
    const envelope = JSON.parse(buildJws(signer, chartTarget).toString()) as {
      signature: string;
      header: Record<string, unknown>;
    };
    const token = await timestampToken(authority, Buffer.from(envelope.signature, 'base64url'));
    envelope.header['io.cncf.notary.timestampSignature'] = token.toString('base64');
    const bytes = Buffer.from(JSON.stringify(envelope));
    const afterExpiry = new Date(signer.notAfter.getTime() + DAY);
    const tsaRevoked = (subjects: string[]) => (subjects[0]?.includes('CN=tsa') ? revoked : ok);
    const trust = trustFor(signer, { tsaCertificates: [authority.root.certPem] });

    const checker = new ScriptedRevocation(tsaRevoked);
    const strict = await verifyNotation(chartTarget, [jwsEnvelope(bytes)], trust, afterExpiry, checker);
    expect(strict).toMatchObject({ verified: false, reason: 'CertificateExpired' });
    expect(strict.message).toContain('the timestamping chain');
    expect(checker.asked.map((a) => a.subjects[0])).toContainEqual(expect.stringContaining('CN=tsa'));

    const permissive = await verifyNotation(
      chartTarget,
      [jwsEnvelope(bytes)],
      { ...trust, level: 'permissive' },
      afterExpiry,
      new ScriptedRevocation(tsaRevoked),
    );
    expect(permissive.verified).toBe(true);

    const fine = await verifyNotation(
      chartTarget,
      [jwsEnvelope(bytes)],
      trust,
      afterExpiry,
      new ScriptedRevocation(() => ok),
    );
    expect(fine.verified, fine.message).toBe(true);
  });
});
