// TargetHolder over the real HoldManager and an in-memory TargetApi (tagguard's own interface): which
// targets are held or pinned by which method, what the status record and the Events say, and what is left
// recorded when a write to a target fails.
import { pino } from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ArtifactVerification, HeldTarget } from '../../src/api/artifact-verification.ts';
import { Reason } from '../../src/api/conditions.ts';
import { ReconcileError } from '../../src/controller/reconcile-error.ts';
import type { HoldEvent, ReconcileState } from '../../src/controller/reconcile-state.ts';
import { TargetHolder, type HoldChange, type PinChange } from '../../src/controller/target-holder.ts';
import { EnforceError } from '../../src/enforce/errors.ts';
import { HELD_BY_ANNOTATION, PRE_HOLD_ANNOTATION } from '../../src/enforce/hold-record.ts';
import { HoldManager } from '../../src/enforce/holds.ts';
import { valueAt, type JsonValue } from '../../src/enforce/target-object.ts';
import type { HoldOptions, TargetRef } from '../../src/enforce/types.ts';
import { memoryTargetApi, type MemoryTargetApi } from '../support/memory-target-api.ts';

const HOLDER = 'apps/payment';
const OTHER = 'flux-system/platform';
const GOOD = `sha256:${'a'.repeat(64)}`;
const NEWER = `sha256:${'b'.repeat(64)}`;
const T0 = '2026-12-04T12:00:00Z';
const T1 = '2026-12-04T13:00:00Z';

const SUSPEND: HoldOptions = { action: 'Suspend', argocdMethod: 'DisableAutoSync' };
const PIN_NOTHING_TRUSTED: HoldOptions = { action: 'Pin', argocdMethod: 'DisableAutoSync' };
const PIN_AT_GOOD: HoldOptions = { action: 'Pin', argocdMethod: 'DisableAutoSync', pinDigest: GOOD };

const FLUX_SOURCE = 'source.toolkit.fluxcd.io/v1';
const HELM = 'helm.toolkit.fluxcd.io/v2';
const KUSTOMIZE = 'kustomize.toolkit.fluxcd.io/v1';
const ARGOCD = 'argoproj.io/v1alpha1';

const ref = (apiVersion: string, kind: string, name: string, namespace = 'apps'): TargetRef => ({
  apiVersion,
  kind,
  namespace,
  name,
});

const REPOSITORY = ref(FLUX_SOURCE, 'OCIRepository', 'payment');
const RELEASE = ref(HELM, 'HelmRelease', 'payment');
const KUSTOMIZATION = ref(KUSTOMIZE, 'Kustomization', 'platform');
const HELM_APP = ref(ARGOCD, 'Application', 'payment-ui');
const OCI_APP = ref(ARGOCD, 'Application', 'manifests');
const RANGED_RELEASE = ref(HELM, 'HelmRelease', 'web');

const raw = (
  target: TargetRef,
  spec: Record<string, unknown>,
  annotations?: Record<string, string>,
): Record<string, unknown> => ({
  apiVersion: target.apiVersion,
  kind: target.kind,
  metadata: {
    name: target.name,
    namespace: target.namespace,
    resourceVersion: '1',
    ...(annotations ? { annotations } : {}),
  },
  spec,
});

/** The cluster as the tests start from: nothing held. */
const cluster = (): unknown[] => [
  raw(REPOSITORY, { url: 'oci://registry.example/charts/payment', interval: '1m', ref: { tag: '3.1.0' } }),
  raw(RELEASE, { interval: '10m', chartRef: { kind: 'OCIRepository', name: 'payment' } }),
  raw(KUSTOMIZATION, {
    interval: '10m',
    suspend: false,
    sourceRef: { kind: 'OCIRepository', name: 'payment' },
  }),
  raw(HELM_APP, {
    source: { repoURL: 'registry.example/charts', chart: 'payment', targetRevision: '3.1.0' },
    syncPolicy: { automated: { prune: true } },
  }),
  raw(OCI_APP, {
    source: { repoURL: 'oci://registry.example/manifests/payment', targetRevision: '3.1.0', path: '.' },
    syncPolicy: { automated: { prune: true } },
  }),
  raw(RANGED_RELEASE, {
    interval: '10m',
    chart: {
      spec: { chart: 'web', version: '>=1.0.0', sourceRef: { kind: 'HelmRepository', name: 'charts' } },
    },
  }),
];

