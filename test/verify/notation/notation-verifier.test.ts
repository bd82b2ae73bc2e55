// verifyNotation as the policy layer sees it: levels and their per-check actions, trust stores per
// signing scheme, identities, the target descriptor, several envelopes and the reason reported.
import { beforeAll, describe, expect, it } from 'vitest';
import type { NotationLevel } from '../../../src/api/artifact-verification.ts';
import { verifyNotation } from '../../../src/verify/notation/notation-verifier.ts';
import { VERIFICATION_LEVELS } from '../../../src/verify/notation/verification-level.ts';
import type { VerifyReason } from '../../../src/verify/types.ts';
import {
  buildCose,
  buildJws,
  chartTarget,
  coseEnvelope,
  createTestSigner,
  jwsEnvelope,
  trustFor,
  type TestSigner,
} from './fixtures.ts';

let signer: TestSigner;
let otherCa: TestSigner;

beforeAll(async () => {
  [signer, otherCa] = await Promise.all([createTestSigner(), createTestSigner()]);
});

const HOUR = 3_600_000;
const iso = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

describe('verification levels (trust-store-trust-policy.md)', () => {
  it('follow the spec table: integrity always enforced; audit logs the rest; permissive enforces authenticity only', () => {
    expect(VERIFICATION_LEVELS).toEqual({
      strict: {
        integrity: 'enforce',
        authenticity: 'enforce',
        authenticTimestamp: 'enforce',
        expiry: 'enforce',
        revocation: 'enforce',
      },
      permissive: {
        integrity: 'enforce',
        authenticity: 'enforce',
        authenticTimestamp: 'log',
        expiry: 'log',
        revocation: 'log',
      },
      audit: {
        integrity: 'enforce',
        authenticity: 'log',
        authenticTimestamp: 'log',
        expiry: 'log',
        revocation: 'log',
      },
    });
  });

  type Failure =
    'tampered' | 'untrusted identity' | 'another CA' | 'signature expired' | 'certificate expired';
  const scenario = async (failure: Failure, level: NotationLevel): ReturnType<typeof verifyNotation> => {
    const signingTime = new Date();
    let now = new Date(signingTime.getTime() + 60_000);
    let trust = trustFor(signer, { level });
    let bytes = buildJws(signer, chartTarget, { signingTime });
    if (failure === 'tampered') {
      const envelope = JSON.parse(bytes.toString()) as { signature: string };
      const signature = Buffer.from(envelope.signature, 'base64url');
      signature[0] = (signature[0] ?? 0) ^ 0xff;
      bytes = Buffer.from(JSON.stringify({ ...envelope, signature: signature.toString('base64url') }));
    }
    if (failure === 'untrusted identity')
      trust = { ...trust, trustedIdentities: ['x509.subject: C=US, ST=WA, O=Acme, CN=nightly'] };
    if (failure === 'another CA') trust = { ...trust, caCertificates: [otherCa.caPem] };
    if (failure === 'signature expired') {
      const expiry = new Date(signingTime.getTime() + HOUR);
      bytes = buildJws(signer, chartTarget, {
        signingTime,
        header: {
          'io.cncf.notary.expiry': iso(expiry),
          crit: ['io.cncf.notary.signingScheme', 'io.cncf.notary.expiry'],
        },
      });
      now = new Date(expiry.getTime() + 1000);
    }
    if (failure === 'certificate expired') now = new Date(signer.notAfter.getTime() + 1000);
    return await verifyNotation(chartTarget, [jwsEnvelope(bytes)], trust, now);
  };

  const table: [Failure, Record<NotationLevel, VerifyReason | 'verified'>][] = [
    ['tampered', { strict: 'SignatureInvalid', permissive: 'SignatureInvalid', audit: 'SignatureInvalid' }],
    ['untrusted identity', { strict: 'UntrustedSigner', permissive: 'UntrustedSigner', audit: 'verified' }],
    ['another CA', { strict: 'UntrustedSigner', permissive: 'UntrustedSigner', audit: 'verified' }],
    ['signature expired', { strict: 'CertificateExpired', permissive: 'verified', audit: 'verified' }],
    ['certificate expired', { strict: 'CertificateExpired', permissive: 'verified', audit: 'verified' }],
  ];
  const cases = table.flatMap(([failure, byLevel]) =>
    (Object.entries(byLevel) as [NotationLevel, VerifyReason | 'verified'][]).map(
      ([level, expected]) => [failure, level, expected] as const,
    ),
  );

  it.each(cases)('%s at level %s → %s', async (failure, level, expected) => {
    const result = await scenario(failure, level);
    if (expected === 'verified') {
      expect(result.verified).toBe(true);
      expect(result.message).toContain(`logged at level ${level}`);
    } else expect(result).toMatchObject({ verified: false, reason: expected });
  });
});

