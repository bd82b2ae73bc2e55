// The single exit of a reconcile: from what the steps learned, compute the whole status (conditions in
// kstatus shape with observedGeneration, history, findings capped at 50), the Events to emit and the
// numbers for the metrics. Pure: the caller writes the status and sends the Events.
import type {
  ArtifactVerificationStatus,
  Condition,
  Finding,
  HeldTarget,
  HistoryEntry,
  Severity,
  SignerStatus,
} from '../api/artifact-verification.ts';
import { isPinMethod } from '../enforce/hold-method.ts';
import { removeCondition, setCondition } from './conditions.ts';
import { recordVerdict } from './history.ts';
import type { ArtifactCheck, ReconcileState, TargetKey } from './reconcile-state.ts';
import { ConditionType, Reason } from '../api/conditions.ts';
import { isTrusted, recordsVerdict } from './verdict.ts';
import { EventReason } from '../api/event-reasons.ts';

export const MAX_FINDINGS = 50;

export interface PlannedEvent {
  readonly target: 'self' | TargetKey;
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly action: string;
  readonly note: string;
}

export interface Summary {
  readonly status: ArtifactVerificationStatus;
  readonly events: readonly PlannedEvent[];
  readonly trusted: boolean;
  /** Targets held in a way that blocks them (not a pin at the verified digest): the held-targets metric. */
  readonly blocking: number;
  readonly findingsBySeverity: Readonly<Record<Severity, number>>;
}

const shortDigest = (digest: string): string => digest.slice(0, 19);

/** Cuts a string to the CRD's maxLength for the field (the API server would reject the whole status). */
const clip = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

const clipFinding = (f: Finding): Finding => ({
  rule: clip(f.rule, 63),
  severity: f.severity,
  resource: clip(f.resource, 512),
  path: clip(f.path, 1024),
  message: clip(f.message, 4096),
});

/** status.source: Kind/name of the GitOps object (Kind/namespace/name across namespaces), or the URL. */
const sourceLabel = (object: ReconcileState['object']): string => {
  const ref = object.spec.sourceRef;
  if (!ref) return object.spec.artifact?.url ?? '';
  const namespace = ref.namespace ?? object.metadata.namespace;
  return namespace === object.metadata.namespace
    ? `${ref.kind}/${ref.name}`
    : `${ref.kind}/${namespace ?? ''}/${ref.name}`;
};

const describe = (check: ArtifactCheck): string =>
  `${check.url.replace(/^oci:\/\//, '')}${check.tag ? `:${check.tag}` : ''}`;

const previousVerdict = (
  history: readonly HistoryEntry[] | undefined,
  check: ArtifactCheck,
): HistoryEntry | undefined => history?.find((h) => h.digest === check.digest && h.tag === check.tag);

