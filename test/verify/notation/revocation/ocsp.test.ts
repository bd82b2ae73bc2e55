// checkOcsp against real OCSP responses: a CA run with `openssl ca` and every answer made by
// `openssl ocsp -reqin <our request> -respout …`. Only the HTTP transport is in memory (unit tests may
// not open sockets): it hands the request that checkOcsp sent to openssl and returns openssl's bytes.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SigningCertificate } from '../../../../src/verify/notation/certificate.ts';
import { RevocationFetchError } from '../../../../src/registry/revocation-http.ts';
import {
  checkOcsp,
  encodeOcspRequest,
  MAX_OCSP_RESPONSE_BYTES,
  ocspGetUrl,
} from '../../../../src/verify/notation/revocation/ocsp.ts';
import type { RevocationHttp } from '../../../../src/verify/notation/revocation/types.ts';
import { openssl, OpensslCa, type Issued, type RespondOptions } from '../../../env/openssl-ca.ts';

const SERVER = 'http://ocsp.tagguard.test/';
const SECOND_SERVER = 'http://ocsp2.tagguard.test/status';
const DAY = 86_400_000;

interface Call {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly request: Buffer;
  readonly maxBytes: number;
  readonly contentType?: string;
}

/** In-memory transport: decodes the OCSP request from the GET URL or POST body and answers with `answer`. */
class ExchangeHttp implements RevocationHttp {
  readonly calls: Call[] = [];
  private readonly answer: (request: Buffer, url: string) => Promise<Buffer>;

  constructor(answer: (request: Buffer, url: string) => Promise<Buffer>) {
    this.answer = answer;
  }

  async get(url: string, maxBytes: number): Promise<Buffer> {
    const last = new URL(url).pathname.split('/').pop() ?? '';
    const request = Buffer.from(decodeURIComponent(last), 'base64');
    this.calls.push({ method: 'GET', url, request, maxBytes });
    return this.capped(await this.answer(request, url), url, maxBytes);
  }

  async post(url: string, body: Buffer, contentType: string, maxBytes: number): Promise<Buffer> {
    this.calls.push({ method: 'POST', url, request: body, maxBytes, contentType });
    return this.capped(await this.answer(body, url), url, maxBytes);
  }

  // The real transport (http.ts) stops reading past maxBytes with TooLarge; so does this one.
  private capped(body: Buffer, url: string, maxBytes: number): Buffer {
    if (body.length > maxBytes)
      throw new RevocationFetchError('TooLarge', `${url}: more than ${maxBytes} bytes`);
    return body;
  }
}

let dir: string;
let ca: OpensslCa;
let otherCa: OpensslCa;
let leaf: Issued;
let sibling: Issued;
let revoked: Issued;
let compromised: Issued;
let unrecorded: Issued;
let responder: Issued;
let responderWithoutEku: Issued;
let foreignResponder: Issued;
let rsaLeaf: Issued;
const invalidityDate = new Date(Date.now() + 3_600_000);

/** A transport whose every answer is `openssl ocsp` from `authority` with `options`. */
const opensslHttp = (options: RespondOptions, authority: OpensslCa = ca): ExchangeHttp =>
  new ExchangeHttp((request) => authority.respond(request, options));

