// Which field a hold changes on which kind of target (docs/design.md#actions-and-holds). Kinds are matched by
// API group and kind, not version: every served version of these kinds has the same fields.
import { EnforceError } from './errors.ts';
import type { HoldMethod, HoldOptions, TargetKind } from './types.ts';

export type TargetClass = 'flux-oci-repository' | 'flux-suspendable' | 'argocd-application';

/** Every kind tagguard can hold, at the version it lists them. */
export const HOLDABLE_KINDS: readonly TargetKind[] = [
  { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'OCIRepository' },
  { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'HelmChart' },
  { apiVersion: 'helm.toolkit.fluxcd.io/v2', kind: 'HelmRelease' },
  { apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization' },
  { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application' },
];

const CLASSES: Readonly<Record<string, TargetClass>> = {
  'source.toolkit.fluxcd.io/OCIRepository': 'flux-oci-repository',
  'source.toolkit.fluxcd.io/HelmChart': 'flux-suspendable',
  'helm.toolkit.fluxcd.io/HelmRelease': 'flux-suspendable',
  'kustomize.toolkit.fluxcd.io/Kustomization': 'flux-suspendable',
  'argoproj.io/Application': 'argocd-application',
};

const groupOf = (apiVersion: string): string => (apiVersion.includes('/') ? apiVersion.split('/')[0]! : '');

export const classifyTarget = (target: TargetKind): TargetClass => {
  const targetClass = CLASSES[`${groupOf(target.apiVersion)}/${target.kind}`];
  if (targetClass === undefined) {
    throw new EnforceError('UnsupportedTarget', `cannot hold a ${target.kind} (${target.apiVersion})`);
  }
  return targetClass;
};

/** A hold that keeps the target at a verified reference rather than stopping it. */
export const isPinMethod = (method: string): boolean =>
  method === 'spec.ref.digest' || method === 'spec.source.targetRevision' || isVersionPinMethod(method);

/** A pin to an exact chart version (Flux HelmRelease chart template, HelmChart): not to a digest. */
export const isVersionPinMethod = (method: string): boolean =>
  method === 'spec.chart.spec.version' || method === 'spec.version';

/**
 * The field a pin would write on this object, if it has one: an OCIRepository's digest, an Argo CD native
 * OCI source's targetRevision, a HelmRelease chart template's or a HelmChart's version.
 */
export const pinFieldOf = (kind: string, spec: unknown): HoldMethod | undefined => {
  switch (kind) {
    case 'OCIRepository':
      return 'spec.ref.digest';
    case 'Application':
      return pinnableApplication(spec) ? 'spec.source.targetRevision' : undefined;
    case 'HelmRelease': {
      const chart = (spec as { chart?: { spec?: unknown } } | null)?.chart?.spec;
      return typeof chart === 'object' && chart !== null ? 'spec.chart.spec.version' : undefined;
    }
    case 'HelmChart':
      return 'spec.version';
    default:
      return undefined;
  }
};

/**
 * Whether an Argo CD Application can be pinned: one source (`spec.source`, no `spec.sources`) that is a
 * native OCI source (`repoURL: oci://…`), whose targetRevision Argo CD accepts as a digest. The Helm-OCI
 * form (`chart:`) takes only versions, and in `spec.sources` a single item cannot be written without
 * taking over the whole list (merge patch and server-side apply both replace an atomic list).
 */
export const pinnableApplication = (spec: unknown): boolean => {
  if (typeof spec !== 'object' || spec === null) return false;
  const { source, sources } = spec as { source?: unknown; sources?: unknown };
  if (Array.isArray(sources) && sources.length > 0) return false;
  if (typeof source !== 'object' || source === null) return false;
  const { repoURL, chart } = source as { repoURL?: unknown; chart?: unknown };
  return typeof repoURL === 'string' && /^oci:\/\//i.test(repoURL) && chart === undefined;
};

export interface MethodChoice {
  readonly method: HoldMethod;
  readonly fellBackToSuspend: boolean;
}

/**
 * Pin needs a field for it (`pinField`, pinFieldOf the object) and a value: a digest for a digest field, a
 * version for a version field. Anything else is held by the target's suspend method instead.
 */
export const chooseMethod = (
  targetClass: TargetClass,
  options: HoldOptions,
  pinField?: HoldMethod,
): MethodChoice => {
  const pin = options.action === 'Pin';
  if (pin && pinField !== undefined && targetClass !== 'flux-oci-repository') {
    const value = isVersionPinMethod(pinField) ? options.pinVersion : options.pinDigest;
    if (value !== undefined) return { method: pinField, fellBackToSuspend: false };
  }
  switch (targetClass) {
    case 'flux-oci-repository':
      return pin && options.pinDigest !== undefined
        ? { method: 'spec.ref.digest', fellBackToSuspend: false }
        : { method: 'spec.suspend', fellBackToSuspend: pin };
    case 'flux-suspendable':
      return { method: 'spec.suspend', fellBackToSuspend: pin };
    case 'argocd-application':
      return {
        method: options.argocdMethod === 'SkipReconcile' ? 'skip-reconcile' : 'spec.syncPolicy.automated',
        fellBackToSuspend: pin,
      };
  }
};
