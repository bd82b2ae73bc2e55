// Every version of the Deployments in a namespace that the API server stores, from a watch started before an
// attack: what a GitOps controller actually applied, including a version that a later sync replaced.
import { Watch, type V1Deployment } from '@kubernetes/client-node';
import type { KubeTestClient } from './kube.ts';

export interface DeploymentHistory {
  /** Every stored version seen, oldest first (ADDED and MODIFIED; DELETED too). */
  readonly versions: readonly V1Deployment[];
  /** The versions that run a privileged container or init container (the attacker's chart). */
  privileged(): V1Deployment[];
  stop(): void;
}

export const isPrivileged = (deployment: V1Deployment): boolean => {
  const pod = deployment.spec?.template.spec;
  return [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])].some(
    (c) => c.securityContext?.privileged === true,
  );
};

/** Watches from now on; a watch the API server ends is resumed from the last resourceVersion seen. */
export const watchDeployments = async (
  kube: KubeTestClient,
  namespace: string,
): Promise<DeploymentHistory> => {
  const versions: V1Deployment[] = [];
  let stopped = false;
  let controller: AbortController | undefined;
  let resourceVersion: string | undefined;
  const start = async (): Promise<void> => {
    controller = await new Watch(kube.kubeConfig).watch(
      `/apis/apps/v1/namespaces/${namespace}/deployments`,
      { allowWatchBookmarks: false, ...(resourceVersion ? { resourceVersion } : {}) },
      (_phase, object: V1Deployment) => {
        resourceVersion = object.metadata?.resourceVersion ?? resourceVersion;
        versions.push(JSON.parse(JSON.stringify(object)) as V1Deployment);
      },
      () => {
        if (!stopped) setTimeout(() => void start().catch(() => undefined), 200);
      },
    );
  };
  await start();
  return {
    versions,
    privileged: () => versions.filter(isPrivileged),
    stop: () => {
      stopped = true;
      controller?.abort();
    },
  };
};