const check = (
  cert: SigningCertificate,
  http: RevocationHttp,
  options: { now?: Date; signingTime?: Date } = {},
  issuer: SigningCertificate = ca.ca.cert,
) => checkOcsp(cert, issuer, http, { now: options.now ?? new Date(), ...options });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tagguard-ocsp-'));
  [ca, otherCa] = await Promise.all([
    OpensslCa.create(join(dir, 'ca'), 'Notation Test CA'),
    OpensslCa.create(join(dir, 'other'), 'Other CA', 'rsa'),
  ]);
  // `openssl ca` updates one index and serial file: issue one certificate at a time per CA.
  leaf = await ca.issue('leaf', { ocspUrls: [SERVER] });
  sibling = await ca.issue('sibling', { ocspUrls: [SERVER] });
  revoked = await ca.issue('revoked', { ocspUrls: [SERVER] });
  compromised = await ca.issue('compromised', { ocspUrls: [SERVER] });
  responder = await ca.issue('delegated responder', { extKeyUsage: ['OCSPSigning'] });
  responderWithoutEku = await ca.issue('responder without eku', { extKeyUsage: ['codeSigning'] });
  unrecorded = await ca.issueUnrecorded('unrecorded', '0badc0ffee', [SERVER]);
  await ca.revoke(revoked);
  await ca.revoke(compromised, { invalidityDate });
  foreignResponder = await otherCa.issue('foreign responder', { extKeyUsage: ['OCSPSigning'] });
  rsaLeaf = await otherCa.issue('rsa leaf', { ocspUrls: [SERVER] });
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the OCSP request', () => {
  it('is byte for byte the request `openssl ocsp -issuer … -cert … -no_nonce` makes (SHA-1 CertID)', async () => {
    await openssl([
      'ocsp',
      '-issuer',
      ca.ca.certFile,
      '-cert',
      leaf.certFile,
      '-no_nonce',
      '-reqout',
      join(dir, 'openssl.req'),
    ]);
    expect(encodeOcspRequest(leaf.cert, ca.ca.cert)).toEqual(await readFile(join(dir, 'openssl.req')));
  });

  it('is read by `openssl ocsp -reqin` as a request for the certificate’s serial under its issuer', async () => {
    const file = join(dir, 'ours.req');
    await writeFile(file, encodeOcspRequest(leaf.cert, ca.ca.cert));
    const text = await openssl(['ocsp', '-reqin', file, '-req_text']);
    expect(text).toMatch(/Hash Algorithm: sha1/);
    expect(text).toContain(`Serial Number: ${leaf.cert.x509.serialNumber}`);
  });

  it('goes by GET to <server>/<url-escaped base64> with the 20 480-byte cap', async () => {
    const http = opensslHttp({ signer: ca.ca, days: 1 });
    await check(leaf.cert, http);
    const [call] = http.calls;
    expect(call?.method).toBe('GET');
    expect(call?.maxBytes).toBe(MAX_OCSP_RESPONSE_BYTES);
    expect(MAX_OCSP_RESPONSE_BYTES).toBe(20_480);
    const escaped = encodeURIComponent(encodeOcspRequest(leaf.cert, ca.ca.cert).toString('base64'));
    expect(call?.url).toBe(`${SERVER}${escaped}`);
  });

  it('joins the GET path with or without a trailing slash and keeps / + = escaped', () => {
    const request = Buffer.from([0xfb, 0xff, 0xbf, 0x00]); // base64 "+/+/AA=="
    expect(ocspGetUrl(new URL('http://ocsp.test'), request)).toBe('http://ocsp.test/%2B%2F%2B%2FAA%3D%3D');
    expect(ocspGetUrl(new URL('http://ocsp.test/a/b'), request)).toBe(
      'http://ocsp.test/a/b/%2B%2F%2B%2FAA%3D%3D',
    );
    expect(ocspGetUrl(new URL('http://ocsp.test/a/'), request)).toBe(
      'http://ocsp.test/a/%2B%2F%2B%2FAA%3D%3D',
    );
    // 189 octets: 252 base64 chars; escaping counts (each / is three chars).
    expect(ocspGetUrl(new URL('http://ocsp.test/'), Buffer.alloc(189))).toBeDefined();
    expect(ocspGetUrl(new URL('http://ocsp.test/'), Buffer.alloc(192))).toBeUndefined();
    expect(ocspGetUrl(new URL('http://ocsp.test/'), Buffer.alloc(189, 0xff))).toBeUndefined();
  });

  it('goes by POST (application/ocsp-request, to the server URL) when the escaped request is 255 chars or more', async () => {
    // A 117-octet serial (legal DER, not RFC 5280) makes the SHA-1 request long enough.
    const longSerial = await ca.issue('long serial', {
      ocspUrls: [SERVER],
      serialHex: `7a${'ab'.repeat(115)}`,
    });
    const http = opensslHttp({ signer: ca.ca, days: 1 });
    const result = await check(longSerial.cert, http);
    expect(http.calls).toHaveLength(1);
    expect(http.calls[0]).toMatchObject({
      method: 'POST',
      url: SERVER,
      contentType: 'application/ocsp-request',
      maxBytes: MAX_OCSP_RESPONSE_BYTES,
    });
    expect(http.calls[0]?.request).toEqual(encodeOcspRequest(longSerial.cert, ca.ca.cert));
    expect(result.status).toBe('ok');
  });
});

