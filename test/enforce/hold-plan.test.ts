import { describe, expect, it } from 'vitest';
import { planHold, type HoldPlan } from '../../src/enforce/hold-plan.ts';
import {
  ARGOCD_SKIP_RECONCILE_ANNOTATION,
  HELD_BY_ANNOTATION,
  PRE_HOLD_ANNOTATION,
} from '../../src/enforce/hold-record.ts';
import { valueAt, type JsonValue, type TargetObject } from '../../src/enforce/target-object.ts';
import type { HoldOptions } from '../../src/enforce/types.ts';
import {
  AUTOMATED,
  DIGEST_GOOD,
  DIGEST_NEWER,
  DIGEST_USER,
  afterWrite,
  application,
  edited,
  helmRelease,
  ociApplication,
  ociRepository,
} from './fixtures.ts';
import { planRelease } from '../../src/enforce/release-plan.ts';

const SUSPEND: HoldOptions = { action: 'Suspend', argocdMethod: 'DisableAutoSync' };
const SKIP: HoldOptions = { action: 'Suspend', argocdMethod: 'SkipReconcile' };
const pin = (digest?: string): HoldOptions => ({
  action: 'Pin',
  argocdMethod: 'DisableAutoSync',
  ...(digest ? { pinDigest: digest } : {}),
});

const A = 'apps/payment';
const B = 'flux-system/platform';

const written = (plan: HoldPlan, path: readonly string[]): JsonValue | undefined => {
  if (!plan.write) throw new Error('expected a write');
  return valueAt(plan.write.body, path);
};
const annotation = (target: TargetObject, name: string): string | undefined =>
  target.metadata.annotations[name];
const preHoldOf = (target: TargetObject): unknown =>
  JSON.parse(annotation(target, PRE_HOLD_ANNOTATION) ?? 'null');

/** Holds and returns the plan and the object the API server would then have. */
const hold = (target: TargetObject, holder: string, options: HoldOptions) => {
  const plan = planHold(target, holder, options);
  return { plan, after: afterWrite(target, plan.write) };
};

describe('a first hold', () => {
  it.each([
    ['without spec.suspend', undefined, null],
    ['with spec.suspend: false', false, false],
    ['already suspended by someone else', true, true],
  ])('of a HelmRelease %s suspends it and records the old value', (_what, suspend, recorded) => {
    const { plan, after } = hold(helmRelease(suspend), A, SUSPEND);
    expect(plan).toMatchObject({ method: 'spec.suspend', reverted: false, fellBackToSuspend: false });
    expect(plan.write?.type).toBe('apply');
    expect(written(plan, ['metadata', 'resourceVersion'])).toBe('100');
    expect(valueAt(after.json, ['spec', 'suspend'])).toBe(true);
    expect(annotation(after, HELD_BY_ANNOTATION)).toBe(A);
    expect(preHoldOf(after)).toEqual({ 'spec.suspend': recorded });
  });

  it('writes the hold and both annotations in the same request', () => {
    const plan = planHold(helmRelease(false), A, SUSPEND);
    expect(written(plan, ['spec', 'suspend'])).toBe(true);
    expect(written(plan, ['metadata', 'annotations', HELD_BY_ANNOTATION])).toBe(A);
    expect(written(plan, ['metadata', 'annotations', PRE_HOLD_ANNOTATION])).toBe('{"spec.suspend":false}');
  });

  it('of an Application with automated sync removes spec.syncPolicy.automated by merge patch, keeping it', () => {
    const { plan, after } = hold(application(AUTOMATED), A, SUSPEND);
    expect(plan.method).toBe('spec.syncPolicy.automated');
    expect(plan.write?.type).toBe('merge-patch');
    expect(written(plan, ['spec', 'syncPolicy', 'automated'])).toBeNull();
    expect(valueAt(after.json, ['spec', 'syncPolicy'])).toEqual({ syncOptions: ['CreateNamespace=true'] });
    expect(preHoldOf(after)).toEqual({ 'spec.syncPolicy.automated': AUTOMATED });
  });

  it('of an Application without automated sync only records that it had none', () => {
    const { plan, after } = hold(application(undefined), A, SUSPEND);
    expect(plan.write?.type).toBe('apply');
    expect(preHoldOf(after)).toEqual({ 'spec.syncPolicy.automated': null });
  });

  it.each([
    ['without the annotation', undefined, null],
    ['with skip-reconcile "false"', 'false', 'false'],
  ])('of an Application by SkipReconcile %s sets the annotation to "true"', (_what, before, recorded) => {
    const meta = before === undefined ? {} : { annotations: { [ARGOCD_SKIP_RECONCILE_ANNOTATION]: before } };
    const { plan, after } = hold(application(AUTOMATED, meta), A, SKIP);
    expect(plan).toMatchObject({ method: 'skip-reconcile', write: { type: 'apply' } });
    expect(annotation(after, ARGOCD_SKIP_RECONCILE_ANNOTATION)).toBe('true');
    expect(valueAt(after.json, ['spec', 'syncPolicy', 'automated'])).toEqual(AUTOMATED);
    expect(preHoldOf(after)).toEqual({ 'metadata.annotations.argocd.argoproj.io/skip-reconcile': recorded });
  });
});

