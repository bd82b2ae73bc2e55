// The status conditions of a reconcile (kstatus shape: Ready, Reconciling, Stalled, Verified, Scanned,
// TagMutated, Held, Gated, in that order) from its checks, holds and error, and the conditions of a
// quarantine's interim record. Pure; conditions.ts one level up keeps lastTransitionTime and generations.
import type { ArtifactVerificationStatus, Condition, HeldTarget } from '../../api/artifact-verification.ts';
import { ConditionType, Reason } from '../../api/conditions.ts';
import { isPinMethod } from '../../enforce/hold-method.ts';
import { removeCondition, setCondition } from '../conditions.ts';
import type { ArtifactCheck, ReconcileState, TargetKey } from '../reconcile-state.ts';
import { describeCheck, shortDigest } from './format.ts';

export interface ConditionValue {
  readonly status: Condition['status'];
  readonly reason: string;
  readonly message: string;
}

export const verifiedCondition = (checks: readonly ArtifactCheck[]): ConditionValue => {
  const failing = checks.find((c) => c.verification && c.verification.verdict !== 'Trusted');
  if (failing?.verification) {
    const reasons = failing.verification.reasons.join(', ') || 'SignatureInvalid';
    const signerMessages = failing.verification.signers.map((s) => `${s.name}: ${s.message}`).join('; ');
    return {
      status: 'False',
      reason: failing.verification.reasons[0] ?? Reason.SignatureInvalid,
      message: `${describeCheck(failing)}@${shortDigest(failing.digest)}: ${reasons}${signerMessages ? ` (${signerMessages})` : ''}`,
    };
  }
  if (checks.some((c) => c.verification)) {
    const names = [
      ...new Set(
        checks.flatMap((c) => c.verification?.signers.filter((s) => s.verified).map((s) => s.name) ?? []),
      ),
    ];
    return { status: 'True', reason: Reason.Verified, message: `signed by ${names.join(', ')}` };
  }
  return {
    status: 'True',
    reason: Reason.NoSignatureRequired,
    message: 'spec.verify is not set: no signature is required',
  };
};

export const scannedCondition = (checks: readonly ArtifactCheck[]): ConditionValue => {
  const failing = checks.find((c) => c.scan?.failed || (c.scan?.problems.length ?? 0) > 0);
  if (failing?.scan) {
    const counts = failing.scan.findings.length;
    const problems = failing.scan.problems.join('; ');
    return {
      status: 'False',
      reason: failing.scan.failed ? Reason.FindingsAtThreshold : Reason.ScanRequirementFailed,
      message: `${describeCheck(failing)}@${shortDigest(failing.digest)}: ${counts} finding(s)${problems ? `; ${problems}` : ''}${failing.scan.rendered ? '' : ' (templates not rendered: static scan)'}`,
    };
  }
  const scanned = checks.filter((c) => c.scan);
  if (scanned.length === 0) return { status: 'Unknown', reason: Reason.NotScanned, message: 'no scan ran' };
  const rendered = scanned.every((c) => c.scan?.rendered);
  return {
    status: 'True',
    reason: Reason.ScanPassed,
    message: `no findings at the failOn threshold${rendered ? '' : ' (static template scan: helm not available)'}`,
  };
};

/** TagMutated: a watched tag moved to a digest that is not trusted (kept True across re-checks). */
export const tagMutatedCondition = (checks: readonly ArtifactCheck[]): ConditionValue => {
  const mutated = checks.find((c) => c.previousDigest !== undefined && c.verdict !== 'Trusted');
  return mutated
    ? {
        status: 'True',
        reason: Reason.TagMutated,
        message: `${describeCheck(mutated)} moved from ${mutated.previousDigest ?? ''} to ${mutated.digest}`,
      }
    : {
        status: 'False',
        reason: Reason.NoMutation,
        message: 'every watched tag points at a trusted or first-seen digest',
      };
};

const listTargets = (targets: readonly HeldTarget[]): string =>
  targets.map((t) => `${t.kind}/${t.namespace}/${t.name} (${t.method})`).join(', ');

/**
 * Targets that are blocked: every hold but a pin, and a pin too while it keeps back something (`pinsBlock`:
 * the tag points at a digest other than the trusted one that is not trusted, or cannot be resolved). A pin
 * at the verified digest of an artifact that did not move is a gate, not a hold.
 */
export const blockingHolds = (targets: readonly HeldTarget[], pinsBlock: boolean): HeldTarget[] =>
  pinsBlock ? [...targets] : targets.filter((t) => !isPinMethod(t.method));

/** Whether this reconcile saw a digest other than the trusted one that is not trusted (or none at all). */
export const pinsKeepBack = (state: Pick<ReconcileState, 'object' | 'checks' | 'failures'>): boolean => {
  const trustedDigest = state.object.status?.trustedDigest;
  return (
    state.checks.some((c) => c.verdict !== 'Trusted' && c.digest !== trustedDigest) ||
    state.failures.some((f) => f.digest !== trustedDigest)
  );
};

export const heldCondition = (targets: readonly HeldTarget[], pinsBlock: boolean): ConditionValue => {
  const blocking = blockingHolds(targets, pinsBlock);
  if (blocking.length > 0)
    return { status: 'True', reason: Reason.Held, message: `holding ${listTargets(blocking)}` };
  if (targets.length > 0)
    return {
      status: 'False',
      reason: Reason.PinnedToVerified,
      message: `pinned to the verified digest: ${listTargets(targets)}`,
    };
  return { status: 'False', reason: Reason.NotHeld, message: 'no GitOps object is held' };
};

