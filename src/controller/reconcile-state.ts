// What one reconcile learned, step by step. Steps fill it in; only summarize() turns it into a status,
// Events and metrics (the one exit point).
import type {
  ArtifactVerification,
  ArtifactVerificationStatus,
  Finding,
  HeldTarget,
  Verdict,
} from '../api/artifact-verification.ts';
import type { VerificationResult } from '../verify/types.ts';
import type { JudgementFailure } from './fail-closed.ts';
import type { ReconcileError } from './reconcile-error.ts';

export interface TargetKey {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

export interface ScanSummary {
  readonly rendered: boolean;
  readonly findings: readonly Finding[];
  /** Some finding is at or above failOn. */
  readonly failed: boolean;
  /** The SBOM requirement failed, or the WASM imports are not allowed: a reason for the failure. */
  readonly problems: readonly string[];
}

/** One artifact checked in this reconcile (an Application may watch several). */
export interface ArtifactCheck {
  readonly url: string;
  readonly tag: string | undefined;
  readonly digest: string;
  readonly mediaType: string;
  readonly resolvedAt: string;
  /** The last other digest this tag had (a mutation when the current one is not trusted). */
  readonly previousDigest: string | undefined;
  /** The tag pointed at another digest in the last reconcile: it moved now. */
  readonly moved: boolean;
  /** This digest was not in the history yet. */
  readonly firstSeen: boolean;
  verification?: VerificationResult;
  scan?: ScanSummary;
  /** tagguard.dev/approve names this digest. */
  approved: boolean;
  verdict?: Verdict;
  /** Short machine reason of an untrusted verdict. */
  reason?: string;
  message?: string;
}

export interface HoldEvent {
  readonly target: TargetKey;
  readonly kind: 'Held' | 'Released' | 'HoldReverted' | 'PinFallback' | 'Pinned';
  readonly message: string;
}

export interface ReconcileState {
  readonly object: ArtifactVerification;
  readonly now: Date;
  targets: readonly TargetKey[];
  checks: ArtifactCheck[];
  /** Artifacts that could not be resolved or judged in this reconcile (verdict.ts decides what holds). */
  failures: JudgementFailure[];
  /** What is held after this reconcile (status.heldTargets). */
  heldTargets: readonly HeldTarget[];
  /**
   * Targets that Pin could not pin in this reconcile (no field for a digest): they follow the tag and are
   * protected only by holds after detection. Undefined when Pin did not run.
   */
  unpinnable?: readonly TargetKey[];
  /** What was held when the digests were resolved, before any quarantine of this reconcile. */
  heldBefore?: readonly HeldTarget[];
  /** The status written mid-reconcile (the quarantine's record), which report() compares against. */
  writtenStatus?: ArtifactVerificationStatus;
  holdEvents: HoldEvent[];
  error?: ReconcileError;
  /** Ask to run again after this long (the earliest of the steps' requests). */
  requeueAfterMs?: number;
  /** A new tagguard.dev/requested-at: verify again instead of answering from the cache. */
  reverify?: boolean;
}

export const requeueAfter = (state: ReconcileState, ms: number): void => {
  state.requeueAfterMs = state.requeueAfterMs === undefined ? ms : Math.min(state.requeueAfterMs, ms);
};
