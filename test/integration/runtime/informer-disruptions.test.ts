// The informer through the disruptions a real cluster has, on a control plane of this file's own (the
// tests restart its API server and compact its etcd): a forced watch expiry (410 Gone) after a gap during
// which objects changed, appeared and vanished, and an API server restart.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { CoreV1Api } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../../env/control-plane.ts';
import { KubeTestClient } from '../../env/kube.ts';
import { ProcessSupervisor } from '../../env/processes.ts';
import { Informer } from '../../../src/runtime/informer.ts';
import type { ResourceKind } from '../../../src/runtime/resource-kind.ts';
import {
  captureLogs,
  compactEtcd,
  configMap,
  createNamespace,
  EventRecorder,
  uniqueName,
  type ConfigMapObject,
} from './support.ts';
import { TcpGate } from './tcp-gate.ts';

const env = inject('testEnv');
const CONFIG_MAPS: ResourceKind = {
  group: '',
  version: 'v1',
  plural: 'configmaps',
  kind: 'ConfigMap',
  namespaced: true,
};

describe('Informer under disruption', () => {
  let supervisor: ProcessSupervisor;
  let plane: ControlPlane;
  let kube: KubeTestClient;
  let gate: TcpGate | undefined;
  const informers: Informer<ConfigMapObject>[] = [];

  beforeAll(async () => {
    // A second attempt in a fresh directory: the harness issues two certificates of one CA at the same
    // time with `openssl -CAcreateserial`, which now and then leaves an empty certificate (reported).
    for (let attempt = 1; ; attempt += 1) {
      const dir = join(env.runDir, uniqueName('runtime-plane'));
      await mkdir(dir, { recursive: true });
      supervisor = new ProcessSupervisor(dir);
      try {
        plane = await startControlPlane(supervisor, dir);
        break;
      } catch (error) {
        await supervisor.stopAll();
        if (attempt === 2) throw error;
      }
    }
    kube = KubeTestClient.fromFile(plane.kubeconfig);
  });

  afterEach(async () => {
    await Promise.all(informers.splice(0).map((i) => i.stop()));
    await gate?.close();
    gate = undefined;
  });

  afterAll(async () => {
    await supervisor?.stopAll();
  });

  it('relists after a forced watch expiry (410) and delivers what changed, appeared and vanished during the gap', async () => {
    const ns = await createNamespace(kube, 'expiry');
    await kube.apply(configMap(ns, 'kept', { v: '1' }));
    await kube.apply(configMap(ns, 'vanished', { v: '1' }));
    gate = await TcpGate.open(plane.server);
    const logs = captureLogs();
    const informer = new Informer<ConfigMapObject>(gate.kubeConfigFrom(plane.kubeconfig), {
      kind: CONFIG_MAPS,
      namespace: ns,
      logger: logs.logger,
      baseDelayMs: 100,
      maxDelayMs: 1_000,
    });
    informers.push(informer);
    const recorder = new EventRecorder(informer);
    await informer.start();
    expect(recorder.summary().sort()).toEqual(['add kept {"v":"1"}', 'add vanished {"v":"1"}']);

    // The gap: the informer loses the API server while the cluster changes, and the history of those
    // changes is compacted away; the restart empties the API server's watch cache as well.
    await gate.close();
    await kube.apply(configMap(ns, 'kept', { v: '2' }));
    await kube.apply(configMap(ns, 'appeared', { v: '1' }));
    await kube.kubeConfig
      .makeApiClient(CoreV1Api)
      .deleteNamespacedConfigMap({ name: 'vanished', namespace: ns });
    await compactEtcd(plane.etcdUrl);
    await plane.restartApiServer();
    await gate.reopen();

    await recorder.waitFor('delete vanished', (e) => e.type === 'delete', 60_000);
    await recorder.waitFor('kept v=2', (e) => e.type === 'update' && e.object.data?.v === '2');
    await recorder.waitFor('add appeared', (e) => e.type === 'add' && e.object.metadata?.name === 'appeared');
    expect(recorder.summary().slice(2).sort()).toEqual([
      'add appeared {"v":"1"}',
      'delete vanished {"v":"1"}',
      'update kept {"v":"2"}',
    ]);
    expect(logs.count('watch history expired (410); listing again')).toBeGreaterThanOrEqual(1);
    expect(logs.count('listed')).toBe(2);
    expect(
      informer
        .list()
        .map((c) => c.metadata?.name)
        .sort(),
    ).toEqual(['appeared', 'kept']);

    // And it keeps watching after the relist.
    await kube.apply(configMap(ns, 'kept', { v: '3' }));
    await recorder.waitFor('kept v=3', (e) => e.object.data?.v === '3');
  });

  it('survives an API server restart: retries with backoff, then delivers every later change', async () => {
    const ns = await createNamespace(kube, 'restart');
    const logs = captureLogs();
    const informer = new Informer<ConfigMapObject>(kube.kubeConfig, {
      kind: CONFIG_MAPS,
      namespace: ns,
      logger: logs.logger,
      baseDelayMs: 100,
      maxDelayMs: 1_000,
    });
    informers.push(informer);
    const recorder = new EventRecorder(informer);
    await informer.start();
    await kube.apply(configMap(ns, 'app', { v: '1' }));
    await recorder.waitFor('add app', (e) => e.type === 'add');

    await plane.restartApiServer();
    expect(informer.hasSynced).toBe(true);
    expect(logs.count('list-watch failed; retrying')).toBeGreaterThanOrEqual(1);
    for (let v = 2; v <= 4; v += 1) await kube.apply(configMap(ns, 'app', { v: String(v) }));
    await recorder.waitFor('app v=4', (e) => e.object.data?.v === '4', 60_000);
    expect(recorder.summary()).toEqual([
      'add app {"v":"1"}',
      'update app {"v":"2"}',
      'update app {"v":"3"}',
      'update app {"v":"4"}',
    ]);
  });
});