const av: ArtifactVerification = {
  apiVersion: 'tagguard.dev/v1alpha1',
  kind: 'ArtifactVerification',
  metadata: { name: 'payment', namespace: 'apps' },
  spec: { sourceRef: { kind: 'OCIRepository', name: 'payment' }, action: 'Suspend' },
};

const newState = (): ReconcileState => ({
  object: av,
  now: new Date(T0),
  checks: [],
  failures: [],
  heldTargets: [],
  holdEvents: [],
});

/** A change recorded in the state as the reconciler records it; the error that stopped it part way thrown. */
const record = (into: ReconcileState, change: HoldChange | PinChange): HeldTarget[] => {
  into.heldTargets = change.held;
  into.holdEvents.push(...change.events);
  if ('unpinnable' in change) into.unpinnable = change.unpinnable;
  if (change.error) throw change.error;
  return change.held;
};

/** TargetHolder with each change recorded in a ReconcileState, so a test reads the record and the Events. */
const recording = (inner: TargetHolder) => ({
  holdAll: async (
    holderKey: string,
    targets: readonly TargetRef[],
    current: readonly HeldTarget[],
    options: Omit<HoldOptions, 'expectHeld'>,
    into: ReconcileState,
  ): Promise<HeldTarget[]> => record(into, await inner.holdAll(holderKey, targets, current, options)),
  pinTrusted: async (
    holderKey: string,
    targets: readonly TargetRef[],
    current: readonly HeldTarget[],
    trusted: { readonly digest: string; readonly version?: string | undefined },
    into: ReconcileState,
  ): Promise<HeldTarget[]> => record(into, await inner.pinTrusted(holderKey, targets, current, trusted)),
  releaseStale: async (
    holderKey: string,
    current: readonly HeldTarget[],
    keep: readonly TargetRef[],
    into: ReconcileState,
  ): Promise<HeldTarget[]> => record(into, await inner.releaseStale(holderKey, current, keep)),
  recover: (...args: Parameters<TargetHolder['recover']>) => inner.recover(...args),
  releaseAll: (...args: Parameters<TargetHolder['releaseAll']>) => inner.releaseAll(...args),
});
type RecordingHolder = ReturnType<typeof recording>;

let api: MemoryTargetApi;
let clock: Date;
let holder: RecordingHolder;
let state: ReconcileState;

const setUp = (objects: unknown[] = cluster()): void => {
  api = memoryTargetApi(objects);
  clock = new Date(`${T0.slice(0, -1)}.123Z`);
  const holds = new HoldManager(api, pino({ level: 'silent' }), 'tagguard', {
    backoff: () => Promise.resolve(),
  });
  holder = recording(new TargetHolder(holds, () => clock));
  state = newState();
};

beforeEach(() => setUp());

const field = (target: TargetRef, path: string): JsonValue | undefined => {
  const object = api.object(target);
  if (!object) throw new Error(`${target.kind} ${target.name} is gone`);
  return valueAt(object.json, path.split('.'));
};
const heldBy = (target: TargetRef): string | undefined =>
  api.object(target)?.metadata.annotations[HELD_BY_ANNOTATION];
const preHold = (target: TargetRef): string | undefined =>
  api.object(target)?.metadata.annotations[PRE_HOLD_ANNOTATION];
const held = (target: TargetRef, method: string, since = T0): HeldTarget => ({ ...target, method, since });
const events = (): { kind: HoldEvent['kind']; name: string; message: string }[] =>
  state.holdEvents.map((e) => ({ kind: e.kind, name: e.target.name, message: e.message }));
const written = (): string[] => api.writes.map((w) => w.target);

const failure = async (promise: Promise<unknown>): Promise<ReconcileError> => {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ReconcileError);
  return error as ReconcileError;
};

