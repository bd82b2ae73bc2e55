// The Events of a reconcile: a digest change or tag mutation, a new verdict (Verified, VerificationFailed,
// ScanFailed, ApprovedManually), a registry error, each hold and release (on the CR and on the target), and
// PinUnavailable when what Pin cannot pin changes. Pure: the reconciler sends them.
import type { Finding, HistoryEntry, Severity } from '../../api/artifact-verification.ts';
import { ConditionType, Reason } from '../../api/conditions.ts';
import { EventReason } from '../../api/event-reasons.ts';
import type { ArtifactCheck, HoldEvent, ReconcileState, TargetKey } from '../reconcile-state.ts';
import { gatedCondition } from './conditions.ts';
import { describeCheck, shortDigest } from './format.ts';

export interface PlannedEvent {
  readonly target: 'self' | TargetKey;
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly action: string;
  readonly note: string;
}

export const countBySeverity = (findings: readonly Finding[]): Record<Severity, number> => {
  const counts: Record<Severity, number> = { critical: 0, high: 0, medium: 0, low: 0 };
  for (const f of findings) counts[f.severity] += 1;
  return counts;
};

/** The Events of one judged digest; a verdict the history already has for it is not announced again. */
export const verdictEvents = (check: ArtifactCheck, previous: HistoryEntry | undefined): PlannedEvent[] => {
  const events: PlannedEvent[] = [];
  const what = `${describeCheck(check)}@${shortDigest(check.digest)}`;
  if (check.firstSeen || check.moved) {
    events.push({
      target: 'self',
      type: 'Normal',
      reason: EventReason.DigestChanged,
      action: 'Resolve',
      note: `${describeCheck(check)} now points at ${check.digest}`,
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

/** A hold or release, as two Events: one on the CR and one on the target, naming the CR. */
export const holdEvents = (hold: HoldEvent, holder: string): PlannedEvent[] => {
  const type = hold.kind === 'Released' || hold.kind === 'Pinned' ? 'Normal' : 'Warning';
  const reason = hold.kind === 'PinFallback' ? EventReason.Held : EventReason[hold.kind];
  const action = hold.kind === 'Released' ? 'Release' : 'Hold';
  return [
    { target: 'self', type, reason, action, note: hold.message },
    {
      target: hold.target,
      type,
      reason,
      action,
      note: `${hold.message} (by ArtifactVerification ${holder})`,
    },
  ];
};

/** PinUnavailable, when Pin names targets it cannot pin and their list is not the one already reported. */
const pinUnavailableEvents = (state: ReconcileState): PlannedEvent[] => {
  const gated = gatedCondition(state.unpinnable);
  const wasGated = state.object.status?.conditions?.find((c) => c.type === ConditionType.Gated);
  if (gated?.reason !== Reason.PinUnavailable || wasGated?.message === gated.message) return [];
  return [
    {
      target: 'self',
      type: 'Warning',
      reason: EventReason.PinUnavailable,
      action: 'Pin',
      note: gated.message,
    },
  ];
};

export const buildEvents = (state: ReconcileState): PlannedEvent[] => {
  const { object, checks, error } = state;
  const history = object.status?.history;
  const events = pinUnavailableEvents(state);
  for (const check of checks) {
    if (!check.verdict) continue;
    const previous = history?.find((h) => h.digest === check.digest && h.tag === check.tag);
    events.push(...verdictEvents(check, previous));
  }
  if (error?.reason === Reason.RegistryError)
    events.push({
      target: 'self',
      type: 'Warning',
      reason: EventReason.RegistryError,
      action: 'Resolve',
      note: error.message,
    });
  const holder = `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
  for (const hold of state.holdEvents) events.push(...holdEvents(hold, holder));
  return events;
};
