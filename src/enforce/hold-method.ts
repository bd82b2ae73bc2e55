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

export interface MethodChoice {
  readonly method: HoldMethod;
  readonly fellBackToSuspend: boolean;
}

/** Pin needs a digest field and a digest: anything else is held by its suspend method instead. */
export const chooseMethod = (targetClass: TargetClass, options: HoldOptions): MethodChoice => {
  const pin = options.action === 'Pin';
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