describe('holdAll with Suspend', () => {
  it('holds every target by its kind’s method, records each with the time it began, one Held Event each', async () => {
    const result = await holder.holdAll(
      HOLDER,
      [REPOSITORY, RELEASE, KUSTOMIZATION, HELM_APP],
      [],
      SUSPEND,
      state,
    );

    expect(result).toEqual([
      held(REPOSITORY, 'spec.suspend'),
      held(RELEASE, 'spec.suspend'),
      held(KUSTOMIZATION, 'spec.suspend'),
      held(HELM_APP, 'spec.syncPolicy.automated'),
    ]);
    expect(state.heldTargets).toEqual(result);
    expect(field(REPOSITORY, 'spec.suspend')).toBe(true);
    expect(field(RELEASE, 'spec.suspend')).toBe(true);
    expect(field(KUSTOMIZATION, 'spec.suspend')).toBe(true);
    expect(field(HELM_APP, 'spec.syncPolicy')).toEqual({});
    for (const t of [REPOSITORY, RELEASE, KUSTOMIZATION, HELM_APP]) expect(heldBy(t)).toBe(HOLDER);
    expect(preHold(KUSTOMIZATION)).toBe('{"spec.suspend":false}');
    expect(events()).toEqual([
      { kind: 'Held', name: 'payment', message: 'held OCIRepository apps/payment: spec.suspend: true' },
      { kind: 'Held', name: 'payment', message: 'held HelmRelease apps/payment: spec.suspend: true' },
      { kind: 'Held', name: 'platform', message: 'held Kustomization apps/platform: spec.suspend: true' },
      {
        kind: 'Held',
        name: 'payment-ui',
        message: 'held Application apps/payment-ui: automated sync disabled',
      },
    ]);
  });

  it('with argocdMethod SkipReconcile holds an Application by the skip-reconcile annotation', async () => {
    const result = await holder.holdAll(
      HOLDER,
      [HELM_APP],
      [],
      { action: 'Suspend', argocdMethod: 'SkipReconcile' },
      state,
    );
    expect(result).toEqual([held(HELM_APP, 'skip-reconcile')]);
    expect(api.object(HELM_APP)?.metadata.annotations['argocd.argoproj.io/skip-reconcile']).toBe('true');
    expect(field(HELM_APP, 'spec.syncPolicy.automated')).toEqual({ prune: true });
    expect(events()).toEqual([
      {
        kind: 'Held',
        name: 'payment-ui',
        message: 'held Application apps/payment-ui: argocd.argoproj.io/skip-reconcile: "true"',
      },
    ]);
  });

  it('a second reconcile with the record writes nothing, emits nothing and keeps the time the hold began', async () => {
    const first = await holder.holdAll(HOLDER, [REPOSITORY, RELEASE], [], SUSPEND, state);
    const writes = api.writes.length;
    state = newState();
    clock = new Date(T1);

    const second = await holder.holdAll(HOLDER, [REPOSITORY, RELEASE], first, SUSPEND, state);

    expect(second).toEqual(first);
    expect(api.writes).toHaveLength(writes);
    expect(state.holdEvents).toEqual([]);
  });

  it('a hold undone by someone (field and annotations) is re-applied and reported HoldReverted, not Held', async () => {
    const first = await holder.holdAll(HOLDER, [RELEASE], [], SUSPEND, state);
    const object = api.object(RELEASE);
    await api.mergePatch(
      {
        apiVersion: HELM,
        kind: 'HelmRelease',
        metadata: {
          name: 'payment',
          namespace: 'apps',
          resourceVersion: object?.metadata.resourceVersion ?? '',
          annotations: { [HELD_BY_ANNOTATION]: null, [PRE_HOLD_ANNOTATION]: null },
        },
        spec: { suspend: false },
      },
      'kubectl',
    );
    state = newState();
    clock = new Date(T1);

    const result = await holder.holdAll(HOLDER, [RELEASE], first, SUSPEND, state);

    expect(result).toEqual([held(RELEASE, 'spec.suspend', T0)]);
    expect(field(RELEASE, 'spec.suspend')).toBe(true);
    expect(heldBy(RELEASE)).toBe(HOLDER);
    expect(events()).toEqual([
      {
        kind: 'HoldReverted',
        name: 'payment',
        message:
          'hold on HelmRelease apps/payment was undone while trust is failing; re-applied (spec.suspend: true)',
      },
    ]);
  });

  it('a target already held by another ArtifactVerification gets this holder added, and a Held Event', async () => {
    await holder.holdAll(OTHER, [RELEASE], [], SUSPEND, newState());
    const result = await holder.holdAll(HOLDER, [RELEASE], [], SUSPEND, state);
    expect(result).toEqual([held(RELEASE, 'spec.suspend')]);
    expect(heldBy(RELEASE)).toBe(`${HOLDER},${OTHER}`);
    expect(events().map((e) => e.kind)).toEqual(['Held']);
  });

  it('releases a recorded hold on a target that is no longer among the targets', async () => {
    const first = await holder.holdAll(HOLDER, [REPOSITORY, KUSTOMIZATION], [], SUSPEND, state);
    state = newState();

    const result = await holder.holdAll(HOLDER, [REPOSITORY], first, SUSPEND, state);

    expect(result).toEqual([held(REPOSITORY, 'spec.suspend')]);
    expect(field(KUSTOMIZATION, 'spec.suspend')).toBe(false);
    expect(heldBy(KUSTOMIZATION)).toBeUndefined();
    expect(events()).toEqual([
      {
        kind: 'Released',
        name: 'platform',
        message: 'released Kustomization apps/platform: restored to its state before the hold',
      },
    ]);
  });
});

