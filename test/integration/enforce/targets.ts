// GitOps objects as Flux and Argo CD users write them, a namespace per test, a record of every write a
// HoldManager makes (a real client with a hook before each write, to change the target under it), and a
// watch that keeps every version of the targets the API server ever stored.
import { PatchStrategy, Watch, type KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import { HoldManager } from '../../../src/enforce/holds.ts';
import { KubernetesTargetApi, type TargetApi } from '../../../src/enforce/target-api.ts';
import type { JsonObject, TargetObject } from '../../../src/enforce/target-object.ts';
import type { TargetKind, TargetRef } from '../../../src/enforce/types.ts';
import type { KubeTestClient } from '../../env/kube.ts';

export const SILENT = pino({ level: 'silent' });

let sequence = 0;
export const newNamespace = async (kube: KubeTestClient, prefix: string): Promise<string> => {
  const name = `${prefix}-${Date.now().toString(36)}-${(sequence++).toString(36)}`;
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
};

type Spec = Record<string, unknown>;
interface Manifest extends KubernetesObject {
  metadata: { name: string; namespace: string; annotations?: Record<string, string> };
  spec: Spec;
}

const manifest = (kind: TargetKind, namespace: string, name: string, spec: Spec): Manifest => ({
  apiVersion: kind.apiVersion,
  kind: kind.kind,
  metadata: { name, namespace },
  spec,
});

export const OCI_REPOSITORY: TargetKind = {
  apiVersion: 'source.toolkit.fluxcd.io/v1',
  kind: 'OCIRepository',
};
export const HELM_CHART: TargetKind = { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'HelmChart' };
export const HELM_RELEASE: TargetKind = { apiVersion: 'helm.toolkit.fluxcd.io/v2', kind: 'HelmRelease' };
export const KUSTOMIZATION: TargetKind = {
  apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
  kind: 'Kustomization',
};
export const APPLICATION: TargetKind = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application' };

export const ociRepository = (namespace: string, name: string, extra: Spec = {}): Manifest =>
  manifest(OCI_REPOSITORY, namespace, name, {
    url: 'oci://registry.example.com/charts/payment',
    interval: '10s',
    ref: { tag: '3.1.0' },
    ...extra,
  });

export const helmChart = (namespace: string, name: string, extra: Spec = {}): Manifest =>
  manifest(HELM_CHART, namespace, name, {
    chart: 'payment',
    version: '3.1.0',
    sourceRef: { kind: 'HelmRepository', name: 'charts' },
    interval: '1m',
    ...extra,
  });

export const helmRelease = (namespace: string, name: string, extra: Spec = {}): Manifest =>
  manifest(HELM_RELEASE, namespace, name, {
    interval: '10m',
    chartRef: { kind: 'OCIRepository', name: 'payment' },
    ...extra,
  });

export const kustomization = (namespace: string, name: string, extra: Spec = {}): Manifest =>
  manifest(KUSTOMIZATION, namespace, name, {
    interval: '10m',
    path: './deploy',
    prune: true,
    sourceRef: { kind: 'OCIRepository', name: 'payment' },
    ...extra,
  });

export const application = (namespace: string, name: string, syncPolicy: Spec | undefined): Manifest =>
  manifest(APPLICATION, namespace, name, {
    project: 'default',
    source: { repoURL: 'registry.example.com/charts', chart: 'payment', targetRevision: '3.1.0' },
    destination: { server: 'https://kubernetes.default.svc', namespace: 'payment' },
    ...(syncPolicy ? { syncPolicy } : {}),
  });

export const refOf = (object: KubernetesObject): TargetRef => ({
  apiVersion: object.apiVersion ?? '',
  kind: object.kind ?? '',
  namespace: object.metadata?.namespace ?? '',
  name: object.metadata?.name ?? '',
});

/** A person's change (kubectl patch --type merge): no resourceVersion precondition. */
export const personPatch = (
  kube: KubeTestClient,
  target: TargetRef,
  patch: Spec,
): Promise<KubernetesObject> => {
  const { metadata, ...rest } = patch as { metadata?: Spec };
  return kube.objects.patch(
    {
      apiVersion: target.apiVersion,
      kind: target.kind,
      metadata: { name: target.name, namespace: target.namespace, ...metadata },
      ...rest,
    },
    undefined,
    undefined,
    'kubectl-patch',
    undefined,
    PatchStrategy.MergePatch,
  );
};

/** Reads the target as plain JSON (what the API server stores). */
export const readJson = async (kube: KubeTestClient, target: TargetRef): Promise<JsonObject> =>
  JSON.parse(
    JSON.stringify(await kube.read(target.apiVersion, target.kind, target.name, target.namespace)),
  ) as JsonObject;

/**
 * The parts of an object a hold may touch: its spec and its annotations — less the hard refresh a release
 * asks of Argo CD (`argocd.argoproj.io/refresh`, which Argo CD itself removes; asserted where it matters).
 */
export const heldParts = (object: JsonObject): { spec: unknown; annotations: unknown } => {
  const metadata = object['metadata'] as JsonObject;
  const { 'argocd.argoproj.io/refresh': _refresh, ...annotations } = (metadata['annotations'] ??
    {}) as JsonObject;
  return { spec: object['spec'], annotations };
};

/** A real API client with a hook that runs before each write and a log of the writes made. */
export class RecordingTargetApi implements TargetApi {
  /** Each write with its result: 'ok' or the EnforceError code. */
  readonly writes: { type: 'apply' | 'merge-patch'; body: JsonObject; result: string }[] = [];
  beforeWrite: ((n: number) => Promise<void>) | undefined;
  readonly #inner: TargetApi;

  constructor(kube: KubeTestClient) {
    this.#inner = new KubernetesTargetApi(kube.objects);
  }

  read(target: TargetRef): Promise<TargetObject | undefined> {
    return this.#inner.read(target);
  }

  list(kind: TargetKind, namespace?: string): Promise<TargetObject[]> {
    return this.#inner.list(kind, namespace);
  }

  apply(body: JsonObject, fieldManager: string): Promise<TargetObject> {
    return this.#record('apply', body, () => this.#inner.apply(body, fieldManager));
  }

  mergePatch(body: JsonObject, fieldManager: string): Promise<TargetObject> {
    return this.#record('merge-patch', body, () => this.#inner.mergePatch(body, fieldManager));
  }

  async #record(
    type: 'apply' | 'merge-patch',
    body: JsonObject,
    write: () => Promise<TargetObject>,
  ): Promise<TargetObject> {
    await this.beforeWrite?.(this.writes.length);
    const entry = { type, body, result: 'ok' };
    this.writes.push(entry);
    try {
      return await write();
    } catch (error) {
      entry.result = (error as { code?: string }).code ?? 'error';
      throw error;
    }
  }
}

export const recordingManager = (kube: KubeTestClient): { api: RecordingTargetApi; holds: HoldManager } => {
  const api = new RecordingTargetApi(kube);
  return { api, holds: new HoldManager(api, SILENT, 'tagguard', { backoff: () => Promise.resolve() }) };
};

/** Every version of the objects of one kind in a namespace that the API server stores, in order. */
export const watchVersions = async (
  kube: KubeTestClient,
  kind: TargetKind,
  plural: string,
  namespace: string,
): Promise<{ versions: JsonObject[]; stop: () => void }> => {
  const versions: JsonObject[] = [];
  const path = `/apis/${kind.apiVersion}/namespaces/${namespace}/${plural}`;
  const controller = await new Watch(kube.kubeConfig).watch(
    path,
    { allowWatchBookmarks: false },
    (_phase, object) => versions.push(JSON.parse(JSON.stringify(object)) as JsonObject),
    () => undefined,
  );
  return { versions, stop: () => controller.abort() };
};
