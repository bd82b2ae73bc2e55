import { describe, expect, it } from 'vitest';
import { pickSemverTag } from '../../src/sources/tag-selection.ts';
import { RegistryError } from '../../src/registry/errors.ts';

const URL = 'oci://registry.example/app';
const TAGS = ['1.0.0', '1.2.0', '1.5', '2.0.0', 'v1.3.0-rc.1', '1.4.0_build.1'];

const codeOf = (pick: () => unknown): string | undefined => {
  try {
    pick();
  } catch (error) {
    return error instanceof RegistryError ? error.code : 'not a RegistryError';
  }
  return undefined;
};

describe('pickSemverTag', () => {
  it.each([
    ['Flux by default', { semver: '1.x' }, '1.2.0'],
    ['Flux with a filter', { semver: '>=1.0.0', semverFilter: '^1\\.0' }, '1.0.0'],
    ['Argo CD Helm-OCI: a version is a pin', { semver: '1.5', semverRule: 'argocd-helm' as const }, '1.5'],
    [
      'Argo CD Helm-OCI: _ read as +',
      { semver: '1.4.x', semverRule: 'argocd-helm' as const },
      '1.4.0_build.1',
    ],
    ['Argo CD native OCI: lax tags count', { semver: '~1.5', semverRule: 'argocd-oci' as const }, '1.5'],
  ])('picks by the rule: %s', (_name, selection, tag) => {
    expect(pickSemverTag(TAGS, selection, URL)).toBe(tag);
  });

  it.each([
    ['Flux, nothing satisfies', { semver: '>=3.0.0' }, 'NotFound'],
    ['Argo CD, nothing satisfies', { semver: '>=3.0.0', semverRule: 'argocd-oci' as const }, 'NotFound'],
    [
      'Argo CD, no tag and no constraint',
      { semver: 'latest', semverRule: 'argocd-oci' as const },
      'NotFound',
    ],
    [
      'Argo CD, choice not a valid OCI tag',
      { semver: '1.4.x', semverRule: 'argocd-oci' as const },
      'InvalidReference',
    ],
  ])('refuses with a code: %s', (_name, selection, code) => {
    expect(codeOf(() => pickSemverTag(TAGS, selection, URL))).toBe(code);
  });
});