describe('holdAll with Pin', () => {
  it('with a trusted digest and an OCIRepository among the targets pins only the OCIRepository', async () => {
    const result = await holder.holdAll(HOLDER, [REPOSITORY, RELEASE], [], PIN_AT_GOOD, state);

    expect(result).toEqual([held(REPOSITORY, 'spec.ref.digest')]);
    expect(state.heldTargets).toEqual(result);
    expect(field(REPOSITORY, 'spec.ref.digest')).toBe(GOOD);
    expect(field(REPOSITORY, 'spec.suspend')).toBeUndefined();
    expect(written()).toEqual(['OCIRepository apps/payment']);
    expect(events()).toEqual([
      { kind: 'Held', name: 'payment', message: 'held OCIRepository apps/payment: spec.ref.digest pinned' },
    ]);
  });

  it('moving from Suspend to Pin releases the suspended consumer and pins the OCIRepository', async () => {
    const first = await holder.holdAll(HOLDER, [REPOSITORY, RELEASE], [], SUSPEND, state);
    state = newState();
    clock = new Date(T1);

    const result = await holder.holdAll(HOLDER, [REPOSITORY, RELEASE], first, PIN_AT_GOOD, state);

    expect(result).toEqual([held(REPOSITORY, 'spec.ref.digest', T0)]);
    expect(field(RELEASE, 'spec.suspend')).toBeUndefined();
    expect(heldBy(RELEASE)).toBeUndefined();
    expect(field(REPOSITORY, 'spec.ref.digest')).toBe(GOOD);
    expect(events().map((e) => `${e.kind} ${e.name}`)).toEqual(['Released payment', 'Held payment']);
    expect(events()[0]?.message).toBe(
      'released HelmRelease apps/payment: restored to its state before the hold',
    );
  });

  it('without a trusted digest holds every target by Suspend, with a PinFallback Event for each', async () => {
    const result = await holder.holdAll(
      HOLDER,
      [REPOSITORY, RELEASE, HELM_APP],
      [],
      PIN_NOTHING_TRUSTED,
      state,
    );

    expect(result).toEqual([
      held(REPOSITORY, 'spec.suspend'),
      held(RELEASE, 'spec.suspend'),
      held(HELM_APP, 'spec.syncPolicy.automated'),
    ]);
    expect(field(REPOSITORY, 'spec.suspend')).toBe(true);
    expect(field(REPOSITORY, 'spec.ref')).toEqual({ tag: '3.1.0' });
    expect(events()).toEqual([
      { kind: 'Held', name: 'payment', message: 'held OCIRepository apps/payment: spec.suspend: true' },
      {
        kind: 'PinFallback',
        name: 'payment',
        message:
          'OCIRepository apps/payment has no digest field (or no trusted digest yet): Pin falls back to Suspend',
      },
      { kind: 'Held', name: 'payment', message: 'held HelmRelease apps/payment: spec.suspend: true' },
      {
        kind: 'PinFallback',
        name: 'payment',
        message:
          'HelmRelease apps/payment has no digest field (or no trusted digest yet): Pin falls back to Suspend',
      },
      {
        kind: 'Held',
        name: 'payment-ui',
        message: 'held Application apps/payment-ui: automated sync disabled',
      },
      {
        kind: 'PinFallback',
        name: 'payment-ui',
        message:
          'Application apps/payment-ui has no digest field (or no trusted digest yet): Pin falls back to Suspend',
      },
    ]);
  });

  it('with a trusted digest but no OCIRepository, consumers without a pin field fall back to Suspend', async () => {
    const result = await holder.holdAll(HOLDER, [RELEASE, OCI_APP], [], PIN_AT_GOOD, state);

    expect(result).toEqual([held(RELEASE, 'spec.suspend'), held(OCI_APP, 'spec.source.targetRevision')]);
    expect(field(OCI_APP, 'spec.source.targetRevision')).toBe(GOOD);
    expect(field(OCI_APP, 'spec.syncPolicy.automated')).toEqual({ prune: true });
    expect(events().map((e) => `${e.kind} ${e.name}`)).toEqual([
      'Held payment',
      'PinFallback payment',
      'Held manifests',
    ]);
  });

  it('a PinFallback is reported once: an unchanged fallback hold emits nothing the next time', async () => {
    const first = await holder.holdAll(HOLDER, [RELEASE], [], PIN_NOTHING_TRUSTED, state);
    state = newState();
    await holder.holdAll(HOLDER, [RELEASE], first, PIN_NOTHING_TRUSTED, state);
    expect(state.holdEvents).toEqual([]);
  });
});