describe('verifyNotation', () => {
  it('verifies JWS and COSE and reports format and the leaf subject', async () => {
    const trust = trustFor(signer);
    const jws = await verifyNotation(
      chartTarget,
      [jwsEnvelope(buildJws(signer, chartTarget))],
      trust,
      new Date(),
    );
    const cose = await verifyNotation(
      chartTarget,
      [coseEnvelope(buildCose(signer, chartTarget))],
      trust,
      new Date(),
    );
    expect(jws).toMatchObject({
      name: 'acme-release',
      type: 'notation',
      verified: true,
      format: 'notation-jws',
    });
    expect(cose).toMatchObject({ verified: true, format: 'notation-cose' });
    expect(jws.identity).toBe('C=US, ST=WA, L=Seattle, O=Acme, CN=release');
    expect(jws.message).toContain('revocation not checked');
  });

  it('reports CertificateExpired for a certificate that is not valid yet', async () => {
    const bytes = buildJws(signer, chartTarget);
    const result = await verifyNotation(
      chartTarget,
      [jwsEnvelope(bytes)],
      trustFor(signer),
      new Date(Date.now() - 24 * HOUR),
    );
    expect(result).toMatchObject({ verified: false, reason: 'CertificateExpired' });
    expect(result.message).toContain('valid from');
  });

  it('accepts any signer of the trust store with the wildcard identity', async () => {
    const trust = trustFor(signer, { trustedIdentities: ['*'] });
    expect(
      (await verifyNotation(chartTarget, [jwsEnvelope(buildJws(signer, chartTarget))], trust, new Date()))
        .verified,
    ).toBe(true);
  });

  it('reports SignatureMissing without envelopes', async () => {
    expect(await verifyNotation(chartTarget, [], trustFor(signer), new Date())).toMatchObject({
      verified: false,
      reason: 'SignatureMissing',
    });
  });

  it.each([
    ['digest', { digest: `sha256:${'cd'.repeat(32)}` }],
    ['media type', { mediaType: 'application/vnd.oci.image.index.v1+json' }],
    ['size', { size: 1235 }],
  ])(
    'reports DigestMismatch when the signed descriptor differs in %s, at every level',
    async (_field, change) => {
      const bytes = buildJws(signer, chartTarget);
      for (const level of ['strict', 'permissive', 'audit'] as const) {
        const result = await verifyNotation(
          { ...chartTarget, ...change },
          [jwsEnvelope(bytes)],
          trustFor(signer, { level }),
          new Date(),
        );
        expect(result).toMatchObject({ verified: false, reason: 'DigestMismatch' });
      }
    },
  );

  it('verifies when any envelope verifies', async () => {
    const envelopes = [jwsEnvelope(Buffer.from('{}')), coseEnvelope(buildCose(signer, chartTarget))];
    expect((await verifyNotation(chartTarget, envelopes, trustFor(signer), new Date())).verified).toBe(true);
  });

  it('reports the failure of the envelope that got furthest', async () => {
    const malformed = jwsEnvelope(Buffer.from('{}'));
    const untrusted = jwsEnvelope(buildJws(otherCa, chartTarget));
    const otherTarget = jwsEnvelope(buildJws(signer, { ...chartTarget, size: 1 }));
    const trust = trustFor(signer);
    const now = new Date();
    expect((await verifyNotation(chartTarget, [malformed, untrusted], trust, now)).reason).toBe(
      'UntrustedSigner',
    );
    expect((await verifyNotation(chartTarget, [otherTarget, malformed, untrusted], trust, now)).reason).toBe(
      'DigestMismatch',
    );
    const expired = new Date(signer.notAfter.getTime() + 1000);
    expect(
      (
        await verifyNotation(
          chartTarget,
          [untrusted, jwsEnvelope(buildJws(signer, chartTarget))],
          trust,
          expired,
        )
      ).reason,
    ).toBe('CertificateExpired');
  });

  it('refuses an envelope media type that is not JWS or COSE', async () => {
    const envelope = { ...jwsEnvelope(buildJws(signer, chartTarget)), mediaType: 'application/json' };
    const result = await verifyNotation(chartTarget, [envelope], trustFor(signer), new Date());
    expect(result).toMatchObject({ verified: false, reason: 'SignatureInvalid' });
    expect(result.message).toContain('UnsupportedMediaType');
  });

  it.each([
    ['an invalid trusted identity', { trustedIdentities: ['x509.subject: CN=release'] }],
    ['a trust store entry that is not PEM', { caCertificates: ['not a certificate'] }],
    ['no CA certificates', { caCertificates: [] }],
  ])('fails closed with UntrustedSigner on %s', async (_why, overrides) => {
    const result = await verifyNotation(
      chartTarget,
      [jwsEnvelope(buildJws(signer, chartTarget))],
      trustFor(signer, overrides),
      new Date(),
    );
    expect(result).toMatchObject({ verified: false, reason: 'UntrustedSigner' });
  });

  it('fails closed on an invalid policy even at level audit', async () => {
    const trust = trustFor(signer, {
      level: 'audit',
      trustedIdentities: ['*', 'x509.subject: C=US, ST=WA, O=Acme'],
    });
    const result = await verifyNotation(
      chartTarget,
      [jwsEnvelope(buildJws(signer, chartTarget))],
      trust,
      new Date(),
    );
    expect(result).toMatchObject({ verified: false, reason: 'UntrustedSigner' });
  });
});

