// RFC 3161 countersignatures from an openssl TSA: they let an expired signing chain verify when the
// timestamp proves the signature was made while it was valid (notation's afterCertExpiry), and only then.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createCA,
  createTimestampAuthority,
  timestampToken,
  type TimestampAuthority,
} from '../../env/pki.ts';
import { NotationError } from '../../../src/verify/notation/errors.ts';
import { verifyNotation } from '../../../src/verify/notation/notation-verifier.ts';
import { verifyTimestamp } from '../../../src/verify/notation/timestamp.ts';
import { X509Certificate } from 'node:crypto';
import {
  buildJws,
  chartTarget,
  createTestSigner,
  jwsEnvelope,
  trustFor,
  type TestSigner,
} from './fixtures.ts';

let signer: TestSigner;
let authority: TimestampAuthority;
let otherRoot: string;

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tagguard-notation-tsa-'));
  [signer, authority, otherRoot] = await Promise.all([
    createTestSigner(),
    createTimestampAuthority(dir),
    createCA(dir, 'unrelated', 30).then((ca) => ca.certPem),
  ]);
  // The roots start "now"; a timestamp's range (genTime ± 1 s, genTime in whole seconds) must not
  // begin before them, exactly as notation requires.
  await new Promise((resolve) => setTimeout(resolve, 2100));
});

/** A JWS whose unprotected header carries a TSA token over its signature value (or over `over`). */
const timestamped = async (over?: Buffer): Promise<Buffer> => {
  const envelope = JSON.parse(buildJws(signer, chartTarget).toString()) as {
    signature: string;
    header: Record<string, unknown>;
  };
  const token = await timestampToken(authority, over ?? Buffer.from(envelope.signature, 'base64url'));
  envelope.header['io.cncf.notary.timestampSignature'] = token.toString('base64');
  return Buffer.from(JSON.stringify(envelope));
};

const DAY = 86_400_000;

describe('timestamp countersignatures', () => {
  it('prove signing within the validity of a chain that has expired since', async () => {
    const bytes = await timestamped();
    const afterExpiry = new Date(signer.notAfter.getTime() + DAY);
    const trust = trustFor(signer, { tsaCertificates: [authority.root.certPem] });
    const result = await verifyNotation(chartTarget, [jwsEnvelope(bytes)], trust, afterExpiry);
    expect(result.verified, result.message).toBe(true);
    expect(result.message).toContain('timestamped by');
  });

  it('are not needed while the chain is valid', async () => {
    const result = await verifyNotation(
      chartTarget,
      [jwsEnvelope(await timestamped())],
      trustFor(signer),
      new Date(),
    );
    expect(result.verified).toBe(true);
    expect(result.message).toContain('not needed');
  });

  it.each([
    ['no TSA certificates are configured', () => [] as string[]],
    ['the TSA store holds another root', () => [otherRoot]],
    ['the TSA store holds the signing CA instead', () => [signer.caPem]],
  ])('do not help when %s', async (_why, store) => {
    const trust = trustFor(signer, { tsaCertificates: store() });
    const result = await verifyNotation(
      chartTarget,
      [jwsEnvelope(await timestamped())],
      trust,
      new Date(signer.notAfter.getTime() + DAY),
    );
    expect(result).toMatchObject({ verified: false, reason: 'CertificateExpired' });
  });

  it('do not help when they timestamp another signature', async () => {
    const trust = trustFor(signer, { tsaCertificates: [authority.root.certPem] });
    const bytes = await timestamped(Buffer.from('another signature'));
    const result = await verifyNotation(
      chartTarget,
      [jwsEnvelope(bytes)],
      trust,
      new Date(signer.notAfter.getTime() + DAY),
    );
    expect(result).toMatchObject({ verified: false, reason: 'CertificateExpired' });
    expect(result.message).toContain('message imprint');
  });
});

describe('verifyTimestamp', () => {
  const root = (): Buffer => new X509Certificate(authority.root.certPem).raw;

  it('returns the time range of a valid token', async () => {
    const before = Date.now() - 2000;
    const stamp = verifyTimestamp(await timestampToken(authority, Buffer.from('sig')), Buffer.from('sig'), [
      root(),
    ]);
    expect(stamp.earliest.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(stamp.latest.getTime() - stamp.earliest.getTime()).toBe(2000); // accuracy secs:1 each side
    expect(stamp.tsaSubject).toContain('CN=tsa');
  });

  it.each([
    ['a token whose TSTInfo was altered', (t: Buffer) => Buffer.from(t).fill(0x41, 70, 71)],
    ['a truncated token', (t: Buffer) => t.subarray(0, t.length - 10)],
    ['random bytes', () => Buffer.from('not a token at all')],
  ])('refuses %s with InvalidTimestamp', async (_why, change) => {
    const token = change(await timestampToken(authority, Buffer.from('sig')));
    let code: string | undefined;
    try {
      verifyTimestamp(token, Buffer.from('sig'), [root()]);
    } catch (error) {
      code = error instanceof NotationError ? error.code : 'other';
    }
    expect(code).toBe('InvalidTimestamp');
  });
});
