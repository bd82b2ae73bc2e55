import { describe, expect, it } from 'vitest';
import { TokenAuth, type TokenFetch, type TokenRequest } from '../../src/registry/token-auth.ts';
import { RegistryError } from '../../src/registry/errors.ts';
import type { Credential } from '../../src/registry/credentials.ts';

const BASIC: Credential = { kind: 'basic', username: 'user', password: 'secret' };
const BASIC_HEADER = `Basic ${Buffer.from('user:secret').toString('base64')}`;
const SCOPE = 'repository:app:pull';
const signal = new AbortController().signal;

/** A TokenFetch that records each request and answers with one token. */
const recordingFetch = (token = 't1') => {
  const sent: { realm: URL; request: TokenRequest }[] = [];
  const fetchToken: TokenFetch = (_registry, realm, request) => {
    sent.push({ realm: new URL(realm), request });
    return Promise.resolve({ token, expires_in: 300 });
  };
  return { sent, auth: new TokenAuth({ userAgent: 'tagguard', fetchToken, now: () => 0 }) };
};

const unauthorized = (url: string, wwwAuthenticate?: string) => ({ url: new URL(url), wwwAuthenticate });

const codeOf = async (work: () => Promise<unknown>): Promise<string | undefined> => {
  try {
    await work();
  } catch (error) {
    return error instanceof RegistryError ? error.code : 'not a RegistryError';
  }
  return undefined;
};

describe('TokenAuth', () => {
  const origin = new URL('https://registry.example');

  it('asks the realm with the credentials, then sends the token back to the origin only, per scope', async () => {
    const { auth, sent } = recordingFetch();
    const challenge = 'Bearer realm="https://auth.example/token",service="registry"';
    const header = await auth.answer(
      'registry.example',
      origin,
      unauthorized('https://registry.example/v2/app/tags/list', challenge),
      SCOPE,
      BASIC,
      signal,
    );
    expect(header).toBe('Bearer t1');
    expect(sent).toHaveLength(1);
    expect(sent[0]?.request).toMatchObject({ method: 'GET', headers: { authorization: BASIC_HEADER } });
    expect(sent[0]?.realm.searchParams.get('scope')).toBe(SCOPE);
    expect(auth.cached(origin, SCOPE, BASIC)).toBe('Bearer t1');
    expect(auth.cached(new URL('https://registry.example:8443'), SCOPE, BASIC)).toBeUndefined();
    expect(auth.cached(new URL('http://registry.example'), SCOPE, BASIC)).toBeUndefined();
    expect(auth.cached(origin, 'repository:other:pull', BASIC)).toBeUndefined();
    expect(auth.cached(origin, SCOPE, { kind: 'anonymous' })).toBeUndefined();
    auth.forget(origin, SCOPE, BASIC);
    expect(auth.cached(origin, SCOPE, BASIC)).toBeUndefined();
  });

  it('refuses a 401 from another origin reached by a redirect, asking nothing', async () => {
    const { auth, sent } = recordingFetch();
    const elsewhere = unauthorized('https://blobs.example/x', 'Basic realm="x"');
    expect(await codeOf(() => auth.answer('registry.example', origin, elsewhere, SCOPE, BASIC, signal))).toBe(
      'Unauthorized',
    );
    expect(sent).toHaveLength(0);
  });

  it('refuses a plain-HTTP realm for an HTTPS registry', async () => {
    const { auth, sent } = recordingFetch();
    const challenge = unauthorized(
      'https://registry.example/v2/',
      'Bearer realm="http://auth.example/token"',
    );
    expect(await codeOf(() => auth.answer('registry.example', origin, challenge, SCOPE, BASIC, signal))).toBe(
      'Unauthorized',
    );
    expect(sent).toHaveLength(0);
  });

  it.each([
    ['a realm on the same host', 'http://registry.example:9000/token', BASIC_HEADER],
    ['a realm on another host', 'http://auth.example/token', undefined],
  ])('for a plain-HTTP registry sends the credentials only to %s', async (_name, realm, header) => {
    const { auth, sent } = recordingFetch();
    const plain = new URL('http://registry.example:5000');
    const challenge = unauthorized('http://registry.example:5000/v2/', `Bearer realm="${realm}"`);
    await auth.answer('registry.example:5000', plain, challenge, SCOPE, BASIC, signal);
    expect(sent[0]?.request.headers.authorization).toBe(header);
  });

  it('answers Basic with the credentials and remembers the challenge for the origin', async () => {
    const { auth, sent } = recordingFetch();
    const challenge = unauthorized('https://registry.example/v2/', 'Basic realm="registry"');
    expect(await auth.answer('registry.example', origin, challenge, SCOPE, BASIC, signal)).toBe(BASIC_HEADER);
    expect(auth.cached(origin, 'repository:any:pull', BASIC)).toBe(BASIC_HEADER);
    expect(sent).toHaveLength(0);
  });

  it('exchanges an identity token by the refresh-token grant', async () => {
    const { auth, sent } = recordingFetch();
    const identity: Credential = { kind: 'identity-token', username: 'u', token: 'refresh' };
    const challenge = unauthorized(
      'https://registry.example/v2/',
      'Bearer realm="https://auth.example/token"',
    );
    await auth.answer('registry.example', origin, challenge, SCOPE, identity, signal);
    expect(sent[0]?.request.method).toBe('POST');
    expect(new URLSearchParams(sent[0]?.request.body).get('grant_type')).toBe('refresh_token');
    expect(sent[0]?.request.headers.authorization).toBeUndefined();
  });

  it('has nothing to answer without a challenge it speaks', async () => {
    const { auth } = recordingFetch();
    const none = unauthorized('https://registry.example/v2/', 'Negotiate');
    expect(await auth.answer('registry.example', origin, none, SCOPE, BASIC, signal)).toBeUndefined();
  });
});