describe('holdAll when a target write fails', () => {
  it('a new target: the error is HoldFailed with the cause’s code, and the target is recorded anyway', async () => {
    api.failWrites.add('HelmRelease apps/payment');

    const error = await failure(
      holder.holdAll(HOLDER, [REPOSITORY, RELEASE, KUSTOMIZATION], [], SUSPEND, state),
    );

    expect(error.code).toBe('Generic');
    expect(error.reason).toBe(Reason.HoldFailed);
    expect(error.message).toBe(
      'could not hold HelmRelease apps/payment: writing HelmRelease apps/payment: HTTP 500',
    );
    expect(error.cause).toBeInstanceOf(EnforceError);
    expect((error.cause as EnforceError).code).toBe('ApiError');
    // Held before the failure, and the one that failed (it may carry the hold): both in the record.
    expect(state.heldTargets).toEqual([held(REPOSITORY, 'spec.suspend'), held(RELEASE, 'spec.suspend')]);
    // Nothing after the failure was touched.
    expect(written()).toEqual(['OCIRepository apps/payment']);
    expect(heldBy(KUSTOMIZATION)).toBeUndefined();
    expect(events().map((e) => `${e.kind} ${e.name}`)).toEqual(['Held payment']);
  });

  it('a target already recorded keeps its record once, with the time its hold began', async () => {
    const first = await holder.holdAll(HOLDER, [RELEASE], [], SUSPEND, state);
    await api.mergePatch(
      {
        apiVersion: HELM,
        kind: 'HelmRelease',
        metadata: { name: 'payment', namespace: 'apps', resourceVersion: '2' },
        spec: { suspend: false },
      },
      'kubectl',
    );
    api.failWrites.add('HelmRelease apps/payment');
    state = newState();
    state.heldTargets = first;
    clock = new Date(T1);

    const error = await failure(holder.holdAll(HOLDER, [RELEASE], first, SUSPEND, state));

    expect(error.reason).toBe(Reason.HoldFailed);
    expect(state.heldTargets).toEqual([held(RELEASE, 'spec.suspend', T0)]);
    expect(state.holdEvents).toEqual([]);
  });

  it('a target deleted since it was found fails with the cause TargetNotFound', async () => {
    const gone = ref(HELM, 'HelmRelease', 'deleted');
    const error = await failure(holder.holdAll(HOLDER, [gone], [], SUSPEND, state));
    expect(error.reason).toBe(Reason.HoldFailed);
    expect((error.cause as EnforceError).code).toBe('TargetNotFound');
    expect(state.heldTargets).toEqual([held(gone, 'spec.suspend')]);
  });

  it('a target of a kind tagguard cannot hold fails with the cause UnsupportedTarget', async () => {
    const deployment = ref('apps/v1', 'Deployment', 'payment');
    setUp([...cluster(), raw(deployment, { replicas: 1 })]);
    const error = await failure(holder.holdAll(HOLDER, [deployment], [], SUSPEND, state));
    expect((error.cause as EnforceError).code).toBe('UnsupportedTarget');
    expect(api.writes).toEqual([]);
  });
});

