// Push notifications for the attack-race benches: a CNCF distribution instance whose `notifications`
// endpoint posts every event to the operator's receiver with a bearer token that the receiver reads from a
// Secret (configured as in test/integration/webhook/distribution-notifications.test.ts).
import { randomBytes } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeTestClient } from '../test/env/kube.ts';
import { freePort } from '../test/env/ports.ts';
import type { ProcessSupervisor } from '../test/env/processes.ts';
import { startDistribution, type RegistryEndpoint } from '../test/env/registries.ts';

export interface NotifyingRegistry {
  readonly registry: RegistryEndpoint;
  /** `tagguard run` flags for the receiver the registry posts to. */
  readonly operatorArgs: readonly string[];
}

export const startNotifyingRegistry = async (
  kube: KubeTestClient,
  supervisor: ProcessSupervisor,
  dir: string,
  secret: { readonly namespace: string; readonly name: string },
): Promise<NotifyingRegistry> => {
  const port = await freePort();
  const token = randomBytes(24).toString('hex');
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: secret.namespace } });
  await kube.apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: secret.name, namespace: secret.namespace },
    stringData: { token },
  } as KubernetesObject);
  const registry = await startDistribution(supervisor, dir, {
    name: 'distribution-notify',
    notifications: [
      {
        name: 'tagguard',
        url: `http://127.0.0.1:${port}/webhook/distribution`,
        headers: { Authorization: `Bearer ${token}` },
      },
    ],
  });
  return {
    registry,
    operatorArgs: [
      '--webhook-addr',
      `127.0.0.1:${port}`,
      '--webhook-secret',
      `${secret.namespace}/${secret.name}`,
    ],
  };
};
