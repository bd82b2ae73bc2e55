// Typed GitOps objects in the states the hold tests need, and `afterWrite`, which applies a planned
// write the way the API server applies a JSON merge patch (an apply body that only sets fields
// behaves the same on these objects). Field-manager semantics are covered by the integration tests.
import { applyMergePatch } from '../../src/enforce/merge-patch.ts';
import type { TargetWrite } from '../../src/enforce/hold-plan.ts';
import {
  isJsonObject,
  toTargetObject,
  type JsonObject,
  type TargetObject,
} from '../../src/enforce/target-object.ts';

export const DIGEST_GOOD = `sha256:${'a'.repeat(64)}`;
export const DIGEST_NEWER = `sha256:${'b'.repeat(64)}`;
export const DIGEST_USER = `sha256:${'c'.repeat(64)}`;

interface Meta {
  readonly annotations?: Record<string, string>;
  readonly resourceVersion?: string;
}

const object = (apiVersion: string, kind: string, spec: JsonObject, meta: Meta = {}): TargetObject =>
  toTargetObject({
    apiVersion,
    kind,
    metadata: {
      name: 'payment',
      namespace: 'apps',
      resourceVersion: meta.resourceVersion ?? '100',
      ...(meta.annotations ? { annotations: meta.annotations } : {}),
    },
    spec,
  });

/** A HelmRelease; `suspend: undefined` leaves the field out. */
export const helmRelease = (suspend?: boolean, meta?: Meta): TargetObject =>
  object(
    'helm.toolkit.fluxcd.io/v2',
    'HelmRelease',
    {
      interval: '10m',
      chartRef: { kind: 'OCIRepository', name: 'payment' },
      ...(suspend === undefined ? {} : { suspend }),
    },
    meta,
  );

export const ociRepository = (ref: JsonObject | undefined, meta?: Meta, suspend?: boolean): TargetObject =>
  object(
    'source.toolkit.fluxcd.io/v1',
    'OCIRepository',
    {
      url: 'oci://registry.example.com/charts/payment',
      interval: '1m',
      ...(ref ? { ref } : {}),
      ...(suspend === undefined ? {} : { suspend }),
    },
    meta,
  );

export const AUTOMATED = { prune: true, selfHeal: true, allowEmpty: false } as const;

export const application = (automated: JsonObject | undefined, meta?: Meta): TargetObject =>
  object(
    'argoproj.io/v1alpha1',
    'Application',
    {
      project: 'default',
      source: { repoURL: 'registry.example.com/charts', chart: 'payment', targetRevision: '3.1.0' },
      destination: { server: 'https://kubernetes.default.svc', namespace: 'payment' },
      syncPolicy: { ...(automated ? { automated } : {}), syncOptions: ['CreateNamespace=true'] },
    },
    meta,
  );

/** An Argo CD Application with one native OCI source (the kind Pin can pin through targetRevision). */
export const ociApplication = (
  targetRevision: string,
  automated: JsonObject | undefined = { prune: true },
  meta?: Meta,
): TargetObject =>
  object(
    'argoproj.io/v1alpha1',
    'Application',
    {
      project: 'default',
      source: { repoURL: 'oci://registry.example.com/manifests/payment', targetRevision, path: '.' },
      destination: { server: 'https://kubernetes.default.svc', namespace: 'payment' },
      syncPolicy: { ...(automated ? { automated } : {}) },
    },
    meta,
  );

/** The object after the API server took the write; resourceVersion bumped, an empty annotations map dropped. */
export const afterWrite = (target: TargetObject, write: TargetWrite | undefined): TargetObject => {
  if (write === undefined) return target;
  const patched = applyMergePatch(target.json, write.body);
  if (!isJsonObject(patched) || !isJsonObject(patched['metadata'])) throw new Error('patch lost the object');
  const { annotations, ...metadata } = patched['metadata'];
  const keep = isJsonObject(annotations) && Object.keys(annotations).length > 0 ? { annotations } : {};
  const resourceVersion = String(Number(target.metadata.resourceVersion) + 1);
  return toTargetObject({ ...patched, metadata: { ...metadata, ...keep, resourceVersion } });
};

/** A person's (or a GitOps parent's) change: a merge patch without any precondition. */
export const edited = (target: TargetObject, patch: JsonObject): TargetObject =>
  afterWrite(target, { type: 'merge-patch', body: patch });

/** The object without what changes on every write, to compare states. */
export const stateOf = (target: TargetObject): JsonObject => {
  const { metadata, ...rest } = target.json;
  const { resourceVersion: _rv, ...meta } = metadata as JsonObject;
  return { ...rest, metadata: meta };
};
