// Read access to GitOps objects for the source adapters: from an informer's cache when the operator runs
// one for the kind, else from the API server. Kinds that are not served read as absent.
import { KubernetesObjectApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { ObjectReader } from '../sources/types.ts';
import { isNotFound } from './cluster-access.ts';
import type { ReadRecorder } from './dependency-index.ts';

export interface ObjectCache {
  get(namespace: string | undefined, name: string): KubernetesObject | undefined;
  list(namespace?: string): KubernetesObject[];
  readonly hasSynced: boolean;
}

export class KubeObjectReader implements ObjectReader {
  private readonly api: KubernetesObjectApi;
  private readonly caches: ReadonlyMap<string, ObjectCache>;
  private readonly recorder: ReadRecorder | undefined;

  /**
   * caches: by "apiVersion/kind" (e.g. "source.toolkit.fluxcd.io/v1/OCIRepository"); recorder: told of
   * every read, so that changes to what a reconcile read wake it again.
   */
  constructor(
    kubeConfig: KubeConfig,
    caches: ReadonlyMap<string, ObjectCache> = new Map(),
    recorder?: ReadRecorder,
  ) {
    this.api = KubernetesObjectApi.makeApiClient(kubeConfig);
    this.caches = caches;
    this.recorder = recorder;
  }

  async get(
    apiVersion: string,
    kind: string,
    namespace: string,
    name: string,
  ): Promise<KubernetesObject | undefined> {
    this.recorder?.recordGet(apiVersion, kind, namespace, name);
    const cache = this.caches.get(`${apiVersion}/${kind}`);
    if (cache?.hasSynced) return cache.get(namespace, name);
    try {
      return await this.api.read({ apiVersion, kind, metadata: { name, namespace } });
    } catch (error) {
      if (isNotFound(error) || isUnknownKind(error)) return undefined;
      throw error;
    }
  }

  async list(
    apiVersion: string,
    kind: string,
    namespace?: string,
    labelSelector?: string,
  ): Promise<KubernetesObject[]> {
    this.recorder?.recordList(apiVersion, kind, namespace);
    const cache = this.caches.get(`${apiVersion}/${kind}`);
    if (cache?.hasSynced && labelSelector === undefined) return cache.list(namespace);
    try {
      const list = await this.api.list(
        apiVersion,
        kind,
        namespace,
        undefined,
        undefined,
        undefined,
        undefined,
        labelSelector,
      );
      return list.items;
    } catch (error) {
      if (isNotFound(error) || isUnknownKind(error)) return [];
      throw error;
    }
  }
}

// KubernetesObjectApi resolves a kind to its resource through discovery and throws a plain Error when
// the group/version does not serve it (Flux or Argo CD not installed).
const isUnknownKind = (error: unknown): boolean =>
  error instanceof Error && /Unrecognized API version and kind|resource .* not found/i.test(error.message);
