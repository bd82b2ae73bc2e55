import { describe, expect, it } from 'vitest';
import { credentialFor, normaliseRegistryKey, parseDockerConfig } from '../../src/registry/credentials.ts';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('parseDockerConfig', () => {
  it('reads auth, username/password and identitytoken entries and normalises keys', () => {
    const store = parseDockerConfig(
      JSON.stringify({
        auths: {
          'https://index.docker.io/v1/': { auth: b64('hub:pa:ss') },
          'ghcr.io': { username: 'me', password: 'tok' },
          'http://127.0.0.1:5000/v2/': { identitytoken: 'refresh-me' },
          'empty.example.com': {},
        },
      }),
      'test',
    );
    expect(credentialFor(store, 'docker.io')).toEqual({ kind: 'basic', username: 'hub', password: 'pa:ss' });
    expect(credentialFor(store, 'ghcr.io')).toEqual({ kind: 'basic', username: 'me', password: 'tok' });
    expect(credentialFor(store, '127.0.0.1:5000')).toEqual({
      kind: 'identity-token',
      username: '<token>',
      token: 'refresh-me',
    });
    expect(credentialFor(store, 'empty.example.com')).toEqual({ kind: 'anonymous' });
  });

  it('accepts the legacy .dockercfg form (the map itself)', () => {
    const store = parseDockerConfig(JSON.stringify({ 'quay.io': { auth: b64('u:p') } }), 'test');
    expect(credentialFor(store, 'quay.io')).toEqual({ kind: 'basic', username: 'u', password: 'p' });
  });

  it('names the source and never the secret when an entry is malformed', () => {
    const bad = () =>
      parseDockerConfig(
        JSON.stringify({ auths: { 'r.io': { auth: b64('no-colon-secret') } } }),
        'Secret ns/regcred',
      );
    expect(bad).toThrow(/Secret ns\/regcred: the "auth" of r.io is not base64/);
    expect(bad).not.toThrow(/no-colon-secret/);
    expect(() => parseDockerConfig('{not json', 'file x')).toThrow(/file x is not valid JSON/);
  });

  it('normalises registry keys', () => {
    expect(normaliseRegistryKey('https://registry-1.docker.io')).toBe('docker.io');
    expect(normaliseRegistryKey('ghcr.io/v2/')).toBe('ghcr.io');
  });
});