describe('pinTrusted', () => {
  const TRUSTED = { digest: GOOD, version: '1.4.2' };

  it('with an OCIRepository pins only it (its suspend lifted in the same write), then releases the others', async () => {
    const current = await holder.holdAll(HOLDER, [REPOSITORY, RELEASE], [], SUSPEND, newState());
    clock = new Date(T1);
    const before = api.writes.length;

    const result = await holder.pinTrusted(
      HOLDER,
      [REPOSITORY, { ...RELEASE, pin: 'version' }],
      current,
      TRUSTED,
      state,
    );

    expect(result).toEqual([held(REPOSITORY, 'spec.ref.digest', T1)]);
    expect(state.heldTargets).toEqual(result);
    expect(state.unpinnable).toEqual([]);
    expect(field(REPOSITORY, 'spec.ref.digest')).toBe(GOOD);
    // The suspend hold is lifted: the recorded pre-hold state (no spec.suspend) is back.
    expect(field(REPOSITORY, 'spec.suspend')).toBeUndefined();
    expect(field(RELEASE, 'spec.suspend')).toBeUndefined();
    expect(heldBy(RELEASE)).toBeUndefined();
    // One write takes the OCIRepository from suspended to pinned (never following the tag in between), and
    // the consumer resumes only after its source is pinned.
    expect(written().slice(before)).toEqual(['OCIRepository apps/payment', 'HelmRelease apps/payment']);
    expect(events()).toEqual([
      {
        kind: 'Pinned',
        name: 'payment',
        message: `pinned OCIRepository apps/payment to the verified digest ${GOOD}, its suspend lifted in the same write`,
      },
      {
        kind: 'Released',
        name: 'payment',
        message: 'released HelmRelease apps/payment: restored to its state before the hold',
      },
    ]);
  });

  it('without an OCIRepository pins by digest and by version where the sources say, lists the rest unpinnable', async () => {
    const result = await holder.pinTrusted(
      HOLDER,
      [{ ...OCI_APP, pin: 'digest' }, { ...RANGED_RELEASE, pin: 'version' }, KUSTOMIZATION],
      [],
      TRUSTED,
      state,
    );

    expect(result).toEqual([
      held(OCI_APP, 'spec.source.targetRevision'),
      held(RANGED_RELEASE, 'spec.chart.spec.version'),
    ]);
    expect(field(OCI_APP, 'spec.source.targetRevision')).toBe(GOOD);
    expect(field(RANGED_RELEASE, 'spec.chart.spec.version')).toBe('1.4.2');
    expect(field(KUSTOMIZATION, 'spec.suspend')).toBe(false);
    expect(heldBy(KUSTOMIZATION)).toBeUndefined();
    // A version pin does not protect against a re-push of the same version: it is unpinnable too.
    expect(state.unpinnable).toEqual([RANGED_RELEASE, KUSTOMIZATION]);
    expect(events()).toEqual([
      {
        kind: 'Pinned',
        name: 'manifests',
        message: `pinned Application apps/manifests to the verified digest ${GOOD}`,
      },
      { kind: 'Pinned', name: 'web', message: 'pinned HelmRelease apps/web to the verified version 1.4.2' },
    ]);
  });

  it('a version pin without a trusted version is not attempted', async () => {
    const result = await holder.pinTrusted(
      HOLDER,
      [{ ...RANGED_RELEASE, pin: 'version' }],
      [],
      { digest: GOOD },
      state,
    );
    expect(result).toEqual([]);
    expect(api.writes).toEqual([]);
    expect(state.unpinnable).toEqual([RANGED_RELEASE]);
    expect(state.holdEvents).toEqual([]);
  });

  it('a target the sources hinted digest but that has no pin field is left alone and listed unpinnable', async () => {
    const result = await holder.pinTrusted(HOLDER, [{ ...HELM_APP, pin: 'digest' }], [], TRUSTED, state);
    expect(result).toEqual([]);
    expect(api.writes).toEqual([]);
    expect(field(HELM_APP, 'spec.syncPolicy.automated')).toEqual({ prune: true });
    expect(state.unpinnable).toEqual([HELM_APP]);
    expect(state.holdEvents).toEqual([]);
  });

  it('moves the pin to a newer trusted digest (Pinned again, same since) and does nothing when unchanged', async () => {
    const first = await holder.pinTrusted(HOLDER, [REPOSITORY], [], { digest: GOOD }, newState());
    clock = new Date(T1);

    const moved = await holder.pinTrusted(HOLDER, [REPOSITORY], first, { digest: NEWER }, state);

    expect(moved).toEqual([held(REPOSITORY, 'spec.ref.digest', T0)]);
    expect(field(REPOSITORY, 'spec.ref.digest')).toBe(NEWER);
    expect(events()).toEqual([
      {
        kind: 'Pinned',
        name: 'payment',
        message: `pinned OCIRepository apps/payment to the verified digest ${NEWER}`,
      },
    ]);

    const writes = api.writes.length;
    state = newState();
    expect(await holder.pinTrusted(HOLDER, [REPOSITORY], moved, { digest: NEWER }, state)).toEqual(moved);
    expect(api.writes).toHaveLength(writes);
    expect(state.holdEvents).toEqual([]);
  });

  it('a pin on a target that is no longer a candidate is released', async () => {
    const first = await holder.pinTrusted(HOLDER, [{ ...OCI_APP, pin: 'digest' }], [], TRUSTED, newState());

    const result = await holder.pinTrusted(HOLDER, [REPOSITORY], first, TRUSTED, state);

    expect(result).toEqual([held(REPOSITORY, 'spec.ref.digest')]);
    expect(field(OCI_APP, 'spec.source.targetRevision')).toBe('3.1.0');
    expect(heldBy(OCI_APP)).toBeUndefined();
    expect(events().map((e) => `${e.kind} ${e.name}`)).toEqual(['Released manifests', 'Pinned payment']);
  });

  it('a failed pin write is HoldFailed with the cause’s code', async () => {
    api.failWrites.add('OCIRepository apps/payment');
    const error = await failure(holder.pinTrusted(HOLDER, [REPOSITORY], [], TRUSTED, state));
    expect(error.code).toBe('Generic');
    expect(error.reason).toBe(Reason.HoldFailed);
    expect(error.message).toBe(
      'could not hold OCIRepository apps/payment: writing OCIRepository apps/payment: HTTP 500',
    );
    expect((error.cause as EnforceError).code).toBe('ApiError');
    expect(state.holdEvents).toEqual([]);
  });
});