describe('Pin', () => {
  it('adds spec.ref.digest to an OCIRepository and keeps its tag', () => {
    const { plan, after } = hold(ociRepository({ tag: '3.1.0' }), A, pin(DIGEST_GOOD));
    expect(plan).toMatchObject({
      method: 'spec.ref.digest',
      fellBackToSuspend: false,
      write: { type: 'apply' },
    });
    expect(valueAt(after.json, ['spec', 'ref'])).toEqual({ tag: '3.1.0', digest: DIGEST_GOOD });
    expect(valueAt(after.json, ['spec', 'suspend'])).toBeUndefined();
    expect(preHoldOf(after)).toEqual({ 'spec.ref.digest': null });
  });

  it('records a whole absent spec.ref so release can remove it again', () => {
    const { after } = hold(ociRepository(undefined), A, pin(DIGEST_GOOD));
    expect(valueAt(after.json, ['spec', 'ref'])).toEqual({ digest: DIGEST_GOOD });
    expect(preHoldOf(after)).toEqual({ 'spec.ref': null });
  });

  it('moves to a newly verified digest without touching pre-hold and without calling it a revert', () => {
    const first = hold(ociRepository({ tag: '3.1.0' }), A, pin(DIGEST_GOOD)).after;
    const { plan, after } = hold(first, A, pin(DIGEST_NEWER));
    expect(plan).toMatchObject({ reverted: false });
    expect(plan.write).toBeDefined();
    expect(valueAt(after.json, ['spec', 'ref', 'digest'])).toBe(DIGEST_NEWER);
    expect(preHoldOf(after)).toEqual({ 'spec.ref.digest': null });
  });

  it('re-pins when someone removed the digest, as a revert', () => {
    const pinned = hold(ociRepository({ tag: '3.1.0' }), A, pin(DIGEST_GOOD)).after;
    const unpinned = edited(pinned, { spec: { ref: { digest: null } } });
    const { plan, after } = hold(unpinned, A, pin(DIGEST_GOOD));
    expect(plan.reverted).toBe(true);
    expect(valueAt(after.json, ['spec', 'ref', 'digest'])).toBe(DIGEST_GOOD);
  });

  it('over a digest the user had set records it, and is not a revert once in place', () => {
    const { after } = hold(ociRepository({ digest: DIGEST_USER }), A, pin(DIGEST_USER));
    expect(preHoldOf(after)).toEqual({ 'spec.ref.digest': DIGEST_USER });
    expect(planHold(after, A, pin(DIGEST_USER))).toMatchObject({ reverted: false, write: undefined });
  });

  it.each([
    ['a HelmRelease', helmRelease(false), 'spec.suspend'],
    ['an OCIRepository without a verified digest', ociRepository({ tag: '1.0.0' }), 'spec.suspend'],
    ['an Application', application(AUTOMATED), 'spec.syncPolicy.automated'],
  ])('falls back to the suspend method on %s', (_what, target, method) => {
    expect(planHold(target, A, pin(target.kind === 'OCIRepository' ? undefined : DIGEST_GOOD))).toMatchObject(
      {
        method,
        fellBackToSuspend: true,
      },
    );
  });

  it('sets an Argo CD native OCI source targetRevision to the digest and keeps automated sync', () => {
    const { plan, after } = hold(ociApplication('1.x'), A, pin(DIGEST_GOOD));
    expect(plan).toMatchObject({ method: 'spec.source.targetRevision', fellBackToSuspend: false });
    expect(plan.write?.type).toBe('apply');
    expect(valueAt(after.json, ['spec', 'source', 'targetRevision'])).toBe(DIGEST_GOOD);
    expect(valueAt(after.json, ['spec', 'syncPolicy', 'automated'])).toEqual({ prune: true });
    expect(preHoldOf(after)).toEqual({ 'spec.source.targetRevision': '1.x' });
    // Moving the pin keeps the record; release restores the constraint exactly.
    const moved = hold(after, A, pin(DIGEST_NEWER));
    expect(moved.plan.reverted).toBe(false);
    expect(valueAt(moved.after.json, ['spec', 'source', 'targetRevision'])).toBe(DIGEST_NEWER);
    const released = afterWrite(moved.after, planRelease(moved.after, A).write);
    expect(released.json['spec']).toEqual(ociApplication('1.x').json['spec']);
    expect(released.metadata.annotations).toEqual({ 'argocd.argoproj.io/refresh': 'hard' });
  });

  it('re-pins an Argo CD targetRevision someone set back to the tag, as a revert', () => {
    const pinned = hold(ociApplication('1.0.0'), A, pin(DIGEST_GOOD)).after;
    const undone = edited(pinned, { spec: { source: { targetRevision: '1.0.0' } } });
    const { plan, after } = hold(undone, A, pin(DIGEST_GOOD));
    expect(plan.reverted).toBe(true);
    expect(valueAt(after.json, ['spec', 'source', 'targetRevision'])).toBe(DIGEST_GOOD);
  });

  it('falls back on an Argo CD native OCI source in spec.sources (a list item cannot be pinned alone)', () => {
    const multi = edited(ociApplication('1.0.0'), {
      spec: {
        source: null,
        sources: [{ repoURL: 'oci://registry.example.com/manifests/payment', targetRevision: '1.0.0' }],
      },
    });
    expect(planHold(multi, A, pin(DIGEST_GOOD))).toMatchObject({
      method: 'spec.syncPolicy.automated',
      fellBackToSuspend: true,
    });
  });

  it('a pin taking over from its own suspend pins and resumes in one write, restoring the recorded suspend', () => {
    const suspended = hold(ociRepository({ tag: '3.1.0' }), A, SUSPEND).after;
    expect(valueAt(suspended.json, ['spec', 'suspend'])).toBe(true);
    const { plan, after } = hold(suspended, A, { ...pin(DIGEST_GOOD), pinOnly: true });
    expect(plan).toMatchObject({ method: 'spec.ref.digest', reverted: false, fellBackToSuspend: false });
    expect(plan.write?.type).toBe('merge-patch');
    expect(valueAt(after.json, ['spec', 'ref', 'digest'])).toBe(DIGEST_GOOD);
    expect(valueAt(after.json, ['spec', 'suspend'])).toBeUndefined();
    expect(preHoldOf(after)).not.toHaveProperty('spec.suspend');
    // Released later, the pin goes and nothing else changes.
    const released = afterWrite(after, planRelease(after, A).write);
    expect(valueAt(released.json, ['spec', 'ref', 'digest'])).toBeUndefined();
    expect(valueAt(released.json, ['spec', 'suspend'])).toBeUndefined();
  });

  it("a pin does not lift another holder's suspend", () => {
    const byBoth = hold(hold(ociRepository({ tag: '3.1.0' }), B, SUSPEND).after, A, SUSPEND).after;
    const { after } = hold(byBoth, A, { ...pin(DIGEST_GOOD), pinOnly: true });
    expect(valueAt(after.json, ['spec', 'suspend'])).toBe(true);
    expect(valueAt(after.json, ['spec', 'ref', 'digest'])).toBe(DIGEST_GOOD);
  });

  it('with pinOnly changes nothing where there is no field for a pin', () => {
    const plan = planHold(application(AUTOMATED), A, { ...pin(DIGEST_GOOD), pinOnly: true });
    expect(plan).toMatchObject({ fellBackToSuspend: true, write: undefined });
  });

  it('pins a HelmRelease chart template range to the exact verified version and restores the range', () => {
    const ranged = edited(helmRelease(false), {
      spec: {
        chartRef: null,
        chart: {
          spec: { chart: 'payment', version: '1.x', sourceRef: { kind: 'HelmRepository', name: 'c' } },
        },
      },
    });
    const options: HoldOptions = { ...pin(DIGEST_GOOD), pinVersion: '1.0.1+build.1', pinOnly: true };
    const { plan, after } = hold(ranged, A, options);
    expect(plan).toMatchObject({ method: 'spec.chart.spec.version', fellBackToSuspend: false });
    expect(valueAt(after.json, ['spec', 'chart', 'spec', 'version'])).toBe('1.0.1+build.1');
    expect(valueAt(after.json, ['spec', 'suspend'])).toBe(false);
    expect(preHoldOf(after)).toEqual({ 'spec.chart.spec.version': '1.x' });
    // Held while a new version is judged: suspended too, and the version pin stays where it was.
    const suspended = hold(after, A, pin(DIGEST_GOOD));
    expect(suspended.plan.method).toBe('spec.suspend');
    expect(valueAt(suspended.after.json, ['spec', 'chart', 'spec', 'version'])).toBe('1.0.1+build.1');
    expect(valueAt(suspended.after.json, ['spec', 'suspend'])).toBe(true);
    const released = afterWrite(suspended.after, planRelease(suspended.after, A).write);
    expect(released.json['spec']).toEqual(ranged.json['spec']);
  });

  it('refuses a version pin that is not an exact version', () => {
    const ranged = edited(helmRelease(false), {
      spec: {
        chartRef: null,
        chart: { spec: { chart: 'p', version: '1.x', sourceRef: { kind: 'HelmRepository', name: 'c' } } },
      },
    });
    expect(() => planHold(ranged, A, { ...pin(DIGEST_GOOD), pinVersion: '>=1.0.0' })).toThrow(
      expect.objectContaining({ code: 'InvalidVersion' }) as Error,
    );
  });

  it('refuses a value that is not a digest', () => {
    expect(() => planHold(ociRepository({ tag: '1' }), A, pin('latest'))).toThrow(
      expect.objectContaining({ code: 'InvalidDigest' }) as Error,
    );
  });
});

