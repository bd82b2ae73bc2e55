import { describe, expect, it } from 'vitest';
import { describePollKey, pollKey, type ArtifactAccess } from '../../src/controller/registry-access.ts';

const base: ArtifactAccess = {
  url: 'oci://Registry.Example.com:443/charts/web',
  reference: { registry: 'Registry.Example.com:443', repository: 'charts/web' },
  insecure: false,
  credential: { kind: 'anonymous' },
  credentialId: 'anonymous',
};
const digest = `sha256:${'a'.repeat(64)}`;

describe('describePollKey', () => {
  it.each<[string, Partial<ArtifactAccess>, unknown]>([
    ['a tag', { tag: '1.0.0' }, { kind: 'tag', tag: '1.0.0' }],
    ['no tag (latest)', {}, { kind: 'tag', tag: 'latest' }],
    ['a semver constraint that is also a valid tag', { semver: '1.0.0' }, { kind: 'semver' }],
    [
      'a constraint with spaces and an Argo CD rule',
      { semver: '>=1.0.0 <2.0.0', semverRule: 'argocd-oci' },
      { kind: 'semver' },
    ],
    ['a digest', { digest, tag: '1.0.0' }, { kind: 'digest' }],
  ])('inverts pollKey for %s, with the registry as registryIdentity', (_, access, expected) => {
    expect(describePollKey(pollKey({ ...base, ...access }))).toEqual({
      registry: 'registry.example.com',
      repository: 'charts/web',
      ...(expected as object),
    });
  });

  it('folds Docker Hub aliases as parseReference does', () => {
    const key = pollKey({ ...base, url: 'oci://registry-1.docker.io/nginx', tag: '1' });
    expect(describePollKey(key)).toMatchObject({ registry: 'docker.io', repository: 'library/nginx' });
  });

  it('is undefined for a key it did not make', () => {
    expect(describePollKey('key')).toBeUndefined();
    expect(describePollKey('not-a-url tag https anonymous')).toBeUndefined();
  });
});