describe('notary.x509.signingAuthority', () => {
  const authority = (authenticSigningTime: Date): Buffer =>
    buildJws(signer, chartTarget, {
      header: {
        'io.cncf.notary.signingScheme': 'notary.x509.signingAuthority',
        'io.cncf.notary.signingTime': undefined,
        'io.cncf.notary.authenticSigningTime': iso(authenticSigningTime),
        crit: ['io.cncf.notary.signingScheme', 'io.cncf.notary.authenticSigningTime'],
      },
    });

  it('anchors in the signing-authority store (tsaCertificates), not the CA store', async () => {
    const bytes = authority(new Date());
    const inCaStore = await verifyNotation(chartTarget, [jwsEnvelope(bytes)], trustFor(signer), new Date());
    expect(inCaStore).toMatchObject({ verified: false, reason: 'UntrustedSigner' });
    const authorityTrust = trustFor(signer, { caCertificates: [], tsaCertificates: [signer.caPem] });
    expect(
      (await verifyNotation(chartTarget, [jwsEnvelope(bytes)], authorityTrust, new Date())).verified,
    ).toBe(true);
  });

  it('checks certificate validity at the authentic signing time, not now', async () => {
    const trust = trustFor(signer, { caCertificates: [], tsaCertificates: [signer.caPem] });
    const afterExpiry = new Date(signer.notAfter.getTime() + 10 * 24 * HOUR);
    expect(
      (await verifyNotation(chartTarget, [jwsEnvelope(authority(new Date()))], trust, afterExpiry)).verified,
    ).toBe(true);
    const beforeIssuance = new Date(Date.now() - 10 * 24 * HOUR);
    expect(
      await verifyNotation(chartTarget, [jwsEnvelope(authority(beforeIssuance))], trust, new Date()),
    ).toMatchObject({
      verified: false,
      reason: 'CertificateExpired',
    });
  });
});

describe('one envelope at a time', () => {
  const throwingChecker = {
    check: (): never => {
      throw new Error('OCSP responder sent something unparsable');
    },
  };

  it('takes a revocation check that throws as an unknown status, which the level decides', async () => {
    const envelope = jwsEnvelope(buildJws(signer, chartTarget));
    const strict = await verifyNotation(
      chartTarget,
      [envelope],
      trustFor(signer),
      new Date(),
      throwingChecker,
    );
    expect(strict).toMatchObject({ verified: false, reason: 'UntrustedSigner' });
    const permissive = await verifyNotation(
      chartTarget,
      [envelope],
      trustFor(signer, { level: 'permissive' }),
      new Date(),
      throwingChecker,
    );
    expect(permissive.verified).toBe(true);
  });

  it('fails an envelope whose judging throws and still judges the next one', async () => {
    // Not bytes where the envelope should be: reading it throws inside the verifier.
    const broken = { ...jwsEnvelope(buildJws(signer, chartTarget)), bytes: undefined as unknown as Buffer };
    const good = jwsEnvelope(buildJws(signer, chartTarget));
    expect(await verifyNotation(chartTarget, [broken], trustFor(signer), new Date())).toMatchObject({
      verified: false,
      reason: 'SignatureInvalid',
    });
    expect((await verifyNotation(chartTarget, [broken, good], trustFor(signer), new Date())).verified).toBe(
      true,
    );
  });
});
