// The vocabulary of holds: which GitOps object is held, by which method, and what a hold or a release
// did. The controller codes against these; the mechanics live in hold-plan.ts, release-plan.ts, holds.ts.

import type { TargetRef } from '../api/target-ref.ts';

/** A GitOps object tagguard can hold: the sources adapters produce them. */
export type { TargetRef };

/** The group and kind of a target, for listing (any served version). */
export interface TargetKind {
  readonly apiVersion: string;
  readonly kind: string;
}

/** What a hold changes on the target (also the `method` of status.heldTargets). */
export type HoldMethod =
  | 'spec.suspend'
  | 'spec.syncPolicy.automated'
  | 'skip-reconcile'
  | 'spec.ref.digest'
  /** Pin of an Argo CD Application's single native `oci://` source: targetRevision set to the digest. */
  | 'spec.source.targetRevision'
  /** Pin of a Flux HelmRelease chart template to the exact verified version (a range would move on). */
  | 'spec.chart.spec.version'
  /** Pin of a Flux HelmChart to the exact verified version. */
  | 'spec.version';

export interface HoldOptions {
  /** Warn never reaches the HoldManager: it changes nothing. */
  readonly action: 'Suspend' | 'Pin';
  readonly argocdMethod: 'DisableAutoSync' | 'SkipReconcile';
  /**
   * Pin: the verified digest to pin an OCIRepository (or an Argo CD native OCI source) to. Without it Pin
   * falls back to Suspend.
   */
  readonly pinDigest?: string;
  /**
   * Pin: the verified chart version to pin a HelmRelease chart template or a HelmChart to (the caller
   * passes it only for targets that are theirs to pin: not a HelmChart helm-controller generates).
   */
  readonly pinVersion?: string;
  /**
   * Only pin: where the target has no field for a pin, change nothing (outcome fellBackToSuspend, not
   * changed) instead of suspending it. For moving pins while the artifact is trusted.
   */
  readonly pinOnly?: boolean;
  /**
   * The caller's own record (status.heldTargets) says this holder holds the target. When the target then
   * carries no hold annotations at all, someone removed them: the hold is re-applied and reported reverted.
   */
  readonly expectHeld?: boolean;
}

export interface HoldOutcome {
  readonly target: TargetRef;
  readonly method: HoldMethod;
  /** A write was made (hold applied, re-applied, holder added or pin moved). */
  readonly changed: boolean;
  /** The hold had been undone (fields or annotations) and was re-applied: emit HoldReverted. */
  readonly reverted: boolean;
  /** Pin was asked for where no digest field exists (or no digest was given): the target is suspended. */
  readonly fellBackToSuspend: boolean;
  /**
   * The hold annotations had been removed while the hold itself was still in place, so the state before
   * the hold is unknown; it was recorded as the held state and release will leave the target held (fail
   * closed). The controller should tell a person to resume it by hand.
   */
  readonly preHoldUnknown: boolean;
}

export interface ReleaseOutcome {
  readonly target: TargetRef;
  /** The pre-hold state was restored and both annotations removed (this was the last holder). */
  readonly released: boolean;
  /** Holders still named in tagguard.dev/held-by after this release. */
  readonly remainingHolders: readonly string[];
}

/** A target found carrying tagguard.dev/held-by (recovery after a restart). */
export interface FoundHold {
  readonly target: TargetRef;
  readonly holders: readonly string[];
}
