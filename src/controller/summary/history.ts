// status.history from this reconcile's verdicts: each judged digest is recorded (history.ts keeps the
// newest 20), except an error on a digest trusted before, which is an outage and not a verdict (verdict.ts).
import type { ArtifactVerificationStatus, HistoryEntry } from '../../api/artifact-verification.ts';
import { recordVerdict } from '../history.ts';
import type { ArtifactCheck } from '../reconcile-state.ts';
import { recordsVerdict } from '../verdict.ts';

export const buildHistory = (
  previous: ArtifactVerificationStatus | undefined,
  checks: readonly ArtifactCheck[],
  now: Date,
): HistoryEntry[] => {
  let history = previous?.history ? [...previous.history] : [];
  for (const check of checks) {
    if (!check.verdict) continue;
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
  return history;
};
