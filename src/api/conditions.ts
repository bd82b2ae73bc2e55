// Condition types and condition reasons of ArtifactVerification status
// (docs/design.md#conditions-events-metrics). The values are API: `kubectl wait --for=condition=Ready`, Flux
// health checks, Argo CD health and alerts match on them, so a value never changes meaning. Conditions follow
// the Kubernetes API conventions and kstatus.

export const ConditionType = {
  /** kstatus: the artifact is trusted and every target is in its intended state. */
  Ready: 'Ready',
  /** kstatus: work in progress or retrying after an error. Present only while True. */
  Reconciling: 'Reconciling',
  /** kstatus: cannot progress until the spec or a referenced object changes (no retry). Present only while True. */
  Stalled: 'Stalled',
  /** Signatures verified per spec.verify (True with NoSignatureRequired when there is none). */
  Verified: 'Verified',
  /** The content scan passed the failOn threshold and the SBOM / WASM requirements. */
  Scanned: 'Scanned',
  /** A watched tag points at a digest other than the one last seen for it, and that digest is not trusted. */
  TagMutated: 'TagMutated',
  /** tagguard holds (suspends or pins) at least one GitOps object. */
  Held: 'Held',
  /**
   * With action Pin and a trusted artifact: True when every target deploys only the verified digest (a pin),
   * so a re-push cannot reach the cluster before it is judged; False (PinUnavailable) names the targets
   * that follow the tag because they have no field for a digest.
   */
  Gated: 'Gated',
} as const;

export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

export const Reason = {
  /** Ready=True: every watched digest passed every check. */
  Trusted: 'Trusted',
  /** Ready=False: a watched digest failed a check (the message says which). */
  Untrusted: 'Untrusted',
  /** Verified=True: at least minSignatures signer entries verified. */
  Verified: 'Verified',
  /** Verified=True: spec.verify is not set, no signature is required. */
  NoSignatureRequired: 'NoSignatureRequired',
  /** Verified=False: no signature of a configured kind was found for the digest. */
  SignatureMissing: 'SignatureMissing',
  /** Verified=False: a signature exists but does not verify (bad signature, payload, chain or log entry). */
  SignatureInvalid: 'SignatureInvalid',
  /** Verified=False: a signature verifies but its key or identity is not one of the trusted signers. */
  UntrustedSigner: 'UntrustedSigner',
  /** Verified=False: fewer than minSignatures distinct signer entries verified. */
  ThresholdNotMet: 'ThresholdNotMet',
  /** Verified=False: the signed payload names another digest, or content does not hash to its digest. */
  DigestMismatch: 'DigestMismatch',
  /** Verified=False: the signing certificate was not valid at signing time (or has expired, for Notation strict). */
  CertificateExpired: 'CertificateExpired',
  /** Scanned=True: no finding at or above failOn, and the SBOM / WASM requirements hold. */
  ScanPassed: 'ScanPassed',
  /** Scanned=False: at least one finding at or above spec.scan.failOn. */
  FindingsAtThreshold: 'FindingsAtThreshold',
  /** Scanned=False: a required SBOM is missing or a WASM import is not allowed. */
  ScanRequirementFailed: 'ScanRequirementFailed',
  /** Scanned=False: the content could not be scanned (too large, unreadable, render failure). */
  ScanError: 'ScanError',
  /** Scanned=Unknown: no scan ran (yet, or nothing scannable). */
  NotScanned: 'NotScanned',
  /** TagMutated=True: the tag was re-pushed with content that is not trusted. */
  TagMutated: 'TagMutated',
  /** TagMutated=False: the tag still points at the digest last seen (or a trusted one). */
  NoMutation: 'NoMutation',
  /** Held=True: at least one target is suspended or pinned. */
  Held: 'Held',
  /** Held=False: no target is held. */
  NotHeld: 'NotHeld',
  /**
   * Held=False: the only holds are pins at the verified digest (action Pin while trusted): the targets
   * deploy what was verified and are not blocked.
   */
  PinnedToVerified: 'PinnedToVerified',
  /** Gated=True: every target is pinned to the verified digest. */
  Pinned: 'Pinned',
  /** Gated=False: some targets have no field for a pin (Argo CD `chart:` sources, HelmChart, HelmRelease). */
  PinUnavailable: 'PinUnavailable',
  /**
   * Ready=False and Reconciling=True: a digest that is not trusted yet is being verified and scanned; the
   * targets are held meanwhile (quarantine on detection) and released when it turns out trusted.
   */
  Verifying: 'Verifying',
  /** Verified / Ready: the digest is trusted through the tagguard.dev/approve annotation. */
  ApprovedManually: 'ApprovedManually',
  /** Ready=False: resume is Manual and trust returned; waiting for the tagguard.dev/approve annotation. */
  AwaitingApproval: 'AwaitingApproval',
  /** The registry could not be reached or answered with an error; retried with backoff. */
  RegistryError: 'RegistryError',
  /** The Kubernetes API failed or refused a request tagguard needed to judge the artifact; retried with backoff. */
  KubernetesError: 'KubernetesError',
  /** An unexpected error inside tagguard while judging the artifact: a failed check (fail closed); retried. */
  InternalError: 'InternalError',
  /** The sourceRef object does not exist (yet); retried. */
  SourceNotFound: 'SourceNotFound',
  /** Stalled: the sourceRef names another namespace and --allow-cross-namespace-refs is off. */
  CrossNamespaceRefForbidden: 'CrossNamespaceRefForbidden',
  /** Stalled: the sourceRef object is of a kind or shape tagguard cannot watch (e.g. no OCI source). */
  UnsupportedSource: 'UnsupportedSource',
  /** Stalled: the spec is valid for the API server but not usable (e.g. sourceIndex out of range). */
  InvalidSpec: 'InvalidSpec',
  /** Stalled: a Secret or ConfigMap the spec names is missing or lacks the expected key. */
  TrustMaterialMissing: 'TrustMaterialMissing',
  /** A target could not be held or released (patch rejected); retried. */
  HoldFailed: 'HoldFailed',
  /** Reconciling=True: waiting for something outside tagguard (e.g. the first resolution). */
  Waiting: 'Waiting',
  /** Reconciling=True: the last attempt failed and is being retried with backoff. */
  RetryingAfterError: 'RetryingAfterError',
  /** Ready=True, sourceRef HelmRepository: no HelmRelease or HelmChart consumes the repository (nothing to judge). */
  NoConsumers: 'NoConsumers',
  /**
   * Ready=False, sourceRef HelmRepository: at least one consumed chart is untrusted or could not be judged
   * (status.charts says which; only that chart's consumers are held, by its child).
   */
  ChartsUntrusted: 'ChartsUntrusted',
  /** Ready=True, sourceRef HelmRepository: every consumed chart is trusted by its child. */
  ChartsTrusted: 'ChartsTrusted',
  /** The resource is being deleted; its holds are being released. */
  Deleting: 'Deleting',
} as const;

export type Reason = (typeof Reason)[keyof typeof Reason];