describe('holding again', () => {
  const heldByA = hold(helmRelease(false), A, SUSPEND).after;

  it('writes nothing when the hold is in place', () => {
    expect(planHold(heldByA, A, SUSPEND)).toMatchObject({ write: undefined, reverted: false });
  });

  it('adds a second holder without overwriting pre-hold', () => {
    const { plan, after } = hold(heldByA, B, SUSPEND);
    expect(plan.reverted).toBe(false);
    expect(annotation(after, HELD_BY_ANNOTATION)).toBe(`${A},${B}`);
    expect(preHoldOf(after)).toEqual({ 'spec.suspend': false });
  });

  it('re-applies a suspend someone reverted, keeps pre-hold, and reports it', () => {
    const reverted = edited(heldByA, { spec: { suspend: false } });
    const { plan, after } = hold(reverted, A, SUSPEND);
    expect(plan).toMatchObject({ reverted: true, preHoldUnknown: false });
    expect(valueAt(after.json, ['spec', 'suspend'])).toBe(true);
    expect(preHoldOf(after)).toEqual({ 'spec.suspend': false });
  });

  it('removes automated sync again when it came back', () => {
    const held = hold(application(AUTOMATED), A, SUSPEND).after;
    const back = edited(held, { spec: { syncPolicy: { automated: { prune: false } } } });
    const { plan, after } = hold(back, A, SUSPEND);
    expect(plan).toMatchObject({ reverted: true, write: { type: 'merge-patch' } });
    expect(valueAt(after.json, ['spec', 'syncPolicy', 'automated'])).toBeUndefined();
    expect(preHoldOf(after)).toEqual({ 'spec.syncPolicy.automated': AUTOMATED });
  });

  it('reuses a pre-hold left without held-by (only held-by was removed)', () => {
    const stripped = edited(heldByA, { metadata: { annotations: { [HELD_BY_ANNOTATION]: null } } });
    const { plan, after } = hold(stripped, A, SUSPEND);
    expect(plan).toMatchObject({ reverted: true, preHoldUnknown: false });
    expect(preHoldOf(after)).toEqual({ 'spec.suspend': false });
  });

  describe('when both annotations were removed', () => {
    const stripped = edited(heldByA, {
      metadata: { annotations: { [HELD_BY_ANNOTATION]: null, [PRE_HOLD_ANNOTATION]: null } },
    });

    it('and the caller expected to hold it: re-holds, reverted, and flags the unknown pre-hold state', () => {
      const { plan, after } = hold(stripped, A, { ...SUSPEND, expectHeld: true });
      expect(plan).toMatchObject({ reverted: true, preHoldUnknown: true });
      // Fail closed: suspended before is all that can be known now, so release keeps it suspended.
      expect(preHoldOf(after)).toEqual({ 'spec.suspend': true });
      expect(annotation(after, HELD_BY_ANNOTATION)).toBe(A);
    });

    it('and the hold was undone as well (object re-created): the recomputed pre-hold is the real one', () => {
      const recreated = edited(stripped, { spec: { suspend: false } });
      const { plan, after } = hold(recreated, A, { ...SUSPEND, expectHeld: true });
      expect(plan).toMatchObject({ reverted: true, preHoldUnknown: false });
      expect(preHoldOf(after)).toEqual({ 'spec.suspend': false });
    });

    it('without the caller expecting a hold: a plain first hold', () => {
      expect(planHold(stripped, A, SUSPEND)).toMatchObject({ reverted: false, preHoldUnknown: false });
    });
  });

  it('holds an unreadable pre-hold anyway, recomputed, rather than leave the target running', () => {
    const broken = edited(heldByA, { metadata: { annotations: { [PRE_HOLD_ANNOTATION]: 'garbage' } } });
    const { plan, after } = hold(broken, A, SUSPEND);
    expect(plan).toMatchObject({ reverted: true, preHoldUnknown: true });
    expect(preHoldOf(after)).toEqual({ 'spec.suspend': true });
  });
});

