// Event reasons tagguard emits (events.k8s.io/v1, reporting controller tagguard.dev/controller) on the
// ArtifactVerification and, for holds, on the held target too (docs/design.md#conditions-events-metrics). The
// values are API: alerting and `kubectl events --for` filters match on them.

export const EventReason = {
  /** The watched tag resolves to a new digest (a new version, or a re-push). */
  DigestChanged: 'DigestChanged',
  /** The same tag (or chart version) now points at different content. Warning. */
  TagMutated: 'TagMutated',
  /** A digest passed every signature check. */
  Verified: 'Verified',
  /** A digest failed signature verification; the note names the reason (SignatureMissing …). Warning. */
  VerificationFailed: 'VerificationFailed',
  /** A digest has findings at or above failOn, or a scan requirement failed. Warning. */
  ScanFailed: 'ScanFailed',
  /** A target was suspended or pinned (also says when Pin fell back to Suspend). Warning. */
  Held: 'Held',
  /** A target was released and restored to its state before the hold. */
  Released: 'Released',
  /** Someone reverted a hold while trust was still failing; tagguard re-applied it. Warning. */
  HoldReverted: 'HoldReverted',
  /** A digest was trusted through the tagguard.dev/approve annotation. */
  ApprovedManually: 'ApprovedManually',
  /** The registry could not be reached or answered with an error. Warning. */
  RegistryError: 'RegistryError',
  /** An OCIRepository target's spec.ref.digest was set to a verified digest (action Pin). */
  Pinned: 'Pinned',
  /**
   * Action Pin, but a target has no field for a digest (Argo CD `chart:` source, HelmChart, HelmRelease): it
   * follows the tag, and a re-push can reach it before tagguard holds it. Warning, once per change.
   */
  PinUnavailable: 'PinUnavailable',
  /** sourceRef HelmRepository: a consumed chart's child now judges it Trusted (on the parent). */
  ChartTrusted: 'ChartTrusted',
  /** sourceRef HelmRepository: a consumed chart's child judges it Untrusted or Error (on the parent). Warning. */
  ChartUntrusted: 'ChartUntrusted',
  /** sourceRef HelmRepository: a new consumer was found; its child ArtifactVerification was created. */
  ConsumerAdded: 'ConsumerAdded',
  /** sourceRef HelmRepository: a consumer is gone; its child was deleted (its finalizer releases its holds). */
  ConsumerRemoved: 'ConsumerRemoved',
} as const;

export type EventReason = (typeof EventReason)[keyof typeof EventReason];

export type EventType = 'Normal' | 'Warning';

/** The Event type of each reason: Warning for everything a person should look at. */
export const EVENT_TYPE: Readonly<Record<EventReason, EventType>> = {
  DigestChanged: 'Normal',
  TagMutated: 'Warning',
  Verified: 'Normal',
  VerificationFailed: 'Warning',
  ScanFailed: 'Warning',
  Held: 'Warning',
  Released: 'Normal',
  HoldReverted: 'Warning',
  ApprovedManually: 'Normal',
  RegistryError: 'Warning',
  Pinned: 'Normal',
  PinUnavailable: 'Warning',
  ChartTrusted: 'Normal',
  ChartUntrusted: 'Warning',
  ConsumerAdded: 'Normal',
  ConsumerRemoved: 'Normal',
};
