// CRL checks of notation chains against real CRLs made by `openssl ca` (revoked with a reason, held,
// with a compromise date, expired, signed by another CA, truncated). HTTP is an in-memory map of URL →
// bytes (unit tests open no sockets); test/integration/verify/notation-revocation.test.ts goes over HTTP.
import { X509Certificate } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCA, issueCertificate, type KeyPair } from '../../../env/pki.ts';
import { createCrlAuthority, generateCrl, revokeCertificate, type CrlAuthority } from '../../../env/crl.ts';
import { parseCertificate, type SigningCertificate } from '../../../../src/verify/notation/certificate.ts';
import { checkCrl, CrlCache, parseCrl } from '../../../../src/verify/notation/revocation/crl.ts';
import { RevocationError } from '../../../../src/verify/notation/revocation/errors.ts';
import type { RevocationHttp } from '../../../../src/verify/notation/revocation/types.ts';

const URL_A = 'http://crl.example/a.crl';
const URL_B = 'http://crl.example/b.crl';

const certOf = (pair: KeyPair): SigningCertificate =>
  parseCertificate(Buffer.from(new X509Certificate(pair.certPem).raw));

class MemoryHttp implements RevocationHttp {
  readonly files = new Map<string, Buffer>();
  readonly fetched: string[] = [];
  get(url: string, maxBytes: number): Promise<Buffer> {
    this.fetched.push(url);
    const body = this.files.get(url);
    if (!body) return Promise.reject(new RevocationError('FetchFailed', `${url}: HTTP 404`));
    if (body.length > maxBytes) return Promise.reject(new RevocationError('TooLarge', `${url}: too large`));
    return Promise.resolve(body);
  }
  post(): Promise<Buffer> {
    return Promise.reject(new Error('CRLs are never POSTed'));
  }
}

let dir: string;
let ca: KeyPair;
let issuer: SigningCertificate;
let authority: CrlAuthority;
let emptyCrl: Buffer;

const leaf = async (name: string, urls: readonly string[] = [URL_A]): Promise<KeyPair> =>
  issueCertificate(ca, dir, name, {
    subject: `/O=Acme/CN=${name}`,
    usage: 'code-signing',
    ...(urls.length > 0
      ? { extraExtensions: [`crlDistributionPoints = ${urls.map((u) => `URI:${u}`).join(', ')}`] }
      : {}),
  });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tagguard-crl-'));
  ca = await createCA(dir, 'crl-ca');
  issuer = certOf(ca);
  authority = await createCrlAuthority(ca, dir, 'crl-ca');
  emptyCrl = await generateCrl(authority);
});

describe('parseCrl', () => {
  it('reads an openssl CRL: issuer, dates, signature algorithm', () => {
    const crl = parseCrl(emptyCrl);
    expect(crl.issuerRaw.equals(issuer.subjectRaw)).toBe(true);
    expect(crl.signatureAlgorithmOid).toBe('1.2.840.10045.4.3.2');
    expect(crl.nextUpdate!.getTime() - crl.thisUpdate.getTime()).toBe(24 * 3600 * 1000);
    expect(crl.revoked).toBeUndefined();
  });

  it('refuses garbage, empty and truncated bytes with Malformed', () => {
    for (const bytes of [
      Buffer.from('not a crl at all'),
      Buffer.alloc(0),
      emptyCrl.subarray(0, emptyCrl.length - 10),
    ])
      expect(() => parseCrl(bytes)).toThrow(expect.objectContaining({ code: 'Malformed' }));
  });
});

