import { describe, expect, it } from 'vitest';
import { apiVersionOf, collectionPath, groupVersionPath } from '../../src/runtime/resource-kind.ts';

const configMaps = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true };
const ociRepositories = {
  group: 'source.toolkit.fluxcd.io',
  version: 'v1',
  plural: 'ocirepositories',
  kind: 'OCIRepository',
  namespaced: true,
};
const crds = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  plural: 'customresourcedefinitions',
  kind: 'CustomResourceDefinition',
  namespaced: false,
};

describe('resource paths', () => {
  it('routes the core group under /api and named groups under /apis', () => {
    expect(apiVersionOf(configMaps)).toBe('v1');
    expect(apiVersionOf(ociRepositories)).toBe('source.toolkit.fluxcd.io/v1');
    expect(groupVersionPath(configMaps)).toBe('/api/v1');
    expect(groupVersionPath(ociRepositories)).toBe('/apis/source.toolkit.fluxcd.io/v1');
  });

  it('scopes namespaced kinds to a namespace when given one, and never cluster-scoped kinds', () => {
    expect(collectionPath(configMaps)).toBe('/api/v1/configmaps');
    expect(collectionPath(configMaps, 'flux-system')).toBe('/api/v1/namespaces/flux-system/configmaps');
    expect(collectionPath(ociRepositories, 'a b')).toBe(
      '/apis/source.toolkit.fluxcd.io/v1/namespaces/a%20b/ocirepositories',
    );
    expect(collectionPath(crds, 'flux-system')).toBe(
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
    );
  });
});
