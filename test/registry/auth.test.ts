import { describe, expect, it } from 'vitest';
import {
  TokenCache,
  parseChallenge,
  parseTokenResponse,
  pullScope,
  tokenRealm,
} from '../../src/registry/auth.ts';

describe('parseChallenge', () => {
  it('parses a Bearer challenge with quoted parameters', () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull"',
      ),
    ).toEqual({
      scheme: 'bearer',
      realm: 'https://auth.example.com/token',
      service: 'registry.example.com',
      scope: 'repository:a/b:pull',
    });
  });

  it('parses Basic, is case-insensitive, and tolerates unquoted values and spaces', () => {
    expect(parseChallenge('basic realm=registry')).toEqual({ scheme: 'basic', realm: 'registry' });
    expect(parseChallenge('BEARER  realm = "https://r/t" , service=svc')).toEqual({
      scheme: 'bearer',
      realm: 'https://r/t',
      service: 'svc',
    });
  });

  it('ignores schemes it does not speak and rejects a Bearer without realm', () => {
    expect(parseChallenge('Negotiate abc')).toBeUndefined();
    expect(parseChallenge(undefined)).toBeUndefined();
    expect(() => parseChallenge('Bearer service="x"')).toThrow(
      expect.objectContaining({ code: 'InvalidResponse' }) as Error,
    );
  });
});

describe('parseTokenResponse', () => {
  it('accepts token or access_token and defaults expires_in to 60 s', () => {
    expect(parseTokenResponse({ token: 't1', expires_in: 300 }, 'auth')).toEqual({
      token: 't1',
      expiresIn: 300,
    });
    expect(parseTokenResponse({ access_token: 't2' }, 'auth')).toEqual({ token: 't2', expiresIn: 60 });
  });

  it('rejects a response without a token', () => {
    expect(() => parseTokenResponse({ expires_in: 5 }, 'auth.example.com')).toThrow(
      /auth.example.com returned no token/,
    );
  });
});

describe('TokenCache', () => {
  it('serves a token until shortly before it expires, per scope', () => {
    let now = 0;
    const cache = new TokenCache(() => now);
    const key = TokenCache.key('r', pullScope('a/b'), '');
    cache.set(key, { token: 'abc', expiresIn: 300 });
    expect(cache.get(key)).toBe('abc');
    expect(cache.get(TokenCache.key('r', pullScope('a/c'), ''))).toBeUndefined();
    now = 289_000;
    expect(cache.get(key)).toBe('abc');
    now = 290_001;
    expect(cache.get(key)).toBeUndefined();
  });

  it('evicts the oldest entry when full', () => {
    const cache = new TokenCache(() => 0, 2);
    cache.set('a', { token: '1', expiresIn: 60 });
    cache.set('b', { token: '2', expiresIn: 60 });
    cache.set('c', { token: '3', expiresIn: 60 });
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([undefined, '2', '3']);
  });
});

describe('tokenRealm: where credentials may go for a token', () => {
  const https = new URL('https://registry.example.com');
  const http = new URL('http://lab.example:5000');
  const realm = (origin: URL, url: string) => tokenRealm(origin, url, origin.host);

  it('lets an HTTPS registry name an HTTPS token server on any host, with credentials', () => {
    expect(realm(https, 'https://auth.example.com/token').withCredentials).toBe(true);
    expect(realm(https, 'https://registry.example.com/token').withCredentials).toBe(true);
  });

  it('refuses a plain-HTTP realm for an HTTPS registry, on its own host too (no downgrade)', () => {
    for (const url of ['http://auth.example.com/token', 'http://registry.example.com/token']) {
      expect(() => realm(https, url)).toThrow(expect.objectContaining({ code: 'Unauthorized' }));
    }
  });

  it('sends a plain-HTTP registry credentials only to a realm on its own host name', () => {
    expect(realm(http, 'http://lab.example:5001/token').withCredentials).toBe(true);
    expect(realm(http, 'https://lab.example/token').withCredentials).toBe(true);
    expect(realm(http, 'http://elsewhere.example/token').withCredentials).toBe(false);
    expect(realm(http, 'https://elsewhere.example/token').withCredentials).toBe(false);
  });

  it('refuses realms with userinfo, other schemes and non-URLs, without echoing the userinfo', () => {
    for (const url of ['https://u:s3cret@auth.example.com/t', 'file:///etc/passwd', 'javascript:x', '::']) {
      let error: unknown;
      try {
        realm(https, url);
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: 'InvalidResponse' });
      expect(String(error)).not.toContain('s3cret');
    }
  });

  it('keys cached tokens by origin, so one registry origin never gets another origin’s token', () => {
    const cache = new TokenCache(() => 0);
    cache.set(TokenCache.key('https://a.example', pullScope('x/y'), ''), { token: 't', expiresIn: 60 });
    expect(cache.get(TokenCache.key('https://a.example', pullScope('x/y'), ''))).toBe('t');
    expect(cache.get(TokenCache.key('http://a.example', pullScope('x/y'), ''))).toBeUndefined();
    expect(cache.get(TokenCache.key('https://a.example:444', pullScope('x/y'), ''))).toBeUndefined();
  });
});
