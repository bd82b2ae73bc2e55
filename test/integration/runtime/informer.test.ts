// The informer and API discovery against the real API server of the test environment: events and cache
// for a built-in kind and a CRD kind, label selectors, resuming after server-side watch closes, stop().
import { afterEach, describe, expect, inject, it } from 'vitest';
import { CoreV1Api, type KubernetesObject } from '@kubernetes/client-node';
import { KubeTestClient } from '../../env/kube.ts';
import { Informer } from '../../../src/runtime/informer.ts';
import { discoverInstalledKinds } from '../../../src/runtime/discovery.ts';
import type { ResourceKind } from '../../../src/runtime/resource-kind.ts';
import { captureLogs, configMap, createNamespace, EventRecorder, type ConfigMapObject } from './support.ts';

const env = inject('testEnv');
const kube = KubeTestClient.fromFile(env.kubeconfig);
const core = kube.kubeConfig.makeApiClient(CoreV1Api);

const CONFIG_MAPS: ResourceKind = {
  group: '',
  version: 'v1',
  plural: 'configmaps',
  kind: 'ConfigMap',
  namespaced: true,
};
const OCI_REPOSITORIES: ResourceKind = {
  group: 'source.toolkit.fluxcd.io',
  version: 'v1',
  plural: 'ocirepositories',
  kind: 'OCIRepository',
  namespaced: true,
};

const informers: Informer<KubernetesObject>[] = [];
const track = <T extends KubernetesObject>(informer: Informer<T>): Informer<T> => {
  informers.push(informer as unknown as Informer<KubernetesObject>);
  return informer;
};

afterEach(async () => {
  await Promise.all(informers.splice(0).map((i) => i.stop()));
});