describe('status from a response signed by the issuer', () => {
  it('good → ok', async () => {
    const result = await check(leaf.cert, opensslHttp({ signer: ca.ca, days: 1 }));
    expect(result).toMatchObject({ status: 'ok', method: 'ocsp' });
    expect(result.detail).toContain(SERVER);
  });

  it('good → ok without the signer certificate in certs and with a byKey responderID', async () => {
    const result = await check(
      leaf.cert,
      opensslHttp({ signer: ca.ca, days: 1, noCerts: true, byKey: true }),
    );
    expect(result.status).toBe('ok');
  });

  it('good → ok for an RSA issuer (sha256WithRSAEncryption)', async () => {
    const http = opensslHttp({ signer: otherCa.ca, days: 1 }, otherCa);
    expect((await check(rsaLeaf.cert, http, {}, otherCa.ca.cert)).status).toBe('ok');
  });

  it('revoked (openssl ca -revoke) → revoked', async () => {
    const result = await check(revoked.cert, opensslHttp({ signer: ca.ca, days: 1 }));
    expect(result.status).toBe('revoked');
    expect(result.detail).toMatch(/revoked at \d{4}-/);
  });

  it('a serial the responder does not know → unknown, and no further server is asked', async () => {
    const cert: SigningCertificate = { ...unrecorded.cert, ocspServers: [SERVER, SECOND_SERVER] };
    const http = opensslHttp({ signer: ca.ca, days: 1 });
    const result = await check(cert, http);
    expect(result.status).toBe('unknown');
    expect(result.detail).toContain('does not know');
    expect(http.calls).toHaveLength(1);
  });

  it('accepts a SHA-256 CertID from the responder (hashes recomputed with its algorithm)', async () => {
    const file = join(dir, 'sha256.req');
    await openssl([
      'ocsp',
      '-sha256',
      '-issuer',
      ca.ca.certFile,
      '-cert',
      leaf.certFile,
      '-no_nonce',
      '-reqout',
      file,
    ]);
    const answer = await ca.respond(await readFile(file), { signer: ca.ca, days: 1 });
    expect((await check(leaf.cert, new ExchangeHttp(() => Promise.resolve(answer)))).status).toBe('ok');
  });

  it('a response about another certificate of the same CA → unknown', async () => {
    const other = await ca.respond(encodeOcspRequest(sibling.cert, ca.ca.cert), { signer: ca.ca, days: 1 });
    const result = await check(leaf.cert, new ExchangeHttp(() => Promise.resolve(other)));
    expect(result.status).toBe('unknown');
    expect(result.detail).toContain('no response for this certificate');
  });

  // Our CA's responder answers (status unknown, validly signed) for a CertID with the leaf's serial but
  // other issuer hashes: matching on the serial alone (as x/crypto/ocsp does) would take it as ours.
  it('a CertID with our serial and key hash but another issuer name hash → unknown', async () => {
    const alias = await ca.alias('Alias of the Notation Test CA'); // same key, other name
    const answer = await ca.respond(encodeOcspRequest(leaf.cert, alias.cert), { signer: ca.ca, days: 1 });
    const result = await check(leaf.cert, new ExchangeHttp(() => Promise.resolve(answer)));
    expect(result.status).toBe('unknown');
    expect(result.detail).toContain('no response for this certificate');
  });

  it('a CertID with our serial and name hash but another issuer key hash → unknown', async () => {
    const twin = await OpensslCa.create(join(dir, 'twin'), 'Notation Test CA'); // same name, other key
    expect(twin.ca.cert.subjectRaw).toEqual(ca.ca.cert.subjectRaw);
    const answer = await ca.respond(encodeOcspRequest(leaf.cert, twin.ca.cert), { signer: ca.ca, days: 1 });
    const result = await check(leaf.cert, new ExchangeHttp(() => Promise.resolve(answer)));
    expect(result.status).toBe('unknown');
    expect(result.detail).toContain('no response for this certificate');
  });
});

