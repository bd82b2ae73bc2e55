// The revocation HTTP client refuses, before any connection, what notation would not read: URLs that
// are not plain http:, and URLs carrying credentials. Real fetches: test/integration/verify/ocsp-responder.test.ts.
import { afterAll, describe, expect, it } from 'vitest';
import { createRevocationHttp } from '../../src/registry/revocation-http.ts';

const http = createRevocationHttp({ timeoutMs: 1_000, userAgent: 'tagguard-test' });
afterAll(() => http.close());

describe('createRevocationHttp', () => {
  it.each([
    ['an https: CRL', () => http.get('https://crl.test/ca.crl', 1024)],
    ['an ldap: CRL', () => http.get('ldap://crl.test/cn=ca', 1024)],
    ['a CRL URL with credentials', () => http.get('http://user:secret@crl.test/ca.crl', 1024)],
    ['something that is no URL', () => http.get('not a url', 1024)],
    [
      'an OCSP POST to https:',
      () => http.post('https://ocsp.test/', Buffer.from('req'), 'application/ocsp-request', 1024),
    ],
  ])('refuses %s with UnsupportedUrl', async (_what, fetch) => {
    await expect(fetch()).rejects.toMatchObject({ name: 'RevocationFetchError', code: 'UnsupportedUrl' });
  });
});
