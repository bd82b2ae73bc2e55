import { describe, expect, it } from 'vitest';
import { planHold } from '../../src/enforce/hold-plan.ts';
import { planRelease } from '../../src/enforce/release-plan.ts';
import {
  ARGOCD_SKIP_RECONCILE_ANNOTATION,
  HELD_BY_ANNOTATION,
  PRE_HOLD_ANNOTATION,
} from '../../src/enforce/hold-record.ts';
import { valueAt, type JsonObject, type TargetObject } from '../../src/enforce/target-object.ts';
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
  ociRepository,
  stateOf,
} from './fixtures.ts';

const SUSPEND: HoldOptions = { action: 'Suspend', argocdMethod: 'DisableAutoSync' };
const SKIP: HoldOptions = { action: 'Suspend', argocdMethod: 'SkipReconcile' };
const pin = (digest: string): HoldOptions => ({
  action: 'Pin',
  argocdMethod: 'DisableAutoSync',
  pinDigest: digest,
});
const A = 'apps/payment';
const B = 'flux-system/platform';

const held = (target: TargetObject, holder: string, options: HoldOptions): TargetObject =>
  afterWrite(target, planHold(target, holder, options).write);
const released = (target: TargetObject, holder: string): TargetObject =>
  afterWrite(target, planRelease(target, holder).write);

describe('release by the last holder', () => {
  it('restores spec.suspend and removes both annotations in the same merge patch', () => {
    const plan = planRelease(held(helmRelease(false), A, SUSPEND), A);
    expect(plan).toMatchObject({ restores: true, remainingHolders: [], write: { type: 'merge-patch' } });
    expect(plan.write?.body).toMatchObject({
      metadata: {
        resourceVersion: '101',
        annotations: { [HELD_BY_ANNOTATION]: null, [PRE_HOLD_ANNOTATION]: null },
      },
      spec: { suspend: false },
    });
  });

  it('removes spec.suspend when it was absent before the hold', () => {
    const after = released(held(helmRelease(undefined), A, SUSPEND), A);
    expect(valueAt(after.json, ['spec', 'suspend'])).toBeUndefined();
  });

  it('leaves a target suspended that was suspended before the hold', () => {
    const plan = planRelease(held(helmRelease(true), A, SUSPEND), A);
    expect(valueAt(plan.write?.body ?? {}, ['spec'])).toBeUndefined();
    expect(valueAt(afterWrite(helmRelease(true), plan.write).json, ['spec', 'suspend'])).toBe(true);
  });

  it('restores Argo CD automated sync exactly, even if a different one was put back during the hold', () => {
    const original = application(AUTOMATED);
    const hold = held(original, A, SUSPEND);
    const meddled = edited(hold, { spec: { syncPolicy: { automated: { prune: false, enabled: true } } } });
    const after = released(meddled, A);
    expect(JSON.stringify(valueAt(after.json, ['spec', 'syncPolicy', 'automated']))).toBe(
      JSON.stringify(AUTOMATED),
    );
  });

  it('removes a pin and keeps the tag', () => {
    const after = released(held(ociRepository({ tag: '3.1.0' }), A, pin(DIGEST_GOOD)), A);
    expect(valueAt(after.json, ['spec', 'ref'])).toEqual({ tag: '3.1.0' });
  });

  it('refuses to guess when pre-hold is gone: InvalidHoldRecord', () => {
    const stripped = edited(held(helmRelease(false), A, SUSPEND), {
      metadata: { annotations: { [PRE_HOLD_ANNOTATION]: null } },
    });
    expect(() => planRelease(stripped, A)).toThrow(
      expect.objectContaining({ code: 'InvalidHoldRecord' }) as Error,
    );
  });
});

describe('release with other holders left', () => {
  it('only removes the holder from held-by and changes nothing else', () => {
    const both = held(held(helmRelease(false), A, SUSPEND), B, SUSPEND);
    const plan = planRelease(both, B);
    expect(plan).toMatchObject({ restores: false, remainingHolders: [A] });
    expect(plan.write?.body).toEqual({
      apiVersion: both.apiVersion,
      kind: both.kind,
      metadata: {
        name: 'payment',
        namespace: 'apps',
        resourceVersion: '102',
        annotations: { [HELD_BY_ANNOTATION]: A },
      },
    });
  });
});