describe('recover', () => {
  const heldObject = (target: TargetRef, holders: string, spec: Record<string, unknown>): unknown =>
    raw(target, spec, {
      [HELD_BY_ANNOTATION]: holders,
      [PRE_HOLD_ANNOTATION]: '{"spec.suspend":null}',
    });

  it('adds holds of this holder the record lacks, in the kinds and namespaces of the targets only', async () => {
    const elsewhere = ref(HELM, 'HelmRelease', 'payment', 'other');
    const otherKind = ref(KUSTOMIZE, 'Kustomization', 'platform');
    const othersHold = ref(HELM, 'HelmRelease', 'billing');
    setUp([
      heldObject(REPOSITORY, HOLDER, { url: 'oci://registry.example/charts/payment', suspend: true }),
      heldObject(RELEASE, HOLDER, { suspend: true }),
      heldObject(othersHold, OTHER, { suspend: true }),
      heldObject(elsewhere, HOLDER, { suspend: true }),
      heldObject(otherKind, HOLDER, { suspend: true }),
    ]);
    const recorded = held(RELEASE, 'spec.suspend', '2026-12-01T00:00:00Z');

    const result = await holder.recover(HOLDER, [REPOSITORY, RELEASE], [recorded], SUSPEND);

    expect(result).toEqual([recorded, held(REPOSITORY, 'spec.suspend')]);
    expect(api.writes).toEqual([]);
  });

  it('records a found OCIRepository with the method the action would use (Pin with a digest: the pin)', async () => {
    setUp([heldObject(REPOSITORY, `${HOLDER},${OTHER}`, { url: 'oci://registry.example/charts/payment' })]);
    expect(await holder.recover(HOLDER, [REPOSITORY], [], PIN_AT_GOOD)).toEqual([
      held(REPOSITORY, 'spec.ref.digest'),
    ]);
  });

  it('finds nothing when no target names this holder', async () => {
    expect(await holder.recover(HOLDER, [REPOSITORY, RELEASE], [], SUSPEND)).toEqual([]);
  });
});