describe('checkCrl', () => {
  it('says non-revocable without a distribution point, OK for a certificate not on the CRL', async () => {
    const http = new MemoryHttp();
    http.files.set(URL_A, emptyCrl);
    const plain = certOf(await leaf('no-dp', []));
    expect(await checkCrl(plain, issuer, http, { now: new Date() })).toMatchObject({
      status: 'non-revocable',
    });
    expect(http.fetched).toEqual([]);
    const listed = certOf(await leaf('fine'));
    expect(listed.crlDistributionPoints).toEqual([URL_A]);
    expect(await checkCrl(listed, issuer, http, { now: new Date() })).toMatchObject({
      status: 'ok',
      method: 'crl',
    });
  });

  it('finds a revoked certificate, whatever the reason, and a held one; other serials stay OK', async () => {
    const compromised = await leaf('compromised');
    const held = await leaf('held');
    const bystander = await leaf('bystander');
    await revokeCertificate(authority, compromised.certFile, 'keyCompromise');
    await revokeCertificate(authority, held.certFile, 'certificateHold');
    const http = new MemoryHttp();
    http.files.set(URL_A, await generateCrl(authority));
    const now = new Date();
    expect(await checkCrl(certOf(compromised), issuer, http, { now })).toMatchObject({ status: 'revoked' });
    expect(await checkCrl(certOf(held), issuer, http, { now })).toMatchObject({ status: 'revoked' });
    expect(await checkCrl(certOf(bystander), issuer, http, { now })).toMatchObject({ status: 'ok' });
  });

  it('does not count a revocation whose invalidity date is after the authentic signing time', async () => {
    const cert = await leaf('later-compromise');
    const compromisedAt = new Date(Date.now() - 3600_000);
    const stamp = `${compromisedAt.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
    // -crl_compromise: reason keyCompromise with an invalidity date
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    await promisify(execFile)('openssl', [
      'ca',
      '-config',
      authority.config,
      '-cert',
      ca.certFile,
      '-keyfile',
      ca.keyFile,
      '-revoke',
      cert.certFile,
      '-crl_compromise',
      stamp,
    ]);
    const http = new MemoryHttp();
    http.files.set(URL_A, await generateCrl(authority));
    const parsed = certOf(cert);
    const now = new Date();
    expect(await checkCrl(parsed, issuer, http, { now })).toMatchObject({ status: 'revoked' });
    const before = new Date(compromisedAt.getTime() - 60_000);
    expect(await checkCrl(parsed, issuer, http, { now, signingTime: before })).toMatchObject({
      status: 'ok',
    });
    const after = new Date(compromisedAt.getTime() + 60_000);
    expect(await checkCrl(parsed, issuer, http, { now, signingTime: after })).toMatchObject({
      status: 'revoked',
    });
  });

  it('is unknown for an expired CRL, one from another CA, a tampered one, and one it cannot fetch', async () => {
    const cert = certOf(await leaf('unknowns'));
    const now = new Date();
    const expired = new MemoryHttp();
    expired.files.set(URL_A, emptyCrl);
    const later = new Date(now.getTime() + 2 * 24 * 3600_000);
    expect(await checkCrl(cert, issuer, expired, { now: later })).toMatchObject({ status: 'unknown' });

    const otherCa = await createCA(dir, 'other-ca');
    const other = new MemoryHttp();
    other.files.set(URL_A, await generateCrl(await createCrlAuthority(otherCa, dir, 'other-ca')));
    const foreign = await checkCrl(cert, issuer, other, { now });
    expect(foreign).toMatchObject({ status: 'unknown' });
    expect(foreign.detail).toContain(URL_A);

    const tampered = Buffer.from(emptyCrl);
    tampered[tampered.length - 5] = (tampered[tampered.length - 5] ?? 0) ^ 0x01;
    const bad = new MemoryHttp();
    bad.files.set(URL_A, tampered);
    expect(await checkCrl(cert, issuer, bad, { now })).toMatchObject({ status: 'unknown' });

    expect(await checkCrl(cert, issuer, new MemoryHttp(), { now })).toMatchObject({ status: 'unknown' });
  });

  it('refuses a CRL from an issuer whose key usage does not allow signing CRLs', async () => {
    const cert = certOf(await leaf('no-crlsign'));
    const http = new MemoryHttp();
    http.files.set(URL_A, emptyCrl);
    const keyCertSignOnly = {
      ...issuer,
      keyUsage: { critical: true, bits: [false, false, false, false, false, true] },
    };
    expect(await checkCrl(cert, keyCertSignOnly, http, { now: new Date() })).toMatchObject({
      status: 'unknown',
    });
    expect(await checkCrl(cert, issuer, http, { now: new Date() })).toMatchObject({ status: 'ok' });
  });

  it('checks every distribution point and stops at a revocation', async () => {
    const cert = await leaf('two-points', [URL_A, URL_B]);
    const http = new MemoryHttp();
    http.files.set(URL_A, emptyCrl);
    await revokeCertificate(authority, cert.certFile);
    http.files.set(URL_B, await generateCrl(authority));
    expect(await checkCrl(certOf(cert), issuer, http, { now: new Date() })).toMatchObject({
      status: 'revoked',
    });
    expect(http.fetched).toEqual([URL_A, URL_B]);
  });

  it('caches a CRL by URL until its nextUpdate', async () => {
    const cert = certOf(await leaf('cached'));
    const http = new MemoryHttp();
    http.files.set(URL_A, emptyCrl);
    const cache = new CrlCache();
    const now = new Date();
    await checkCrl(cert, issuer, http, { now, cache });
    await checkCrl(cert, issuer, http, { now: new Date(now.getTime() + 3600_000), cache });
    expect(http.fetched).toEqual([URL_A]);
    // past nextUpdate: fetched again (and that stale CRL is refused)
    expect(
      await checkCrl(cert, issuer, http, { now: new Date(now.getTime() + 2 * 86_400_000), cache }),
    ).toMatchObject({
      status: 'unknown',
    });
    expect(http.fetched).toEqual([URL_A, URL_A]);
  });
});