describe('release of a target the holder does not hold', () => {
  it.each([
    ['never held', helmRelease(false)],
    ['held by someone else only', held(helmRelease(false), B, SUSPEND)],
  ])('is a no-op (%s)', (_what, target) => {
    expect(planRelease(target, A)).toMatchObject({ restores: false, write: undefined });
  });
});

describe('hold then release returns the target to exactly its state before', () => {
  const SUSPEND_UNDONE: JsonObject = { spec: { suspend: false } };
  const AUTOMATED_BACK: JsonObject = { spec: { syncPolicy: { automated: { prune: false } } } };
  const SKIP_UNDONE: JsonObject = { metadata: { annotations: { [ARGOCD_SKIP_RECONCILE_ANNOTATION]: null } } };
  const UNPINNED: JsonObject = { spec: { ref: { digest: null } } };
  /** Name, the target before any hold, how it is held, and how someone undoes the hold. */
  const states: [string, TargetObject, HoldOptions, JsonObject][] = [
    ['HelmRelease without suspend', helmRelease(undefined), SUSPEND, SUSPEND_UNDONE],
    ['HelmRelease with suspend: false', helmRelease(false), SUSPEND, SUSPEND_UNDONE],
    ['HelmRelease already suspended', helmRelease(true), SUSPEND, SUSPEND_UNDONE],
    ['Application with automated sync', application(AUTOMATED), SUSPEND, AUTOMATED_BACK],
    ['Application without automated sync', application(undefined), SUSPEND, AUTOMATED_BACK],
    ['Application, SkipReconcile', application(AUTOMATED), SKIP, SKIP_UNDONE],
    [
      'Application, SkipReconcile over "false"',
      application(AUTOMATED, { annotations: { [ARGOCD_SKIP_RECONCILE_ANNOTATION]: 'false', team: 'x' } }),
      SKIP,
      SKIP_UNDONE,
    ],
    ['OCIRepository with a tag, pinned', ociRepository({ tag: '3.1.0' }), pin(DIGEST_GOOD), UNPINNED],
    ['OCIRepository with semver, pinned', ociRepository({ semver: '>=3.0.0' }), pin(DIGEST_GOOD), UNPINNED],
    ['OCIRepository without ref, pinned', ociRepository(undefined), pin(DIGEST_GOOD), UNPINNED],
    [
      'OCIRepository with its own digest, pinned',
      ociRepository({ digest: DIGEST_USER }),
      pin(DIGEST_GOOD),
      UNPINNED,
    ],
    ['OCIRepository, suspended', ociRepository({ tag: '3.1.0' }, {}, false), SUSPEND, SUSPEND_UNDONE],
  ];

  /**
   * The state after the last release, less the hard refresh a released Application asks Argo CD for (the
   * one addition: Argo CD removes it once it has re-rendered the manifests past its cache).
   */
  const restored = (target: TargetObject): JsonObject => {
    const state = stateOf(target);
    if (target.kind !== 'Application') return state;
    expect(target.metadata.annotations['argocd.argoproj.io/refresh']).toBe('hard');
    const { 'argocd.argoproj.io/refresh': _refresh, ...annotations } = target.metadata.annotations;
    const { annotations: _all, ...meta } = state['metadata'] as JsonObject;
    return {
      ...state,
      metadata: { ...meta, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
    };
  };

  it.each(states)('%s, one holder', (_what, original, options) => {
    expect(restored(released(held(original, A, options), A))).toEqual(stateOf(original));
  });

  it.each(states)(
    '%s, two holders released in either order, reverted and re-held between',
    (_w, original, options, undo) => {
      const second = options.pinDigest ? pin(DIGEST_NEWER) : options;
      const both = held(held(original, A, options), B, second);
      const reverted = edited(both, undo);
      const reheld = held(held(reverted, A, options), B, second);
      for (const [first, last] of [
        [A, B],
        [B, A],
      ] as const) {
        const afterFirst = released(reheld, first);
        expect(afterFirst.metadata.annotations[HELD_BY_ANNOTATION]).toBe(last);
        expect(restored(released(afterFirst, last))).toEqual(stateOf(original));
      }
    },
  );
});
