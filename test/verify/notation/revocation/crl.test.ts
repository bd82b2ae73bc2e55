// CRL checks of notation chains against real CRLs made by `openssl ca` (revoked with a reason, held,
// with a compromise date, expired, signed by another CA, tampered, truncated). HTTP is an in-memory map
// of URL → bytes (unit tests open no sockets); test/integration/verify/notation-revocation.test.ts goes
// over HTTP with `notation verify` beside it.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { OpensslCa } from '../../../env/openssl-ca.ts';
import { checkCrl, CrlCache, parseCrl } from '../../../../src/verify/notation/revocation/crl.ts';
import { RevocationFetchError } from '../../../../src/registry/revocation-http.ts';
import type { RevocationHttp } from '../../../../src/verify/notation/revocation/types.ts';

const URL_A = 'http://crl.example/a.crl';
const URL_B = 'http://crl.example/b.crl';
const DAY = 86_400_000;

class MemoryHttp implements RevocationHttp {
  readonly files = new Map<string, Buffer>();
  readonly fetched: string[] = [];
  get(url: string, maxBytes: number): Promise<Buffer> {
    this.fetched.push(url);
    const body = this.files.get(url);
    if (!body) return Promise.reject(new RevocationFetchError('FetchFailed', `${url}: HTTP 404`));
    if (body.length > maxBytes)
      return Promise.reject(new RevocationFetchError('TooLarge', `${url}: too large`));
    return Promise.resolve(body);
  }
  post(): Promise<Buffer> {
    return Promise.reject(new Error('CRLs are never POSTed'));
  }
}

const served = (url: string, bytes: Buffer): MemoryHttp => {
  const http = new MemoryHttp();
  http.files.set(url, bytes);
  return http;
};

let ca: OpensslCa;
let emptyCrl: Buffer;

beforeAll(async () => {
  ca = await OpensslCa.create(await mkdtemp(join(tmpdir(), 'tagguard-crl-')), 'crl-ca');
  emptyCrl = await ca.crl();
});

describe('parseCrl', () => {
  it('reads an openssl CRL: issuer, dates, signature algorithm', () => {
    const crl = parseCrl(emptyCrl);
    expect(crl.issuerRaw.equals(ca.ca.cert.subjectRaw)).toBe(true);
    expect(crl.signatureAlgorithmOid).toBe('1.2.840.10045.4.3.2');
    expect(crl.nextUpdate!.getTime() - crl.thisUpdate.getTime()).toBe(DAY);
    expect(crl.revoked).toBeUndefined();
  });

  it('refuses garbage, empty and truncated bytes with Malformed', () => {
    for (const bytes of [
      Buffer.from('not a crl'),
      Buffer.alloc(0),
      emptyCrl.subarray(0, emptyCrl.length - 10),
    ])
      expect(() => parseCrl(bytes)).toThrow(expect.objectContaining({ code: 'Malformed' }));
  });
});

