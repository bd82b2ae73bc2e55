import { ociArtifacts } from '../../src/sources/types.ts';
// Every artifact an adapter hands the controller carries the repository its URL names, parsed once here,
// so that no later step parses the URL again.
import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { resolveSource } from '../../src/sources/resolve-source.ts';
import type { SourceReference } from '../../src/api/artifact-verification.ts';
import { memoryReader } from './memory-reader.ts';
import { application, helmChart, helmRepository, ociRepository } from './fixtures.ts';

const options = { allowCrossNamespace: false, argocdNamespace: 'argocd' };

describe('the parsed reference of a watched artifact', () => {
  it.each<
    [
      string,
      string,
      KubernetesObject[],
      SourceReference,
      { url: string; registry: string; repository: string }[],
    ]
  >([
    [
      'an OCIRepository (trailing slash dropped)',
      'flux-system',
      [ociRepository('flux-system', 'web', { url: 'oci://127.0.0.1:5000/charts/web/' })],
      { kind: 'OCIRepository', name: 'web' },
      [{ url: 'oci://127.0.0.1:5000/charts/web', registry: '127.0.0.1:5000', repository: 'charts/web' }],
    ],
    [
      'a chart of an OCI HelmRepository',
      'flux-system',
      [
        helmRepository('flux-system', 'charts', { type: 'oci', url: 'oci://registry.example.com/charts/' }),
        helmChart('flux-system', 'web', {
          chart: 'web',
          version: '1.0.0',
          sourceRef: { kind: 'HelmRepository', name: 'charts' },
        }),
      ],
      { kind: 'HelmChart', name: 'web' },
      [
        {
          url: 'oci://registry.example.com/charts/web',
          registry: 'registry.example.com',
          repository: 'charts/web',
        },
      ],
    ],
    [
      "an Argo CD Application's native and Helm-OCI sources",
      'argocd',
      [
        application('argocd', 'web', {
          sources: [
            { repoURL: 'oci://ghcr.io/acme/manifests', targetRevision: '1.x', path: '.' },
            { repoURL: 'ghcr.io/acme/charts', chart: 'web', targetRevision: '3.1.0' },
          ],
        }),
      ],
      { kind: 'Application', name: 'web' },
      [
        { url: 'oci://ghcr.io/acme/manifests', registry: 'ghcr.io', repository: 'acme/manifests' },
        { url: 'oci://ghcr.io/acme/charts/web', registry: 'ghcr.io', repository: 'acme/charts/web' },
      ],
    ],
  ])('%s', async (_name, namespace, objects, ref, expected) => {
    const { artifacts } = await resolveSource(ref, namespace, memoryReader(objects), options);
    expect(ociArtifacts(artifacts).map((a) => ({ url: a.url, ...a.reference }))).toEqual(expected);
  });
});