describe('delegated responders (RFC 6960 §4.2.2.2)', () => {
  it('a responder certificate issued by the issuer with id-kp-OCSPSigning → its answers count', async () => {
    const http = opensslHttp({ signer: responder, days: 1 });
    expect((await check(leaf.cert, http)).status).toBe('ok');
    expect((await check(revoked.cert, http)).status).toBe('revoked');
  });

  it('with a byKey responderID → still accepted', async () => {
    expect((await check(leaf.cert, opensslHttp({ signer: responder, days: 1, byKey: true }))).status).toBe(
      'ok',
    );
  });

  it('a responder certificate without id-kp-OCSPSigning → refused (unknown)', async () => {
    const result = await check(revoked.cert, opensslHttp({ signer: responderWithoutEku, days: 1 }));
    expect(result.status).toBe('unknown');
    expect(result.detail).toContain('OCSPSigning');
  });

  it('a responder certificate signed with the issuer key under another issuer name → refused (unknown)', async () => {
    const alias = await ca.alias('Alias CA for the responder');
    const aliased = await ca.issueUnrecorded('aliased responder', '0a11a5', [], {
      extKeyUsage: ['OCSPSigning'],
      issuerCertFile: alias.certFile,
    });
    const result = await check(revoked.cert, opensslHttp({ signer: aliased, days: 1 }));
    expect(result.status).toBe('unknown');
    expect(result.detail).toContain('not issued by the certificate');
  });

  it('a responder certificate of another CA → refused (unknown)', async () => {
    const result = await check(revoked.cert, opensslHttp({ signer: foreignResponder, days: 1 }));
    expect(result.status).toBe('unknown');
    expect(result.detail).toContain('not issued by the certificate');
  });

  it('a delegated response without the responder certificate in certs → refused (unknown)', async () => {
    const result = await check(leaf.cert, opensslHttp({ signer: responder, days: 1, noCerts: true }));
    expect(result.status).toBe('unknown');
  });

  it('a responder certificate that has expired at `now` → refused (unknown)', async () => {
    // The responder certificate is valid for 2 days; the response (nextUpdate in 5 days) is still fresh.
    const later = new Date(responder.cert.notAfter.getTime() + DAY / 2);
    const result = await check(leaf.cert, opensslHttp({ signer: responder, days: 5 }), { now: later });
    expect(result.status).toBe('unknown');
    expect(result.detail).toContain('not valid at');
  });
});

