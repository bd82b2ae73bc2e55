// One connection pool per API server identity (issue 17): against the real API server of the test
// environment, requests made through runtime/kube-api.ts and through client-node's own API classes open
// a handful of TLS connections in all, where client-node alone opens one per request.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { CoreV1Api } from '@kubernetes/client-node';
import { loadKubeConfig } from '../../env/kube.ts';
import { kubeJson } from '../../../src/runtime/kube-api.ts';
import { reuseConnections } from '../../../src/runtime/kube-connections.ts';

const env = inject('testEnv');
const REQUESTS = 30;

let connections = 0;
const onConnected = (): void => {
  connections += 1;
};
beforeEach(() => {
  connections = 0;
  subscribe('undici:client:connected', onConnected);
});
afterEach(() => unsubscribe('undici:client:connected', onConnected));

const sequentialRequests = async (kubeConfig: ReturnType<typeof loadKubeConfig>): Promise<void> => {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  for (let i = 0; i < REQUESTS; i += 1) {
    await kubeJson(kubeConfig, { path: '/api/v1/namespaces/default' });
    await core.readNamespace({ name: 'default' });
  }
};

describe('reuseConnections', () => {
  it('client-node alone opens a connection per request (the behaviour this works around)', async () => {
    await sequentialRequests(loadKubeConfig(env.kubeconfig));
    // If client-node starts reusing its Agents this fails, and reuseConnections can go.
    expect(connections).toBeGreaterThanOrEqual(2 * REQUESTS);
  });

  it('with reuseConnections, both request paths share one pool', async () => {
    const kubeConfig = loadKubeConfig(env.kubeconfig);
    reuseConnections(kubeConfig);
    reuseConnections(kubeConfig); // idempotent
    await sequentialRequests(kubeConfig);
    expect(connections).toBeGreaterThanOrEqual(1);
    expect(connections).toBeLessThanOrEqual(2);
  });

  it('concurrent requests are served by the same pool', async () => {
    const kubeConfig = loadKubeConfig(env.kubeconfig);
    reuseConnections(kubeConfig);
    for (let round = 0; round < 3; round += 1)
      await Promise.all(
        Array.from({ length: 10 }, () => kubeJson(kubeConfig, { path: '/api/v1/namespaces/default' })),
      );
    // undici opens up to one connection per concurrent request in the first round, then reuses them.
    expect(connections).toBeLessThanOrEqual(10);
  });
});