describe('holders with different methods on one OCIRepository', () => {
  it('keeps both fields held: the union of what each holder changed', () => {
    const suspended = hold(ociRepository({ tag: '3.1.0' }), A, SUSPEND).after;
    const { after } = hold(suspended, B, pin(DIGEST_GOOD));
    expect(valueAt(after.json, ['spec', 'suspend'])).toBe(true);
    expect(valueAt(after.json, ['spec', 'ref', 'digest'])).toBe(DIGEST_GOOD);
    expect(preHoldOf(after)).toEqual({ 'spec.suspend': null, 'spec.ref.digest': null });
  });

  it('a holder that does not know the pinned digest suspends, and leaves an undone pin to its owner', () => {
    const pinned = hold(ociRepository({ tag: '3.1.0' }), A, pin(DIGEST_GOOD)).after;
    const unpinned = edited(pinned, { spec: { ref: { digest: null } } });
    const { plan, after } = hold(unpinned, B, SUSPEND);
    expect(plan.reverted).toBe(true);
    expect(valueAt(after.json, ['spec', 'suspend'])).toBe(true);
    expect(valueAt(after.json, ['spec', 'ref'])).toEqual({ tag: '3.1.0' });
    const repinned = hold(after, A, pin(DIGEST_GOOD)).after;
    expect(valueAt(repinned.json, ['spec', 'ref', 'digest'])).toBe(DIGEST_GOOD);
    expect(preHoldOf(repinned)).toEqual({ 'spec.ref.digest': null, 'spec.suspend': null });
  });
});

describe('targets tagguard cannot hold', () => {
  it('are refused with UnsupportedTarget', () => {
    const target = { ...helmRelease(false), apiVersion: 'apps/v1', kind: 'Deployment' };
    expect(() => planHold(target, A, SUSPEND)).toThrow(
      expect.objectContaining({ code: 'UnsupportedTarget' }) as Error,
    );
  });
});
