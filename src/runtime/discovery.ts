// API discovery: which of the kinds tagguard can watch does this API server actually serve? Flux or
// Argo CD may be absent (or only one of their API versions installed); informers start only for the
// kinds found. A group/version the server does not know (404) is simply absent; any other failure throws,
// so a flaky API server is not mistaken for a missing CRD.
import type { KubeConfig } from '@kubernetes/client-node';
import { RuntimeError, isRuntimeError } from './errors.ts';
import { kubeJson } from './kube-api.ts';
import { groupVersionPath, type ResourceKind } from './resource-kind.ts';

interface ApiResourceList {
  readonly resources?: readonly { readonly name?: unknown }[];
}

/** The plural names served in one group/version (subresources such as `x/status` left out); empty if none. */
const servedPlurals = async (kubeConfig: KubeConfig, kind: ResourceKind): Promise<ReadonlySet<string>> => {
  let list: ApiResourceList;
  try {
    list = await kubeJson<ApiResourceList>(kubeConfig, { path: groupVersionPath(kind) });
  } catch (error) {
    if (isRuntimeError(error, 'NotFound')) return new Set();
    throw error;
  }
  if (!Array.isArray(list.resources)) {
    throw new RuntimeError('InvalidResponse', `discovery ${groupVersionPath(kind)}: no resources list`);
  }
  return new Set(
    (list.resources as readonly { readonly name?: unknown }[])
      .map((r) => r.name)
      .filter((name): name is string => typeof name === 'string' && !name.includes('/')),
  );
};

export const discoverInstalledKinds = async (
  kubeConfig: KubeConfig,
  wanted: readonly ResourceKind[],
): Promise<ResourceKind[]> => {
  const byGroupVersion = new Map<string, Promise<ReadonlySet<string>>>();
  for (const kind of wanted) {
    const path = groupVersionPath(kind);
    if (!byGroupVersion.has(path)) byGroupVersion.set(path, servedPlurals(kubeConfig, kind));
  }
  const paths = [...byGroupVersion.keys()];
  const plurals = await Promise.all(byGroupVersion.values());
  const served = new Map(paths.map((path, i) => [path, plurals[i]]));
  return wanted.filter((kind) => served.get(groupVersionPath(kind))?.has(kind.plural) === true);
};
