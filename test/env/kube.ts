// Kubernetes helpers for tests: a client from a kubeconfig, server-side apply of manifests, and CRD
// installation that waits until the API server serves the new kinds.
import { readdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  ApiextensionsV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  loadAllYaml,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { waitFor } from './processes.ts';

export const FIELD_MANAGER = 'tagguard-test';

export const loadKubeConfig = (kubeconfigPath: string): KubeConfig => {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kc;
};

/**
 * Parses a multi-document YAML manifest into Kubernetes objects (empty documents dropped). Built-in kinds
 * come back as the client's typed models: its serializer drops raw keys such as
 * `x-kubernetes-preserve-unknown-fields` from a plain object of a built-in kind.
 */
export const parseManifests = (text: string): KubernetesObject[] =>
  (loadAllYaml(text) as unknown[]).filter(
    (doc): doc is KubernetesObject => typeof doc === 'object' && doc !== null && 'kind' in doc,
  );

export class KubeTestClient {
  readonly kubeConfig: KubeConfig;
  readonly objects: KubernetesObjectApi;
  readonly extensions: ApiextensionsV1Api;

  constructor(kubeConfig: KubeConfig) {
    this.kubeConfig = kubeConfig;
    this.objects = KubernetesObjectApi.makeApiClient(kubeConfig);
    this.extensions = kubeConfig.makeApiClient(ApiextensionsV1Api);
  }

  static fromFile(kubeconfigPath: string): KubeTestClient {
    return new KubeTestClient(loadKubeConfig(kubeconfigPath));
  }

  /** Server-side apply (create or update) of one object. */
  apply<T extends KubernetesObject>(object: T): Promise<T> {
    return this.objects.patch(
      object,
      undefined,
      undefined,
      FIELD_MANAGER,
      true,
      PatchStrategy.ServerSideApply,
    );
  }

  async applyAll(objects: readonly KubernetesObject[]): Promise<KubernetesObject[]> {
    const applied: KubernetesObject[] = [];
    for (const object of objects) applied.push(await this.apply(object));
    return applied;
  }

  read<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    name: string,
    namespace?: string,
  ): Promise<T> {
    return this.objects.read<T>({
      apiVersion,
      kind,
      metadata: { name, ...(namespace ? { namespace } : {}) },
    });
  }

  /** A JSON merge patch, the shape tests use to change a few fields of an object. */
  mergePatch<T extends KubernetesObject>(
    object: KubernetesObject & { metadata: { name: string } },
    patch: object,
  ): Promise<T> {
    return this.objects.patch<T>(
      { apiVersion: object.apiVersion, kind: object.kind, metadata: object.metadata, ...patch } as T,
      undefined,
      undefined,
      FIELD_MANAGER,
      undefined,
      PatchStrategy.MergePatch,
    );
  }

  /** Installs every CRD found in the given directories and waits until each is Established. */
  async installCrds(dirs: readonly string[]): Promise<string[]> {
    const crds: KubernetesObject[] = [];
    for (const dir of dirs) {
      // A missing directory is an error: a control plane without some CRDs fails later and far away.
      if (!existsSync(dir)) throw new Error(`CRD directory ${dir} is missing: run 'make testbin' first`);
      for (const file of (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort()) {
        const docs = parseManifests(await readFile(join(dir, file), 'utf8'));
        crds.push(...docs.filter((d) => d.kind === 'CustomResourceDefinition'));
      }
    }
    await this.applyAll(crds);
    const names = crds.map((c) => c.metadata?.name ?? '');
    await Promise.all(names.map((name) => this.waitForCrdEstablished(name)));
    return names;
  }

  private waitForCrdEstablished(name: string): Promise<true> {
    return waitFor(
      `CRD ${name} to be Established`,
      async () => {
        const crd = await this.extensions.readCustomResourceDefinition({ name });
        const established = crd.status?.conditions?.some(
          (c) => c.type === 'Established' && c.status === 'True',
        );
        return established ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  }
}