describe('integrity and freshness', () => {
  it('a tampered signature → unknown', async () => {
    const answer = await ca.respond(encodeOcspRequest(revoked.cert, ca.ca.cert), {
      signer: ca.ca,
      days: 1,
      noCerts: true,
    });
    const tampered = Buffer.from(answer);
    const last = tampered.length - 1;
    tampered[last] = (tampered[last] ?? 0) ^ 0x01; // the signature is the last field
    const result = await check(revoked.cert, new ExchangeHttp(() => Promise.resolve(tampered)));
    expect(result.status).toBe('unknown');
    expect(result.detail).toContain('does not verify');
  });

  it('any single flipped bit in a revoked response gives unknown, never ok and never an exception', async () => {
    const answer = await ca.respond(encodeOcspRequest(revoked.cert, ca.ca.cert), {
      signer: ca.ca,
      days: 1,
      noCerts: true,
    });
    const accepted: string[] = [];
    for (let i = 0; i < answer.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const flipped = Buffer.from(answer);
        flipped[i] = (flipped[i] ?? 0) ^ (1 << bit);
        const result = await check(revoked.cert, new ExchangeHttp(() => Promise.resolve(flipped)));
        if (result.status !== 'unknown') accepted.push(`byte ${i} bit ${bit}: ${result.status}`);
      }
    }
    expect(accepted).toEqual([]);
  });

  it('a SHA-1 signature (-rmd sha1) → unknown (tagguard verifies SHA-2 only)', async () => {
    const result = await check(leaf.cert, opensslHttp({ signer: ca.ca, days: 1, digest: 'sha1' }));
    expect(result.status).toBe('unknown');
    expect(result.detail).toContain('not supported');
  });

  it('nextUpdate passed at options.now → unknown (expired)', async () => {
    const http = opensslHttp({ signer: ca.ca, days: 1 });
    const result = await check(revoked.cert, http, { now: new Date(Date.now() + 2 * DAY) });
    expect(result.status).toBe('unknown');
    expect(result.detail).toContain('expired');
  });

  it('no nextUpdate → unknown (notation compares with Go’s zero time: always expired)', async () => {
    const result = await check(leaf.cert, opensslHttp({ signer: ca.ca }));
    expect(result.status).toBe('unknown');
    expect(result.detail).toContain('no nextUpdate');
  });

  it('thisUpdate more than 5 minutes after options.now → unknown; within the skew → ok', async () => {
    const http = opensslHttp({ signer: ca.ca, days: 1 });
    const early = await check(leaf.cert, http, { now: new Date(Date.now() - 3_600_000) });
    expect(early.status).toBe('unknown');
    expect(early.detail).toContain('in the future');
    expect((await check(leaf.cert, http, { now: new Date(Date.now() - 60_000) })).status).toBe('ok');
  });
});

describe('invalidityDate and the signing time (notation)', () => {
  it('revoked with an invalidity date after the signing time → ok', async () => {
    const http = opensslHttp({ signer: ca.ca, days: 1 });
    const result = await check(compromised.cert, http, { signingTime: new Date() });
    expect(result.status).toBe('ok');
  });

  it('revoked with an invalidity date before the signing time → revoked', async () => {
    const http = opensslHttp({ signer: ca.ca, days: 1 });
    const signingTime = new Date(invalidityDate.getTime() + 60_000);
    expect((await check(compromised.cert, http, { signingTime })).status).toBe('revoked');
  });

  it('revoked with an invalidity date but no signing time → revoked', async () => {
    expect((await check(compromised.cert, opensslHttp({ signer: ca.ca, days: 1 }))).status).toBe('revoked');
  });
});

