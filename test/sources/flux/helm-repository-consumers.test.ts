// The consumers of a HelmRepository: HelmReleases with chart.spec naming it, HelmCharts naming it that no
// such HelmRelease generated, inside the namespace boundary; resolveHelmRepository refuses what it must.
import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { listHelmRepositoryConsumers } from '../../../src/sources/flux/helm-repository-consumers.ts';
import { resolveHelmRepository } from '../../../src/sources/resolve-source.ts';
import { SourceError } from '../../../src/sources/errors.ts';
import { helmChart, helmRelease, helmRepository } from '../fixtures.ts';
import { memoryReader } from '../memory-reader.ts';

const repo = helmRepository('apps', 'charts', { type: 'oci', url: 'oci://registry.example.com/charts' });
const template = (chart: string, sourceRef: Record<string, string>) => ({
  chart: { spec: { chart, version: '1.x', sourceRef } },
});
const fromCharts = (chart: string, namespace?: string) =>
  template(chart, { kind: 'HelmRepository', name: 'charts', ...(namespace ? { namespace } : {}) });

const world: KubernetesObject[] = [
  repo,
  helmRelease('apps', 'payment', fromCharts('payment')),
  helmRelease('apps', 'billing', fromCharts('billing')),
  // helm-controller's HelmCharts for the two releases: watched through their HelmRelease.
  helmChart('apps', 'apps-payment', {
    chart: 'payment',
    sourceRef: { kind: 'HelmRepository', name: 'charts' },
  }),
  helmChart('apps', 'custom-name', {
    chart: 'billing',
    sourceRef: { kind: 'HelmRepository', name: 'charts' },
  }),
  // A HelmChart of its own (consumed by a chartRef HelmRelease, or by nothing): a consumer.
  helmChart('apps', 'standalone', { chart: 'audit', sourceRef: { kind: 'HelmRepository', name: 'charts' } }),
  helmRelease('apps', 'by-chartref', { chartRef: { kind: 'HelmChart', name: 'standalone' } }),
  // Not consumers of apps/charts.
  helmRelease('apps', 'other-repo', template('payment', { kind: 'HelmRepository', name: 'other' })),
  helmRelease('apps', 'git', template('payment', { kind: 'GitRepository', name: 'charts' })),
  helmRelease('apps', 'oci-ref', { chartRef: { kind: 'OCIRepository', name: 'charts' } }),
  helmChart('apps', 'from-bucket', { chart: 'x', sourceRef: { kind: 'Bucket', name: 'charts' } }),
  helmChart('apps', 'elsewhere', { chart: 'x', sourceRef: { kind: 'HelmRepository', name: 'other' } }),
  // Broken objects are someone else's problem: skipped.
  helmRelease('apps', 'broken', {
    chart: { spec: { sourceRef: { kind: 'HelmRepository', name: 'charts' } } },
  }),
  // Another namespace: a consumer only across namespaces. Its HelmChart is made beside the repository;
  // without --allow-cross-namespace-refs tagguard cannot read its HelmRelease and watches it as a HelmChart.
  helmRelease('team-b', 'shop', fromCharts('shop', 'apps')),
  helmChart('apps', 'team-b-shop', {
    chart: 'shop',
    sourceRef: { kind: 'HelmRepository', name: 'charts' },
  }),
];
// billing's HelmChart has another name than helm-controller's default: status.helmChart says it is billing's.
const billing = world.find((o) => o.metadata?.name === 'billing') as KubernetesObject & { status?: object };
billing.status = { helmChart: 'apps/custom-name' };

const names = (consumers: readonly { kind: string; namespace: string; name: string }[]) =>
  consumers.map((c) => `${c.kind}/${c.namespace}/${c.name}`);

describe('listHelmRepositoryConsumers', () => {
  it('lists the HelmReleases and the HelmCharts no such HelmRelease generated, sorted', async () => {
    const consumers = await listHelmRepositoryConsumers(memoryReader(world), 'apps', 'charts', 'apps');
    expect(names(consumers)).toEqual([
      'HelmChart/apps/standalone',
      'HelmChart/apps/team-b-shop',
      'HelmRelease/apps/billing',
      'HelmRelease/apps/payment',
    ]);
  });

  it('takes HelmReleases of every namespace when no consumer namespace is given, HelmCharts only beside the repository', async () => {
    const consumers = await listHelmRepositoryConsumers(memoryReader(world), 'apps', 'charts', undefined);
    expect(names(consumers)).toEqual([
      'HelmChart/apps/standalone',
      'HelmRelease/apps/billing',
      'HelmRelease/apps/payment',
      'HelmRelease/team-b/shop',
    ]);
  });

  it('reads the lists through the reader (what the dependency index records)', async () => {
    const reads: string[] = [];
    const inner = memoryReader(world);
    await listHelmRepositoryConsumers(
      {
        get: (...args) => inner.get(...args),
        list: (apiVersion, kind, namespace, selector) => {
          reads.push(`${kind} ${namespace ?? '*'}`);
          return inner.list(apiVersion, kind, namespace, selector);
        },
      },
      'apps',
      'charts',
      'apps',
    );
    expect(reads).toEqual(['HelmRelease apps', 'HelmChart apps']);
  });
});

describe('resolveHelmRepository', () => {
  const options = { allowCrossNamespace: false, argocdNamespace: 'argocd' };

  it('returns the repository, whatever its type, and its consumers', async () => {
    const http = helmRepository('apps', 'web', { url: 'https://charts.example.com' });
    const resolved = await resolveHelmRepository(
      { kind: 'HelmRepository', name: 'web' },
      'apps',
      memoryReader([...world, http]),
      options,
    );
    expect(resolved.repository).toEqual({
      namespace: 'apps',
      name: 'web',
      type: 'default',
      url: 'https://charts.example.com',
    });
    expect(resolved.consumers).toEqual([]);
  });

  it.each([
    ['a repository that does not exist', { kind: 'HelmRepository', name: 'missing' }, options, 'NotFound'],
    [
      'another namespace without --allow-cross-namespace-refs',
      { kind: 'HelmRepository', name: 'charts', namespace: 'apps' },
      options,
      'CrossNamespaceForbidden',
    ],
  ] as const)('refuses %s', async (_what, ref, opts, code) => {
    const error = await resolveHelmRepository(ref, 'team-b', memoryReader(world), opts).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SourceError);
    expect((error as SourceError).code).toBe(code);
  });

  it('finds consumers in other namespaces only with --allow-cross-namespace-refs', async () => {
    const resolved = await resolveHelmRepository(
      { kind: 'HelmRepository', name: 'charts', namespace: 'apps' },
      'team-b',
      memoryReader(world),
      { ...options, allowCrossNamespace: true },
    );
    expect(names(resolved.consumers)).toContain('HelmRelease/team-b/shop');
  });

  it('is not a single artifact for resolveSource', async () => {
    const { resolveSource } = await import('../../../src/sources/resolve-source.ts');
    const error = await resolveSource(
      { kind: 'HelmRepository', name: 'charts' },
      'apps',
      memoryReader(world),
      options,
    ).catch((e: unknown) => e);
    expect((error as SourceError).code).toBe('Unsupported');
  });
});