describe('Informer', () => {
  it('lists, then delivers add, update and delete of ConfigMaps in its namespace and keeps the cache in step', async () => {
    const ns = await createNamespace(kube, 'inf');
    const other = await createNamespace(kube, 'inf-other');
    await kube.apply(configMap(ns, 'before', { v: '0' }));
    const logs = captureLogs();
    const informer = track(
      new Informer<ConfigMapObject>(kube.kubeConfig, {
        kind: CONFIG_MAPS,
        namespace: ns,
        logger: logs.logger,
      }),
    );
    const recorder = new EventRecorder(informer);
    expect(informer.hasSynced).toBe(false);
    await informer.start();
    expect(informer.hasSynced).toBe(true);
    // The first list is in the cache when start() resolves, delivered as adds, with apiVersion/kind filled in.
    const before = informer.get(ns, 'before');
    expect(before?.data).toEqual({ v: '0' });
    expect(before?.apiVersion).toBe('v1');
    expect(before?.kind).toBe('ConfigMap');
    expect(recorder.summary()).toContain('add before {"v":"0"}');

    await kube.apply(configMap(other, 'elsewhere', { v: '1' }));
    await kube.apply(configMap(ns, 'payment', { v: '1' }));
    await recorder.waitFor('add payment', (e) => e.type === 'add' && e.object.metadata?.name === 'payment');
    await kube.apply(configMap(ns, 'payment', { v: '2' }));
    const update = await recorder.waitFor('update payment', (e) => e.type === 'update');
    expect(update.old?.data).toEqual({ v: '1' });
    expect(update.object.data).toEqual({ v: '2' });
    expect(informer.get(ns, 'payment')?.data).toEqual({ v: '2' });

    await core.deleteNamespacedConfigMap({ name: 'payment', namespace: ns });
    const deleted = await recorder.waitFor('delete payment', (e) => e.type === 'delete');
    expect(deleted.object.metadata?.name).toBe('payment');
    expect(informer.get(ns, 'payment')).toBeUndefined();
    expect(informer.list(ns).map((c) => c.metadata?.name)).toEqual(['before']);
    expect(recorder.summary()).not.toContain('add elsewhere {"v":"1"}');
  });

  it("caches objects without managedFields and kubectl's last-applied copy, keeping every other annotation", async () => {
    const ns = await createNamespace(kube, 'inf-trim');
    const object = configMap(ns, 'trimmed', { v: '0' });
    object.metadata = {
      ...object.metadata,
      annotations: {
        'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(object),
        'tagguard.dev/held-by': 'ns/av',
      },
    };
    await kube.apply(object);
    const stored = await core.readNamespacedConfigMap({ name: 'trimmed', namespace: ns });
    expect(stored.metadata?.managedFields?.length ?? 0).toBeGreaterThan(0);
    const informer = track(
      new Informer<ConfigMapObject>(kube.kubeConfig, {
        kind: CONFIG_MAPS,
        namespace: ns,
        logger: captureLogs().logger,
      }),
    );
    const recorder = new EventRecorder(informer);
    await informer.start();
    const listed = informer.get(ns, 'trimmed');
    expect(listed?.metadata?.managedFields).toBeUndefined();
    expect(listed?.metadata?.annotations).toEqual({ 'tagguard.dev/held-by': 'ns/av' });
    expect(listed?.data).toEqual({ v: '0' });
    // Objects that arrive through the watch are trimmed the same way.
    await kube.apply({ ...object, data: { v: '1' } });
    const update = await recorder.waitFor('update trimmed', (e) => e.type === 'update');
    expect(update.object.metadata?.managedFields).toBeUndefined();
    expect(update.object.metadata?.annotations).toEqual({ 'tagguard.dev/held-by': 'ns/av' });
  });

  it('with a label selector sees only matching objects, and a delete when an object stops matching', async () => {
    const ns = await createNamespace(kube, 'inf-sel');
    const informer = track(
      new Informer<ConfigMapObject>(kube.kubeConfig, {
        kind: CONFIG_MAPS,
        namespace: ns,
        labelSelector: 'tagguard.dev/watched=yes',
        logger: captureLogs().logger,
      }),
    );
    const recorder = new EventRecorder(informer);
    await informer.start();
    await kube.apply(configMap(ns, 'ignored', { v: '1' }, { 'tagguard.dev/watched': 'no' }));
    await kube.apply(configMap(ns, 'watched', { v: '1' }, { 'tagguard.dev/watched': 'yes' }));
    await recorder.waitFor('add watched', (e) => e.type === 'add');
    await kube.apply(configMap(ns, 'watched', { v: '1' }, { 'tagguard.dev/watched': 'no' }));
    await recorder.waitFor('delete watched', (e) => e.type === 'delete');
    expect(recorder.summary()).toEqual(['add watched {"v":"1"}', 'delete watched {"v":"1"}']);
    expect(informer.list()).toEqual([]);
  });

  it('resumes from the last resourceVersion when the server closes the watch, missing no update and listing once', async () => {
    const ns = await createNamespace(kube, 'inf-resume');
    const logs = captureLogs();
    const informer = track(
      new Informer<ConfigMapObject>(kube.kubeConfig, {
        kind: CONFIG_MAPS,
        namespace: ns,
        logger: logs.logger,
        watchTimeoutSeconds: 1, // the API server ends each watch after a second
      }),
    );
    const recorder = new EventRecorder(informer);
    await informer.start();
    for (let i = 1; i <= 6; i += 1) {
      await kube.apply(configMap(ns, 'counter', { n: String(i) }));
      await new Promise((r) => setTimeout(r, 600));
    }
    await recorder.waitFor('n=6', (e) => e.object.data?.n === '6');
    expect(recorder.summary()).toEqual([
      'add counter {"n":"1"}',
      ...[2, 3, 4, 5, 6].map((n) => `update counter {"n":"${n}"}`),
    ]);
    expect(logs.count('listed')).toBe(1);
    expect(logs.count('watch closed; resuming')).toBeGreaterThanOrEqual(2);
  });

  it('watches a custom resource kind (Flux OCIRepository)', async () => {
    const ns = await createNamespace(kube, 'inf-crd');
    const informer = track(
      new Informer<ConfigMapObject>(kube.kubeConfig, {
        kind: OCI_REPOSITORIES,
        namespace: ns,
        logger: captureLogs().logger,
      }),
    );
    const recorder = new EventRecorder(informer);
    await informer.start();
    await kube.apply({
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'OCIRepository',
      metadata: { name: 'payment', namespace: ns },
      spec: { url: 'oci://registry.example.com/charts/payment', ref: { tag: '3.1.0' }, interval: '1m' },
    });
    const added = await recorder.waitFor('add payment', (e) => e.type === 'add');
    expect(added.object.kind).toBe('OCIRepository');
    expect((informer.get(ns, 'payment') as { spec?: { ref?: { tag?: string } } }).spec?.ref?.tag).toBe(
      '3.1.0',
    );
  });

  it('re-delivers every cached object as an update (old === object) each resync period', async () => {
    const ns = await createNamespace(kube, 'inf-resync');
    await kube.apply(configMap(ns, 'steady', { v: '1' }));
    const informer = track(
      new Informer<ConfigMapObject>(kube.kubeConfig, {
        kind: CONFIG_MAPS,
        namespace: ns,
        logger: captureLogs().logger,
        resyncMs: 200,
      }),
    );
    const recorder = new EventRecorder(informer);
    await informer.start();
    await recorder.waitFor('a resync', (e) => e.type === 'update');
    const resync = recorder.events.find((e) => e.type === 'update');
    expect(resync?.old).toBe(resync?.object);
    expect(resync?.object.metadata?.name).toBe('steady');
  });

  it('emits nothing after stop() has resolved', async () => {
    const ns = await createNamespace(kube, 'inf-stop');
    const informer = new Informer<ConfigMapObject>(kube.kubeConfig, {
      kind: CONFIG_MAPS,
      namespace: ns,
      logger: captureLogs().logger,
    });
    const recorder = new EventRecorder(informer);
    await informer.start();
    await kube.apply(configMap(ns, 'one', { v: '1' }));
    await recorder.waitFor('add one', (e) => e.type === 'add');
    await informer.stop();
    await kube.apply(configMap(ns, 'two', { v: '1' }));
    await kube.apply(configMap(ns, 'one', { v: '2' }));
    await new Promise((r) => setTimeout(r, 1_000));
    expect(recorder.summary()).toEqual(['add one {"v":"1"}']);
    await expect(informer.start()).rejects.toMatchObject({ code: 'Stopped' });
  });
});

