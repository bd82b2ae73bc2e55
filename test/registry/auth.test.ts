import { describe, expect, it } from 'vitest';
import { TokenCache, parseChallenge, parseTokenResponse, pullScope } from '../../src/registry/auth.ts';

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