const verifiedCondition = (
  checks: readonly ArtifactCheck[],
): { status: Condition['status']; reason: string; message: string } => {
  const failing = checks.find((c) => c.verification && c.verification.verdict !== 'Trusted');
  if (failing?.verification) {
    const reasons = failing.verification.reasons.join(', ') || 'SignatureInvalid';
    const signerMessages = failing.verification.signers.map((s) => `${s.name}: ${s.message}`).join('; ');
    return {
      status: 'False',
      reason: failing.verification.reasons[0] ?? Reason.SignatureInvalid,
      message: `${describe(failing)}@${shortDigest(failing.digest)}: ${reasons}${signerMessages ? ` (${signerMessages})` : ''}`,
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

const scannedCondition = (
  checks: readonly ArtifactCheck[],
): { status: Condition['status']; reason: string; message: string } => {
  const failing = checks.find((c) => c.scan?.failed || (c.scan?.problems.length ?? 0) > 0);
  if (failing?.scan) {
    const counts = failing.scan.findings.length;
    const problems = failing.scan.problems.join('; ');
    return {
      status: 'False',
      reason: failing.scan.failed ? Reason.FindingsAtThreshold : Reason.ScanRequirementFailed,
      message: `${describe(failing)}@${shortDigest(failing.digest)}: ${counts} finding(s)${problems ? `; ${problems}` : ''}${failing.scan.rendered ? '' : ' (templates not rendered: static scan)'}`,
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

const countBySeverity = (findings: readonly Finding[]): Record<Severity, number> => {
  const counts: Record<Severity, number> = { critical: 0, high: 0, medium: 0, low: 0 };
  for (const f of findings) counts[f.severity] += 1;
  return counts;
};

const verdictEvents = (check: ArtifactCheck, previous: HistoryEntry | undefined): PlannedEvent[] => {
  const events: PlannedEvent[] = [];
  const what = `${describe(check)}@${shortDigest(check.digest)}`;
  if (check.firstSeen || check.moved) {
    events.push({
      target: 'self',
      type: 'Normal',
      reason: EventReason.DigestChanged,
      action: 'Resolve',
      note: `${describe(check)} now points at ${check.digest}`,
    });
    if (check.moved && check.previousDigest)
      events.push({
        target: 'self',
        type: 'Warning',
        reason: EventReason.TagMutated,
        action: 'Resolve',
        note: `tag ${check.tag ?? ''} of ${check.url} was re-pushed: ${shortDigest(check.previousDigest)} → ${shortDigest(check.digest)}`,
      });
  }
  if (previous?.verdict === check.verdict && !check.firstSeen && !check.moved) return events;
  if (check.approved && previous?.reason !== Reason.ApprovedManually)
    events.push({
      target: 'self',
      type: 'Normal',
      reason: EventReason.ApprovedManually,
      action: 'Approve',
      note: `${what} trusted by the tagguard.dev/approve annotation`,
    });
  if (check.verification?.verdict === 'Trusted')
    events.push({
      target: 'self',
      type: 'Normal',
      reason: EventReason.Verified,
      action: 'Verify',
      note: `${what} verified`,
    });
  if (check.verification && check.verification.verdict !== 'Trusted')
    events.push({
      target: 'self',
      type: 'Warning',
      reason: EventReason.VerificationFailed,
      action: 'Verify',
      note: `${what}: ${check.verification.reasons.join(', ')}`,
    });
  if (check.scan && (check.scan.failed || check.scan.problems.length > 0)) {
    const counts = countBySeverity(check.scan.findings);
    events.push({
      target: 'self',
      type: 'Warning',
      reason: EventReason.ScanFailed,
      action: 'Scan',
      note: `${what}: ${counts.critical} critical, ${counts.high} high, ${counts.medium} medium, ${counts.low} low finding(s)${check.scan.problems.length ? `; ${check.scan.problems.join('; ')}` : ''}`,
    });
  }
  return events;
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
const pinsKeepBack = (state: ReconcileState): boolean => {
  const trustedDigest = state.object.status?.trustedDigest;
  return (
    state.checks.some((c) => c.verdict !== 'Trusted' && c.digest !== trustedDigest) ||
    state.failures.some((f) => f.digest !== trustedDigest)
  );
};

const heldCondition = (
  targets: readonly HeldTarget[],
  pinsBlock: boolean,
): { status: Condition['status']; reason: string; message: string } => {
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
const gatedCondition = (
  unpinnable: readonly TargetKey[] | undefined,
): { status: Condition['status']; reason: string; message: string } | undefined => {
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

const sortConditions = (conditions: Condition[]): Condition[] =>
  conditions.sort((a, b) => CONDITION_ORDER.indexOf(a.type) - CONDITION_ORDER.indexOf(b.type));

/**
 * The status recorded when a quarantine holds the targets before a digest is judged (reconciler.ts): the
 * previous status with the holds, Ready=False and Reconciling=True with reason Verifying. The reconcile's
 * own summarize() replaces it once the digest is judged.
 */
export const summarizeQuarantine = (
  state: ReconcileState,
  digests: readonly { readonly url: string; readonly digest: string }[],
): ArtifactVerificationStatus => {
  const { object, now } = state;
  const previous = object.status ?? {};
  const generation = object.metadata.generation;
  const what = digests.map((d) => `${d.url.replace(/^oci:\/\//, '')}@${shortDigest(d.digest)}`).join(', ');
  const message = `${what} is not trusted yet and is being verified; the targets are held until it is judged`;
  let conditions: Condition[] = [...(previous.conditions ?? [])];
  const set = (type: string, status: Condition['status'], reason: string, text: string): void => {
    conditions = setCondition(conditions, { type, status, reason, message: text }, generation, now);
  };
  set(ConditionType.Ready, 'False', Reason.Verifying, message);
  set(ConditionType.Reconciling, 'True', Reason.Verifying, message);
  const held = heldCondition(state.heldTargets, true);
  set(ConditionType.Held, held.status, held.reason, held.message);
  return {
    ...previous,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    conditions: sortConditions(conditions),
    heldTargets: state.heldTargets,
  };
};

export const summarize = (state: ReconcileState): Summary => {
  const { object, now, checks, error } = state;
  const previous = object.status;
  const generation = object.metadata.generation;
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const trusted = isTrusted(checks, error);
  const untrusted = checks.find((c) => c.verdict !== 'Trusted');
  let conditions: Condition[] = [...(previous?.conditions ?? [])];
  const set = (type: string, status: Condition['status'], reason: string, message: string): void => {
    conditions = setCondition(conditions, { type, status, reason, message }, generation, now);
  };
  const extraEvents: PlannedEvent[] = [];

  if (checks.length > 0) {
    const v = verifiedCondition(checks);
    set(ConditionType.Verified, v.status, v.reason, v.message);
    const s = scannedCondition(checks);
    set(ConditionType.Scanned, s.status, s.reason, s.message);
    const mutated = checks.find((c) => c.previousDigest !== undefined && c.verdict !== 'Trusted');
    if (mutated)
      set(
        ConditionType.TagMutated,
        'True',
        Reason.TagMutated,
        `${describe(mutated)} moved from ${mutated.previousDigest ?? ''} to ${mutated.digest}`,
      );
    else
      set(
        ConditionType.TagMutated,
        'False',
        Reason.NoMutation,
        'every watched tag points at a trusted or first-seen digest',
      );
  }
  const pinsBlock = pinsKeepBack(state);
  const held = heldCondition(state.heldTargets, pinsBlock);
  set(ConditionType.Held, held.status, held.reason, held.message);
  const gated = gatedCondition(state.unpinnable);
  const wasGated = previous?.conditions?.find((c) => c.type === ConditionType.Gated);
  if (gated) {
    set(ConditionType.Gated, gated.status, gated.reason, gated.message);
    if (gated.reason === Reason.PinUnavailable && wasGated?.message !== gated.message)
      extraEvents.push({
        target: 'self',
        type: 'Warning',
        reason: EventReason.PinUnavailable,
        action: 'Pin',
        note: gated.message,
      });
  }

  if (error) {
    set(ConditionType.Ready, 'False', error.reason, error.message);
    if (error.code === 'Stalled') {
      set(ConditionType.Stalled, 'True', error.reason, error.message);
      conditions = removeCondition(conditions, ConditionType.Reconciling);
    } else {
      set(
        ConditionType.Reconciling,
        'True',
        error.code === 'Waiting' ? Reason.Waiting : Reason.RetryingAfterError,
        error.message,
      );
      conditions = removeCondition(conditions, ConditionType.Stalled);
    }
  } else {
    conditions = removeCondition(
      removeCondition(conditions, ConditionType.Stalled),
      ConditionType.Reconciling,
    );
    if (trusted)
      set(
        ConditionType.Ready,
        'True',
        Reason.Trusted,
        `${checks.map((c) => `${describe(c)}@${shortDigest(c.digest)}`).join(', ')} trusted`,
      );
    else if (untrusted)
      set(
        ConditionType.Ready,
        'False',
        untrusted.reason ?? Reason.Untrusted,
        `${describe(untrusted)}@${shortDigest(untrusted.digest)} is not trusted: ${untrusted.message ?? untrusted.reason ?? ''}`,
      );
  }
  sortConditions(conditions);

  let history = previous?.history ? [...previous.history] : [];
  const events: PlannedEvent[] = [...extraEvents];
  for (const check of checks) {
    if (!check.verdict) continue;
    events.push(...verdictEvents(check, previousVerdict(previous?.history, check)));
    if (!recordsVerdict(previous, check.digest, check.verdict)) continue;
    history = recordVerdict(
      history,
      {
        digest: check.digest,
        ...(check.tag !== undefined ? { tag: check.tag } : {}),
        verdict: check.verdict,
        ...(check.reason ? { reason: check.reason } : {}),
      },
      now,
    );
  }
  if (error?.reason === Reason.RegistryError)
    events.push({
      target: 'self',
      type: 'Warning',
      reason: EventReason.RegistryError,
      action: 'Resolve',
      note: error.message,
    });
  for (const hold of state.holdEvents) {
    const type = hold.kind === 'Released' || hold.kind === 'Pinned' ? 'Normal' : 'Warning';
    const reason = hold.kind === 'PinFallback' ? EventReason.Held : EventReason[hold.kind];
    events.push({
      target: 'self',
      type,
      reason,
      action: hold.kind === 'Released' ? 'Release' : 'Hold',
      note: hold.message,
    });
    events.push({
      target: hold.target,
      type,
      reason,
      action: hold.kind === 'Released' ? 'Release' : 'Hold',
      note: `${hold.message} (by ArtifactVerification ${object.metadata.namespace ?? ''}/${object.metadata.name})`,
    });
  }

  const allFindings = checks.flatMap((c) => c.scan?.findings ?? []);
  const shown = untrusted ?? checks[0];
  const signers: SignerStatus[] = checks.flatMap(
    (c) =>
      c.verification?.signers
        .filter((s) => s.verified)
        .map((s) => ({
          name: s.name,
          type: s.type,
          format: s.format ?? 'legacy',
          ...(s.identity ? { identity: clip(s.identity, 1024) } : {}),
          // When this signer already verified this digest, it keeps that time (no status churn per reconcile).
          verifiedAt:
            (c.digest === previous?.artifact?.digest
              ? previous.signers?.find((p) => p.name === s.name && p.format === (s.format ?? 'legacy'))
                  ?.verifiedAt
              : undefined) ?? stamp,
        })) ?? [],
  );
  const previouslyTrusted = previous?.trustedDigest;
  const trustedDigest = trusted ? checks[0]?.digest : previouslyTrusted;
  const status: ArtifactVerificationStatus = {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    conditions,
    source: sourceLabel(object),
    ...(shown
      ? {
          artifact: {
            url: shown.url,
            ...(shown.tag ? { tag: shown.tag } : {}),
            digest: shown.digest,
            shortDigest: shortDigest(shown.digest),
            mediaType: shown.mediaType,
            resolvedAt: shown.resolvedAt,
          },
        }
      : previous?.artifact
        ? { artifact: previous.artifact }
        : {}),
    ...(trustedDigest ? { trustedDigest } : {}),
    ...(trusted
      ? {
          verifiedAt:
            trustedDigest === previouslyTrusted && previous?.verifiedAt ? previous.verifiedAt : stamp,
        }
      : previous?.verifiedAt
        ? { verifiedAt: previous.verifiedAt }
        : {}),
    ...(checks.length > 0
      ? {
          signers,
          findings: allFindings.slice(0, MAX_FINDINGS).map(clipFinding),
          findingsCount: allFindings.length,
        }
      : {
          ...(previous?.signers ? { signers: previous.signers } : {}),
          ...(previous?.findings ? { findings: previous.findings } : {}),
          ...(previous?.findingsCount !== undefined ? { findingsCount: previous.findingsCount } : {}),
        }),
    heldTargets: state.heldTargets,
    history,
    ...(untrusted
      ? {
          lastFailure: {
            digest: untrusted.digest,
            reason: untrusted.reason ?? Reason.Untrusted,
            message: clip(untrusted.message ?? '', 32768),
            time: stamp,
          },
        }
      : error
        ? { lastFailure: { reason: error.reason, message: clip(error.message, 32768), time: stamp } }
        : previous?.lastFailure
          ? { lastFailure: previous.lastFailure }
          : {}),
  };
  return {
    status,
    events,
    trusted,
    blocking: blockingHolds(state.heldTargets, pinsBlock).length,
    findingsBySeverity: countBySeverity(allFindings),
  };
};