describe('what the responder sends back', () => {
  it('a non-successful responseStatus (tryLater) → unknown naming it', async () => {
    // OCSPResponse { responseStatus tryLater(3) }: RFC 6960 §4.2.1, the bytes of x/crypto/ocsp's TryLaterErrorResponse.
    const tryLater = Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x03]);
    const result = await check(leaf.cert, new ExchangeHttp(() => Promise.resolve(tryLater)));
    expect(result.status).toBe('unknown');
    expect(result.detail).toContain('tryLater');
  });

  it('truncated, empty and garbage bytes → unknown, never an exception', async () => {
    const good = await ca.respond(encodeOcspRequest(leaf.cert, ca.ca.cert), { signer: ca.ca, days: 1 });
    const bodies = [
      Buffer.alloc(0),
      Buffer.from('<html>502 Bad Gateway</html>'),
      Buffer.from([0x30, 0x80, 0x00, 0x00]),
      Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]),
      ...Array.from({ length: 40 }, (_, i) => good.subarray(0, Math.floor((good.length * i) / 40))),
      Buffer.concat([good, Buffer.from([0x00])]),
    ];
    for (const body of bodies) {
      const result = await check(leaf.cert, new ExchangeHttp(() => Promise.resolve(body)));
      expect(result.status).toBe('unknown');
    }
  });

  it('more than 20 480 bytes (openssl ocsp -rother with many certificates) → unknown', async () => {
    const many = join(dir, 'many.pem');
    await writeFile(many, (await readFile(ca.ca.certFile, 'utf8')).repeat(60));
    const http = opensslHttp({ signer: ca.ca, days: 1, otherCertsFile: many });
    const answer = await ca.respond(encodeOcspRequest(leaf.cert, ca.ca.cert), {
      signer: ca.ca,
      days: 1,
      otherCertsFile: many,
    });
    expect(answer.length).toBeGreaterThan(MAX_OCSP_RESPONSE_BYTES);
    const result = await check(leaf.cert, http);
    expect(result.status).toBe('unknown');
    expect(result.detail).toContain('TooLarge');
  });
});

describe('servers', () => {
  it('no OCSP server → non-revocable', async () => {
    const cert: SigningCertificate = { ...leaf.cert, ocspServers: [] };
    expect(await check(cert, opensslHttp({ signer: ca.ca, days: 1 }))).toMatchObject({
      status: 'non-revocable',
      method: 'ocsp',
    });
  });

  it('an https: server is skipped with a detail; the next http: server answers', async () => {
    const cert: SigningCertificate = {
      ...revoked.cert,
      ocspServers: ['https://ocsp.tagguard.test/', SERVER],
    };
    const http = opensslHttp({ signer: ca.ca, days: 1 });
    const result = await check(cert, http);
    expect(result.status).toBe('revoked');
    expect(http.calls.map((c) => new URL(c.url).origin)).toEqual([new URL(SERVER).origin]);
  });

  it('only an https: server → unknown naming it, nothing fetched', async () => {
    const cert: SigningCertificate = { ...leaf.cert, ocspServers: ['https://ocsp.tagguard.test/'] };
    const http = opensslHttp({ signer: ca.ca, days: 1 });
    const result = await check(cert, http);
    expect(result.status).toBe('unknown');
    expect(result.detail).toContain('https:');
    expect(http.calls).toHaveLength(0);
  });

  it('a failing server is followed by the next; when all fail, every problem is reported', async () => {
    const cert: SigningCertificate = { ...leaf.cert, ocspServers: [SERVER, SECOND_SERVER] };
    const answered = new ExchangeHttp(async (request, url) => {
      if (url.startsWith(SERVER)) throw new RevocationFetchError('FetchFailed', `${SERVER}: HTTP 503`);
      return ca.respond(request, { signer: ca.ca, days: 1 });
    });
    expect((await check(cert, answered)).status).toBe('ok');
    expect(answered.calls.map((c) => c.url.startsWith(SECOND_SERVER))).toEqual([false, true]);

    const down = new ExchangeHttp(() =>
      Promise.reject(new RevocationFetchError('FetchFailed', 'connection refused')),
    );
    const result = await check(cert, down);
    expect(result.status).toBe('unknown');
    expect(result.detail).toContain(SERVER);
    expect(result.detail).toContain(SECOND_SERVER);
    expect(result.detail).toContain('FetchFailed');
  });

  it('an invalid response from the first server does not stop the second from deciding', async () => {
    const cert: SigningCertificate = { ...revoked.cert, ocspServers: [SERVER, SECOND_SERVER] };
    const http = new ExchangeHttp((request, url) =>
      url.startsWith(SERVER)
        ? ca.respond(request, { signer: foreignResponder, days: 1 })
        : ca.respond(request, { signer: ca.ca, days: 1 }),
    );
    expect((await check(cert, http)).status).toBe('revoked');
  });
});