/** Gated, from what Pin could not pin in this reconcile (undefined when Pin did not run: unchanged). */
export const gatedCondition = (unpinnable: readonly TargetKey[] | undefined): ConditionValue | undefined => {
  if (unpinnable === undefined) return undefined;
  if (unpinnable.length === 0)
    return {
      status: 'True',
      reason: Reason.Pinned,
      message: 'every target deploys only the verified digest',
    };
  return {
    status: 'False',
    reason: Reason.PinUnavailable,
    message: `${unpinnable.map((t) => `${t.kind}/${t.namespace}/${t.name}`).join(', ')} cannot be pinned to a digest and follow the tag: a re-push can be deployed before tagguard holds it (Argo CD: use an oci:// source; Flux: use an OCIRepository with chartRef)`,
  };
};

const CONDITION_ORDER = [
  ConditionType.Ready,
  ConditionType.Reconciling,
  ConditionType.Stalled,
  ConditionType.Verified,
  ConditionType.Scanned,
  ConditionType.TagMutated,
  ConditionType.Held,
  ConditionType.Gated,
] as string[];

export const sortConditions = (conditions: Condition[]): Condition[] =>
  conditions.sort((a, b) => CONDITION_ORDER.indexOf(a.type) - CONDITION_ORDER.indexOf(b.type));

/** Sets conditions one after the other on a copy of `previous`, each stamped with the generation and time. */
const conditionSetter = (
  previous: readonly Condition[] | undefined,
  generation: number | undefined,
  now: Date,
) => {
  let conditions: Condition[] = [...(previous ?? [])];
  return {
    set: (type: string, value: ConditionValue): void => {
      conditions = setCondition(conditions, { type, ...value }, generation, now);
    },
    remove: (type: string): void => {
      conditions = removeCondition(conditions, type);
    },
    sorted: (): Condition[] => sortConditions(conditions),
  };
};

/**
 * The conditions after a reconcile. Ready says Trusted, the first untrusted artifact's reason, or the
 * error's; Stalled and Reconciling are present only while True (kstatus). Conditions no step spoke to
 * (Verified and Scanned when nothing was checked, Gated when Pin did not run) keep their previous value.
 */
export const buildConditions = (
  state: ReconcileState,
  verdict: { readonly trusted: boolean; readonly untrusted: ArtifactCheck | undefined },
): Condition[] => {
  const { object, now, checks, error } = state;
  const conditions = conditionSetter(object.status?.conditions, object.metadata.generation, now);
  if (checks.length > 0) {
    conditions.set(ConditionType.Verified, verifiedCondition(checks));
    conditions.set(ConditionType.Scanned, scannedCondition(checks));
    conditions.set(ConditionType.TagMutated, tagMutatedCondition(checks));
  }
  conditions.set(ConditionType.Held, heldCondition(state.heldTargets, pinsKeepBack(state)));
  const gated = gatedCondition(state.unpinnable);
  if (gated) conditions.set(ConditionType.Gated, gated);
  if (error) {
    conditions.set(ConditionType.Ready, { status: 'False', reason: error.reason, message: error.message });
    if (error.code === 'Stalled') {
      conditions.set(ConditionType.Stalled, { status: 'True', reason: error.reason, message: error.message });
      conditions.remove(ConditionType.Reconciling);
    } else {
      conditions.set(ConditionType.Reconciling, {
        status: 'True',
        reason: error.code === 'Waiting' ? Reason.Waiting : Reason.RetryingAfterError,
        message: error.message,
      });
      conditions.remove(ConditionType.Stalled);
    }
    return conditions.sorted();
  }
  conditions.remove(ConditionType.Stalled);
  conditions.remove(ConditionType.Reconciling);
  const { trusted, untrusted } = verdict;
  if (trusted)
    conditions.set(ConditionType.Ready, {
      status: 'True',
      reason: Reason.Trusted,
      message: `${checks.map((c) => `${describeCheck(c)}@${shortDigest(c.digest)}`).join(', ')} trusted`,
    });
  else if (untrusted)
    conditions.set(ConditionType.Ready, {
      status: 'False',
      reason: untrusted.reason ?? Reason.Untrusted,
      message: `${describeCheck(untrusted)}@${shortDigest(untrusted.digest)} is not trusted: ${untrusted.message ?? untrusted.reason ?? ''}`,
    });
  return conditions.sorted();
};

/**
 * The conditions of a quarantine's record (a digest held before it is judged): Ready=False and
 * Reconciling=True with reason Verifying, and Held as the holds stand; the others keep their value.
 */
export const quarantineConditions = (
  previous: ArtifactVerificationStatus,
  generation: number | undefined,
  now: Date,
  heldTargets: readonly HeldTarget[],
  message: string,
): Condition[] => {
  const conditions = conditionSetter(previous.conditions, generation, now);
  conditions.set(ConditionType.Ready, { status: 'False', reason: Reason.Verifying, message });
  conditions.set(ConditionType.Reconciling, { status: 'True', reason: Reason.Verifying, message });
  conditions.set(ConditionType.Held, heldCondition(heldTargets, true));
  return conditions.sorted();
};
