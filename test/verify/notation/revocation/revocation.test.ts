// The chain decision (RevocationChecker): root → intermediate → leaf made by `openssl ca`, the leaf with an
// OCSP responder and a CRL, the intermediate with the root's CRL. OCSP answers come from `openssl ocsp`,
// CRLs from `openssl ca -gencrl`; HTTP is in memory (unit tests open no sockets).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { OpensslCa, type Issued } from '../../../env/openssl-ca.ts';
import { RevocationChecker } from '../../../../src/verify/notation/revocation/revocation.ts';
import { RevocationFetchError } from '../../../../src/registry/revocation-http.ts';
import type { RevocationHttp } from '../../../../src/verify/notation/revocation/types.ts';

const OCSP = 'http://ocsp.example/';
const LEAF_CRL = 'http://crl.example/intermediate.crl';
const ROOT_CRL = 'http://crl.example/root.crl';

/** CRLs by URL; OCSP GETs answered by the intermediate's `openssl ocsp`, or with `ocspAnswer` when set. */
class ChainHttp implements RevocationHttp {
  readonly fetched: string[] = [];
  readonly crls = new Map<string, Buffer>();
  ocspAnswer: Buffer | undefined;
  private readonly responder: OpensslCa;
  constructor(responder: OpensslCa) {
    this.responder = responder;
  }
  async get(url: string): Promise<Buffer> {
    this.fetched.push(url.startsWith(OCSP) ? OCSP : url);
    if (url.startsWith(OCSP)) {
      if (this.ocspAnswer) return this.ocspAnswer;
      const request = Buffer.from(decodeURIComponent(url.slice(OCSP.length)), 'base64');
      return this.responder.respond(request, { signer: this.responder.ca, days: 1 });
    }
    const crl = this.crls.get(url);
    if (!crl) throw new RevocationFetchError('FetchFailed', `${url}: HTTP 503`);
    return crl;
  }
  post(): Promise<Buffer> {
    return Promise.reject(new Error('requests here are short enough for GET'));
  }
}

let root: OpensslCa;
let intermediate: OpensslCa;

const chainOf = (leaf: Issued) => [leaf.cert, intermediate.ca.cert, root.ca.cert];

const setUp = async (): Promise<ChainHttp> => {
  const http = new ChainHttp(intermediate);
  http.crls.set(LEAF_CRL, await intermediate.crl());
  http.crls.set(ROOT_CRL, await root.crl());
  return http;
};

beforeAll(async () => {
  root = await OpensslCa.create(await mkdtemp(join(tmpdir(), 'tagguard-chain-')), 'root');
  intermediate = await root.subordinate('intermediate', { crlUrls: [ROOT_CRL] });
});

describe('RevocationChecker', () => {
  it('is OK when OCSP vouches for the leaf and the root CRL for the intermediate; the root is not looked up', async () => {
    const leaf = await intermediate.issue('good', { ocspUrls: [OCSP], crlUrls: [LEAF_CRL] });
    const http = await setUp();
    const result = await new RevocationChecker(http).check(chainOf(leaf), { now: new Date() });
    expect(result).toEqual({ status: 'ok', details: [] });
    expect(http.fetched.sort()).toEqual([OCSP, ROOT_CRL].sort()); // OCSP answered: the leaf CRL is not read
  });

  it('is revoked when OCSP says the leaf is revoked', async () => {
    const leaf = await intermediate.issue('revoked-ocsp', { ocspUrls: [OCSP], crlUrls: [LEAF_CRL] });
    await intermediate.revoke(leaf, { reason: 'keyCompromise' });
    const result = await new RevocationChecker(await setUp()).check(chainOf(leaf), { now: new Date() });
    expect(result.status).toBe('revoked');
    expect(result.details.join()).toContain('CN=revoked-ocsp');
  });

  it('falls back to the CRL when OCSP gives no answer, and takes its verdict', async () => {
    const revoked = await intermediate.issue('revoked-crl', { ocspUrls: [OCSP], crlUrls: [LEAF_CRL] });
    const fine = await intermediate.issue('fine-crl', { ocspUrls: [OCSP], crlUrls: [LEAF_CRL] });
    await intermediate.revoke(revoked);
    const http = await setUp();
    http.ocspAnswer = Buffer.from('a responder having a bad day');
    expect((await new RevocationChecker(http).check(chainOf(revoked), { now: new Date() })).status).toBe(
      'revoked',
    );
    expect(http.fetched).toContain(LEAF_CRL);
    expect(await new RevocationChecker(http).check(chainOf(fine), { now: new Date() })).toEqual({
      status: 'ok',
      details: [],
    });
  });

  it('is unknown when OCSP gives no answer and there is no CRL to fall back on', async () => {
    const leaf = await intermediate.issue('ocsp-only', { ocspUrls: [OCSP] });
    const http = await setUp();
    http.ocspAnswer = Buffer.alloc(0);
    const result = await new RevocationChecker(http).check(chainOf(leaf), { now: new Date() });
    expect(result.status).toBe('unknown');
    expect(result.details.join()).toContain('unknown revocation status');
  });

  // Revokes the shared intermediate: keep this test after the ones that need it trusted.
  it('is revoked when the root revokes the intermediate, and unknown when the root CRL is out of reach', async () => {
    const leaf = await intermediate.issue('under-revoked-ca', { ocspUrls: [OCSP] });
    const reachable = await setUp();
    reachable.crls.delete(ROOT_CRL);
    expect((await new RevocationChecker(reachable).check(chainOf(leaf), { now: new Date() })).status).toBe(
      'unknown',
    );
    await root.revoke(intermediate.ca, { reason: 'CACompromise' });
    const result = await new RevocationChecker(await setUp()).check(chainOf(leaf), { now: new Date() });
    expect(result.status).toBe('revoked');
    expect(result.details.join()).toContain('CN=intermediate');
  });

  it('says nothing about a chain without revocation information (non-revocable passes)', async () => {
    const leaf = await intermediate.issue('no-locations');
    const bare = await root.subordinate('bare-intermediate');
    const chain = [leaf.cert, bare.ca.cert, root.ca.cert];
    const http = await setUp();
    expect(await new RevocationChecker(http).check(chain, { now: new Date() })).toEqual({
      status: 'ok',
      details: [],
    });
    expect(http.fetched).toEqual([]);
  });
});
