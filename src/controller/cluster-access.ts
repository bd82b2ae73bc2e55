// What the controller reads and writes in the cluster besides GitOps targets: Secrets and ConfigMaps
// holding trust material and credentials, and its own ArtifactVerifications (finalizers, status through
// the status subresource). Secret values are returned as bytes and never logged.
import {
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import {
  GROUP,
  PLURAL,
  VERSION,
  type ArtifactVerification,
  type ArtifactVerificationStatus,
} from '../api/artifact-verification.ts';

export interface ClusterAccess {
  readSecret(namespace: string, name: string): Promise<Readonly<Record<string, Buffer>> | undefined>;
  readConfigMap(namespace: string, name: string): Promise<Readonly<Record<string, string>> | undefined>;
  getArtifactVerification(namespace: string, name: string): Promise<ArtifactVerification | undefined>;
  /** Replaces the status (top-level keys absent from `status` are removed). */
  writeStatus(object: ArtifactVerification, status: ArtifactVerificationStatus): Promise<void>;
  /** Sets metadata.finalizers, failing with 409 when the object changed since it was read. */
  writeFinalizers(object: ArtifactVerification, finalizers: readonly string[]): Promise<ArtifactVerification>;
}

const STATUS_KEYS: readonly (keyof ArtifactVerificationStatus)[] = [
  'observedGeneration',
  'conditions',
  'source',
  'artifact',
  'trustedDigest',
  'verifiedAt',
  'signers',
  'findings',
  'findingsCount',
  'heldTargets',
  'history',
  'lastFailure',
  'charts',
  'chartCounts',
  'chartsSummary',
];

export const statusCode = (error: unknown): number | undefined => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
};

export const isNotFound = (error: unknown): boolean => statusCode(error) === 404;

const orUndefinedOn404 = async <T>(read: () => Promise<T>): Promise<T | undefined> => {
  try {
    return await read();
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
};

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** Where the operator's own informer keeps the ArtifactVerifications it watches. */
export interface ArtifactVerificationCache {
  get(namespace: string, name: string): ArtifactVerification | undefined;
}

/**
 * Whether a cached copy is at least as new as the version this process wrote. Resource versions are
 * opaque: only equal strings, or two integers (etcd's revisions) in order, are taken as proof.
 */
export const atLeast = (cached: string | undefined, written: string): boolean => {
  if (cached === undefined) return false;
  if (cached === written) return true;
  return /^\d{1,30}$/.test(cached) && /^\d{1,30}$/.test(written) && BigInt(cached) > BigInt(written);
};

export class KubeClusterAccess implements ClusterAccess {
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly cache: ArtifactVerificationCache | undefined;
  /** resourceVersion of each CR's last write by this process, until the cache has caught up with it. */
  private readonly written = new Map<string, string>();

  /**
   * With `cache`, a CR is read from the informer's cache (no GET per reconcile, issue 17) unless this
   * process wrote it since and the cache has not seen that write yet: then it is read from the API
   * server, so a reconcile never acts on a status older than the one the previous reconcile recorded.
   */
  constructor(kubeConfig: KubeConfig, cache?: ArtifactVerificationCache) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
    this.cache = cache;
  }

  async readSecret(namespace: string, name: string): Promise<Readonly<Record<string, Buffer>> | undefined> {
    const secret = await orUndefinedOn404(() => this.core.readNamespacedSecret({ namespace, name }));
    if (!secret) return undefined;
    return Object.fromEntries(
      Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
    );
  }

  async readConfigMap(
    namespace: string,
    name: string,
  ): Promise<Readonly<Record<string, string>> | undefined> {
    const map = await orUndefinedOn404(() => this.core.readNamespacedConfigMap({ namespace, name }));
    return map ? { ...(map.data ?? {}) } : undefined;
  }

  async getArtifactVerification(namespace: string, name: string): Promise<ArtifactVerification | undefined> {
    const key = `${namespace}/${name}`;
    const cached = this.cache?.get(namespace, name);
    if (cached !== undefined) {
      const written = this.written.get(key);
      if (written === undefined) return cached;
      if (atLeast(cached.metadata.resourceVersion, written)) {
        this.written.delete(key);
        return cached;
      }
    }
    const read = await this.readArtifactVerification(namespace, name);
    if (read === undefined) this.written.delete(key);
    return read;
  }

  private readArtifactVerification(
    namespace: string,
    name: string,
  ): Promise<ArtifactVerification | undefined> {
    return orUndefinedOn404(
      () =>
        this.custom.getNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          plural: PLURAL,
          namespace,
          name,
        }) as Promise<ArtifactVerification>,
    );
  }

  async writeStatus(object: ArtifactVerification, status: ArtifactVerificationStatus): Promise<void> {
    const body: Record<string, unknown> = {};
    for (const key of STATUS_KEYS) body[key] = status[key] ?? null;
    const updated = (await this.custom.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace: object.metadata.namespace ?? '',
        name: object.metadata.name,
        body: { status: body },
      },
      mergePatch,
    )) as ArtifactVerification;
    this.remember(updated);
  }

  private remember(object: ArtifactVerification): void {
    const version = object.metadata.resourceVersion;
    if (this.cache !== undefined && version !== undefined)
      this.written.set(`${object.metadata.namespace ?? ''}/${object.metadata.name}`, version);
  }

  async writeFinalizers(
    object: ArtifactVerification,
    finalizers: readonly string[],
  ): Promise<ArtifactVerification> {
    const updated = (await this.custom.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace: object.metadata.namespace ?? '',
        name: object.metadata.name,
        body: { metadata: { finalizers, resourceVersion: object.metadata.resourceVersion } },
      },
      mergePatch,
    )) as ArtifactVerification;
    this.remember(updated);
    return updated;
  }
}
