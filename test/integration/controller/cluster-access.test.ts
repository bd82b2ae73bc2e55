// KubeClusterAccess against the real API server: ArtifactVerifications are read from the informer's cache,
// except right after this process wrote one and before the cache has seen that write (read-your-writes),
// so a reconcile never decides on a status older than the one the previous reconcile recorded.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { KubeTestClient } from '../../env/kube.ts';
import { atLeast, KubeClusterAccess } from '../../../src/controller/cluster-access.ts';
import type { ArtifactVerification } from '../../../src/api/artifact-verification.ts';
import { createNamespace } from '../runtime/support.ts';

const env = inject('testEnv');
const kube = KubeTestClient.fromFile(env.kubeconfig);
let ns = '';

beforeAll(async () => {
  ns = await createNamespace(kube, 'access');
});

const create = async (name: string): Promise<ArtifactVerification> =>
  (await kube.apply({
    apiVersion: 'tagguard.dev/v1alpha1',
    kind: 'ArtifactVerification',
    metadata: { name, namespace: ns },
    spec: { artifact: { url: 'oci://registry.example/charts/payment', tag: '1.0.0' } },
  } as KubernetesObject)) as unknown as ArtifactVerification;

describe('KubeClusterAccess with a cache of ArtifactVerifications', () => {
  it('answers from the cache, and from the API server only until the cache has seen its own write', async () => {
    const stored = await create('cached');
    // A cache that never moves on by itself; the marker label is on no object on the server.
    const marked = (o: ArtifactVerification): ArtifactVerification => ({
      ...o,
      metadata: { ...o.metadata, labels: { 'test.tagguard.dev/from': 'cache' } },
    });
    let cached: ArtifactVerification | undefined = marked(stored);
    const access = new KubeClusterAccess(kube.kubeConfig, { get: () => cached });

    expect((await access.getArtifactVerification(ns, 'cached'))?.metadata.labels).toEqual({
      'test.tagguard.dev/from': 'cache',
    });

    await access.writeStatus(stored, { observedGeneration: 1, source: 'written' });
    const afterWrite = await access.getArtifactVerification(ns, 'cached');
    expect(afterWrite?.metadata.labels).toBeUndefined();
    expect(afterWrite?.status?.source).toBe('written');

    // The cache catches up with the write: answered from it again.
    const fresh = await kube.read<ArtifactVerification & KubernetesObject>(
      'tagguard.dev/v1alpha1',
      'ArtifactVerification',
      'cached',
      ns,
    );
    cached = marked(fresh);
    expect((await access.getArtifactVerification(ns, 'cached'))?.status?.source).toBe('written');
    expect((await access.getArtifactVerification(ns, 'cached'))?.metadata.labels).toEqual({
      'test.tagguard.dev/from': 'cache',
    });
  });

  it('reads from the API server what the cache does not hold, and says undefined for what does not exist', async () => {
    await create('uncached');
    const access = new KubeClusterAccess(kube.kubeConfig, { get: () => undefined });
    expect((await access.getArtifactVerification(ns, 'uncached'))?.metadata.name).toBe('uncached');
    expect(await access.getArtifactVerification(ns, 'absent')).toBeUndefined();
  });
});

describe('atLeast', () => {
  it('trusts equal versions and integer order only', () => {
    expect(atLeast('42', '42')).toBe(true);
    expect(atLeast('43', '42')).toBe(true);
    expect(atLeast('41', '42')).toBe(false);
    expect(atLeast('100000000000000000000', '99')).toBe(true);
    expect(atLeast('abc', 'abd')).toBe(false);
    expect(atLeast(undefined, '1')).toBe(false);
  });
});