describe('checkCrl', () => {
  it('says non-revocable without a distribution point, OK for a certificate not on the CRL', async () => {
    const http = served(URL_A, emptyCrl);
    const plain = await ca.issue('no-dp');
    expect(await checkCrl(plain.cert, ca.ca.cert, http, { now: new Date() })).toMatchObject({
      status: 'non-revocable',
    });
    expect(http.fetched).toEqual([]);
    const listed = await ca.issue('fine', { crlUrls: [URL_A] });
    expect(listed.cert.crlDistributionPoints).toEqual([URL_A]);
    expect(await checkCrl(listed.cert, ca.ca.cert, http, { now: new Date() })).toMatchObject({
      status: 'ok',
      method: 'crl',
    });
  });

  it('finds a revoked certificate, a held one, and leaves other serials OK', async () => {
    const compromised = await ca.issue('compromised', { crlUrls: [URL_A] });
    const held = await ca.issue('held', { crlUrls: [URL_A] });
    const bystander = await ca.issue('bystander', { crlUrls: [URL_A] });
    await ca.revoke(compromised, { reason: 'keyCompromise' });
    await ca.revoke(held, { reason: 'certificateHold' });
    const http = served(URL_A, await ca.crl());
    const now = new Date();
    expect(await checkCrl(compromised.cert, ca.ca.cert, http, { now })).toMatchObject({ status: 'revoked' });
    expect(await checkCrl(held.cert, ca.ca.cert, http, { now })).toMatchObject({ status: 'revoked' });
    expect(await checkCrl(bystander.cert, ca.ca.cert, http, { now })).toMatchObject({ status: 'ok' });
  });

  it('does not count a revocation whose invalidity date is after the authentic signing time', async () => {
    const cert = await ca.issue('later-compromise', { crlUrls: [URL_A] });
    const compromisedAt = new Date(Date.now() - 3_600_000);
    await ca.revoke(cert, { invalidityDate: compromisedAt });
    const http = served(URL_A, await ca.crl());
    const now = new Date();
    expect(await checkCrl(cert.cert, ca.ca.cert, http, { now })).toMatchObject({ status: 'revoked' });
    const before = new Date(compromisedAt.getTime() - 60_000);
    expect(await checkCrl(cert.cert, ca.ca.cert, http, { now, signingTime: before })).toMatchObject({
      status: 'ok',
    });
    const after = new Date(compromisedAt.getTime() + 60_000);
    expect(await checkCrl(cert.cert, ca.ca.cert, http, { now, signingTime: after })).toMatchObject({
      status: 'revoked',
    });
  });

  it('is unknown for an expired CRL, one from another CA, a tampered one, and one it cannot fetch', async () => {
    const { cert } = await ca.issue('unknowns', { crlUrls: [URL_A] });
    const issuer = ca.ca.cert;
    const now = new Date();
    expect(
      await checkCrl(cert, issuer, served(URL_A, emptyCrl), { now: new Date(now.getTime() + 2 * DAY) }),
    ).toMatchObject({
      status: 'unknown',
    });

    const other = await OpensslCa.create(await mkdtemp(join(tmpdir(), 'tagguard-crl-other-')), 'other-ca');
    const foreign = await checkCrl(cert, issuer, served(URL_A, await other.crl()), { now });
    expect(foreign).toMatchObject({ status: 'unknown' });
    expect(foreign.detail).toContain(URL_A);

    const tampered = Buffer.from(emptyCrl);
    tampered[tampered.length - 5] = (tampered[tampered.length - 5] ?? 0) ^ 0x01;
    expect(await checkCrl(cert, issuer, served(URL_A, tampered), { now })).toMatchObject({
      status: 'unknown',
    });

    expect(await checkCrl(cert, issuer, new MemoryHttp(), { now })).toMatchObject({ status: 'unknown' });
  });

  it('refuses a CRL from an issuer whose key usage does not allow signing CRLs', async () => {
    const { cert } = await ca.issue('no-crlsign', { crlUrls: [URL_A] });
    const http = served(URL_A, emptyCrl);
    const keyCertSignOnly = {
      ...ca.ca.cert,
      keyUsage: { critical: true, bits: [false, false, false, false, false, true] },
    };
    expect(await checkCrl(cert, keyCertSignOnly, http, { now: new Date() })).toMatchObject({
      status: 'unknown',
    });
    expect(await checkCrl(cert, ca.ca.cert, http, { now: new Date() })).toMatchObject({ status: 'ok' });
  });

  it('checks every distribution point and stops at a revocation', async () => {
    const cert = await ca.issue('two-points', { crlUrls: [URL_A, URL_B] });
    const http = served(URL_A, await ca.crl());
    await ca.revoke(cert);
    http.files.set(URL_B, await ca.crl());
    expect(await checkCrl(cert.cert, ca.ca.cert, http, { now: new Date() })).toMatchObject({
      status: 'revoked',
    });
    expect(http.fetched).toEqual([URL_A, URL_B]);
  });

  it('caches a CRL by URL until its nextUpdate', async () => {
    const { cert } = await ca.issue('cached', { crlUrls: [URL_A] });
    const http = served(URL_A, emptyCrl);
    const cache = new CrlCache();
    const now = new Date();
    await checkCrl(cert, ca.ca.cert, http, { now, cache });
    await checkCrl(cert, ca.ca.cert, http, { now: new Date(now.getTime() + 3_600_000), cache });
    expect(http.fetched).toEqual([URL_A]);
    // past nextUpdate: fetched again (and that stale CRL is refused)
    const later = await checkCrl(cert, ca.ca.cert, http, { now: new Date(now.getTime() + 2 * DAY), cache });
    expect(later).toMatchObject({ status: 'unknown' });
    expect(http.fetched).toEqual([URL_A, URL_A]);
  });

  it('reads the CRL afresh when asked to (a requested re-check), and caches the new one', async () => {
    const cert = await ca.issue('refreshed', { crlUrls: [URL_A] });
    const http = served(URL_A, await ca.crl());
    const cache = new CrlCache();
    const now = new Date();
    expect(await checkCrl(cert.cert, ca.ca.cert, http, { now, cache })).toMatchObject({ status: 'ok' });
    await ca.revoke(cert);
    http.files.set(URL_A, await ca.crl());
    expect(await checkCrl(cert.cert, ca.ca.cert, http, { now, cache })).toMatchObject({ status: 'ok' }); // cached
    expect(await checkCrl(cert.cert, ca.ca.cert, http, { now, cache, refresh: true })).toMatchObject({
      status: 'revoked',
    });
    expect(await checkCrl(cert.cert, ca.ca.cert, http, { now, cache })).toMatchObject({ status: 'revoked' });
  });
});
