// What one reconcile learned, as summarize() needs it: the reconciler records here what its steps return,
// and only summarize() turns it into a status, Events and metrics (the one exit point).
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
  readonly verification?: VerificationResult;
  readonly scan?: ScanSummary;
  /** tagguard.dev/approve names this digest. */
  readonly approved: boolean;
  /** Set by the decide step (verdict.ts). */
  readonly verdict?: Verdict;
  /** Short machine reason of an untrusted verdict. */
  readonly reason?: string;
  readonly message?: string;
}

export interface HoldEvent {
  readonly target: TargetKey;
  readonly kind: 'Held' | 'Released' | 'HoldReverted' | 'PinFallback' | 'Pinned';
  readonly message: string;
}

export interface ReconcileState {
  readonly object: ArtifactVerification;
  readonly now: Date;
  /** The artifacts judged in this reconcile, with their verdicts. */
  checks: readonly ArtifactCheck[];
  /** Artifacts that could not be resolved in this reconcile (verdict.ts decides what holds). */
  failures: readonly JudgementFailure[];
  /** What is held after this reconcile (status.heldTargets). */
  heldTargets: readonly HeldTarget[];
  /**
   * Targets that Pin could not pin in this reconcile (no field for a digest): they follow the tag and are
   * protected only by holds after detection. Undefined when Pin did not run.
   */
  unpinnable?: readonly TargetKey[];
  /** The status written mid-reconcile (the quarantine's record), which report() compares against. */
  writtenStatus?: ArtifactVerificationStatus;
  holdEvents: HoldEvent[];
  error?: ReconcileError;
}