describe('discoverInstalledKinds', () => {
  it('finds the installed Flux, Argo CD and built-in kinds and not a kind, version or group the server lacks', async () => {
    const wanted: ResourceKind[] = [
      OCI_REPOSITORIES,
      {
        group: 'helm.toolkit.fluxcd.io',
        version: 'v2',
        plural: 'helmreleases',
        kind: 'HelmRelease',
        namespaced: true,
      },
      {
        group: 'argoproj.io',
        version: 'v1alpha1',
        plural: 'applications',
        kind: 'Application',
        namespaced: true,
      },
      CONFIG_MAPS,
      {
        group: 'source.toolkit.fluxcd.io',
        version: 'v1',
        plural: 'bogusthings',
        kind: 'BogusThing',
        namespaced: true,
      },
      {
        group: 'source.toolkit.fluxcd.io',
        version: 'v9',
        plural: 'ocirepositories',
        kind: 'OCIRepository',
        namespaced: true,
      },
      { group: 'bogus.example.com', version: 'v1', plural: 'widgets', kind: 'Widget', namespaced: true },
    ];
    const found = await discoverInstalledKinds(kube.kubeConfig, wanted);
    expect(found.map((k) => `${k.plural}.${k.group}/${k.version}`)).toEqual([
      'ocirepositories.source.toolkit.fluxcd.io/v1',
      'helmreleases.helm.toolkit.fluxcd.io/v2',
      'applications.argoproj.io/v1alpha1',
      'configmaps./v1',
    ]);
  });
});