describe('releaseStale', () => {
  it('releases what is not kept (restoring it), keeps the rest, one Released Event each', async () => {
    const current = await holder.holdAll(
      HOLDER,
      [REPOSITORY, RELEASE, KUSTOMIZATION],
      [],
      SUSPEND,
      newState(),
    );

    const result = await holder.releaseStale(HOLDER, current, [RELEASE], state);

    expect(result).toEqual([held(RELEASE, 'spec.suspend')]);
    expect(field(RELEASE, 'spec.suspend')).toBe(true);
    expect(field(REPOSITORY, 'spec.suspend')).toBeUndefined();
    expect(field(KUSTOMIZATION, 'spec.suspend')).toBe(false);
    expect(events()).toEqual([
      {
        kind: 'Released',
        name: 'payment',
        message: 'released OCIRepository apps/payment: restored to its state before the hold',
      },
      {
        kind: 'Released',
        name: 'platform',
        message: 'released Kustomization apps/platform: restored to its state before the hold',
      },
    ]);
  });

  it('a target another ArtifactVerification still holds stays held; the Event names the other holder', async () => {
    await holder.holdAll(OTHER, [RELEASE], [], SUSPEND, newState());
    const current = await holder.holdAll(HOLDER, [RELEASE], [], SUSPEND, newState());

    expect(await holder.releaseStale(HOLDER, current, [], state)).toEqual([]);

    expect(field(RELEASE, 'spec.suspend')).toBe(true);
    expect(heldBy(RELEASE)).toBe(OTHER);
    expect(events()).toEqual([
      {
        kind: 'Released',
        name: 'payment',
        message: `released HelmRelease apps/payment by this ArtifactVerification; still held by ${OTHER}`,
      },
    ]);
  });

  it('a target deleted meanwhile is dropped from the record', async () => {
    const gone = held(ref(HELM, 'HelmRelease', 'deleted'), 'spec.suspend');
    expect(await holder.releaseStale(HOLDER, [gone], [], state)).toEqual([]);
    expect(events().map((e) => `${e.kind} ${e.name}`)).toEqual(['Released deleted']);
  });

  it('a failed release is HoldFailed; it and everything after it stay recorded', async () => {
    const current = await holder.holdAll(
      HOLDER,
      [REPOSITORY, RELEASE, KUSTOMIZATION],
      [],
      SUSPEND,
      newState(),
    );
    api.failWrites.add('HelmRelease apps/payment');

    const error = await failure(holder.releaseStale(HOLDER, current, [], state));

    expect(error.code).toBe('Generic');
    expect(error.reason).toBe(Reason.HoldFailed);
    expect(error.message).toBe(
      'could not release HelmRelease apps/payment: writing HelmRelease apps/payment: HTTP 500',
    );
    expect((error.cause as EnforceError).code).toBe('ApiError');
    expect(state.heldTargets).toEqual([held(RELEASE, 'spec.suspend'), held(KUSTOMIZATION, 'spec.suspend')]);
    expect(field(REPOSITORY, 'spec.suspend')).toBeUndefined();
    expect(field(KUSTOMIZATION, 'spec.suspend')).toBe(true);
    expect(events()).toEqual([
      {
        kind: 'Released',
        name: 'payment',
        message: 'released OCIRepository apps/payment: restored to its state before the hold',
      },
    ]);
  });

  it('a hold whose pre-hold record was lost is not guessed at: HoldFailed with the cause InvalidHoldRecord', async () => {
    setUp([raw(RELEASE, { suspend: true }, { [HELD_BY_ANNOTATION]: HOLDER })]);
    const error = await failure(holder.releaseStale(HOLDER, [held(RELEASE, 'spec.suspend')], [], state));
    expect((error.cause as EnforceError).code).toBe('InvalidHoldRecord');
    expect(field(RELEASE, 'spec.suspend')).toBe(true);
    expect(state.heldTargets).toEqual([held(RELEASE, 'spec.suspend')]);
  });
});

describe('releaseAll (the CR is deleted)', () => {
  it('releases what the status lists and whatever else names the holder in any namespace', async () => {
    const elsewhere = ref(KUSTOMIZE, 'Kustomization', 'platform', 'other');
    setUp([...cluster(), raw(elsewhere, { interval: '10m' })]);
    const recorded = await holder.holdAll(HOLDER, [REPOSITORY], [], SUSPEND, newState());
    await holder.holdAll(HOLDER, [elsewhere], [], SUSPEND, newState());
    await holder.holdAll(OTHER, [RELEASE], [], SUSPEND, newState());

    const released = await holder.releaseAll(HOLDER, recorded);

    expect(released).toEqual([REPOSITORY, elsewhere]);
    expect(heldBy(REPOSITORY)).toBeUndefined();
    expect(field(REPOSITORY, 'spec.suspend')).toBeUndefined();
    expect(heldBy(elsewhere)).toBeUndefined();
    expect(field(elsewhere, 'spec.suspend')).toBeUndefined();
    // Another holder's hold is not touched.
    expect(heldBy(RELEASE)).toBe(OTHER);
    expect(field(RELEASE, 'spec.suspend')).toBe(true);
  });

  it('a recorded target that is gone is listed and skipped', async () => {
    const gone = held(ref(HELM, 'HelmRelease', 'deleted'), 'spec.suspend');
    expect(await holder.releaseAll(HOLDER, [gone])).toEqual([ref(HELM, 'HelmRelease', 'deleted')]);
    expect(api.writes).toEqual([]);
  });

  it('a failed release rejects with the enforce error (its code), not a ReconcileError', async () => {
    const recorded = await holder.holdAll(HOLDER, [REPOSITORY], [], SUSPEND, newState());
    api.failWrites.add('OCIRepository apps/payment');
    const error: unknown = await holder.releaseAll(HOLDER, recorded).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EnforceError);
    expect((error as EnforceError).code).toBe('ApiError');
    expect(heldBy(REPOSITORY)).toBe(HOLDER);
  });
});
