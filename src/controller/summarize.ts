// The single exit of a reconcile: from what the steps learned, the whole status (conditions in kstatus
// shape with observedGeneration, history, findings capped at 50), the Events to emit and the numbers for
// the metrics, composed from the builders in summary/. Pure: the caller writes the status, sends the Events.
import type { ArtifactVerificationStatus, Severity } from '../api/artifact-verification.ts';
import type { ArtifactCheck, ReconcileState } from './reconcile-state.ts';
import { blockingHolds, buildConditions, pinsKeepBack, quarantineConditions } from './summary/conditions.ts';
import { buildEvents, countBySeverity, type PlannedEvent } from './summary/events.ts';
import { shortDigest } from './summary/format.ts';
import { buildHistory } from './summary/history.ts';
import { buildStatus } from './summary/status.ts';
import { isTrusted } from './verdict.ts';

export { blockingHolds } from './summary/conditions.ts';
export type { PlannedEvent } from './summary/events.ts';
export { MAX_FINDINGS } from './summary/status.ts';

export interface Summary {
  readonly status: ArtifactVerificationStatus;
  readonly events: readonly PlannedEvent[];
  readonly trusted: boolean;
  /** Targets held in a way that blocks them (not a pin at the verified digest): the held-targets metric. */
  readonly blocking: number;
  readonly findingsBySeverity: Readonly<Record<Severity, number>>;
}

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
  return {
    ...previous,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    conditions: quarantineConditions(previous, generation, now, state.heldTargets, message),
    heldTargets: state.heldTargets,
  };
};

export const summarize = (state: ReconcileState): Summary => {
  const verdict: { trusted: boolean; untrusted: ArtifactCheck | undefined } = {
    trusted: isTrusted(state.checks, state.error),
    untrusted: state.checks.find((c) => c.verdict !== 'Trusted'),
  };
  const conditions = buildConditions(state, verdict);
  const history = buildHistory(state.object.status, state.checks, state.now);
  return {
    status: buildStatus(state, verdict, conditions, history),
    events: buildEvents(state),
    trusted: verdict.trusted,
    blocking: blockingHolds(state.heldTargets, pinsKeepBack(state)).length,
    findingsBySeverity: countBySeverity(state.checks.flatMap((c) => c.scan?.findings ?? [])),
  };
};
