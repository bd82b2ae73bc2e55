// An ObjectReader straight over the real API server (no informer cache), for the source-adapter tests.
import {
  ApiException,
  KubernetesObjectApi,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { ObjectReader } from '../../../src/sources/types.ts';

const notFound = (error: unknown): boolean => error instanceof ApiException && error.code === 404;

export const apiObjectReader = (kubeConfig: KubeConfig): ObjectReader => {
  const api = KubernetesObjectApi.makeApiClient(kubeConfig);
  return {
    get: async (apiVersion, kind, namespace, name) => {
      try {
        return await api.read<KubernetesObject>({ apiVersion, kind, metadata: { name, namespace } });
      } catch (error) {
        if (notFound(error)) return undefined;
        throw error;
      }
    },
    list: async (apiVersion, kind, namespace, labelSelector) =>
      (await api.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector))
        .items,
  };
};
