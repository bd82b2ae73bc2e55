// Typed builders of the summary builders' input: a ReconcileState and its checks, as the reconciler
// records them.
import type { ArtifactVerification, HeldTarget } from '../../../src/api/artifact-verification.ts';
import type { ArtifactCheck, ReconcileState } from '../../../src/controller/reconcile-state.ts';

export const d = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`;
export const now = new Date('2026-11-23T10:00:00.000Z');

export const object = (status?: ArtifactVerification['status']): ArtifactVerification => ({
  apiVersion: 'tagguard.dev/v1alpha1',
  kind: 'ArtifactVerification',
  metadata: { name: 'payment', namespace: 'apps', generation: 3, uid: 'u1' },
  spec: { sourceRef: { kind: 'OCIRepository', name: 'payment' } },
  ...(status ? { status } : {}),
});

export const check = (overrides: Partial<ArtifactCheck>): ArtifactCheck => ({
  url: 'oci://registry.test/charts/payment',
  tag: '3.1.0',
  digest: d(2),
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  resolvedAt: '2026-11-23T10:00:00Z',
  previousDigest: undefined,
  moved: false,
  firstSeen: true,
  approved: false,
  ...overrides,
});

export const state = (partial: Partial<ReconcileState>): ReconcileState => ({
  object: object(),
  now,
  checks: [],
  failures: [],
  heldTargets: [],
  holdEvents: [],
  ...partial,
});

export const heldTarget = (method: HeldTarget['method'], name = 'payment'): HeldTarget => ({
  apiVersion: 'source.toolkit.fluxcd.io/v1',
  kind: 'OCIRepository',
  namespace: 'apps',
  name,
  method,
  since: '2026-11-23T09:00:00Z',
});
