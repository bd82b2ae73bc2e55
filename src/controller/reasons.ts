// Condition types, condition reasons and Event reasons the controller writes (DESIGN §4). PascalCase
// string constants; the values are API: alerts and `kubectl wait` depend on them.

export const ConditionType = {
  /** kstatus: the artifact is trusted and every target is in its intended state. */
  Ready: 'Ready',
  /** kstatus: work in progress or retrying after an error. Present only while True. */
  Reconciling: 'Reconciling',
  /** kstatus: cannot progress until the spec or a referenced object changes. Present only while True. */
  Stalled: 'Stalled',
  /** Signatures verified per spec.verify (True with NoSignatureRequired when there is none). */
  Verified: 'Verified',
  /** Content scan passed the failOn threshold (and the SBOM / WASM requirements). */
  Scanned: 'Scanned',
  /** A watched tag points at a digest other than the one last seen, and it is not trusted. */
  TagMutated: 'TagMutated',
  /** tagguard holds (suspends or pins) at least one GitOps object. */
  Held: 'Held',
} as const;

export const Reason = {
  /** Every watched digest passed every check. */
  Trusted: 'Trusted',
  /** A watched digest failed a check (the message says which). */
  Untrusted: 'Untrusted',
  Verified: 'Verified',
  NoSignatureRequired: 'NoSignatureRequired',
  SignatureMissing: 'SignatureMissing',
  SignatureInvalid: 'SignatureInvalid',
  UntrustedSigner: 'UntrustedSigner',
  ThresholdNotMet: 'ThresholdNotMet',
  DigestMismatch: 'DigestMismatch',
  CertificateExpired: 'CertificateExpired',
  ScanPassed: 'ScanPassed',
  FindingsAtThreshold: 'FindingsAtThreshold',
  ScanRequirementFailed: 'ScanRequirementFailed',
  ScanError: 'ScanError',
  NotScanned: 'NotScanned',
  TagMutated: 'TagMutated',
  NoMutation: 'NoMutation',
  Held: 'Held',
  NotHeld: 'NotHeld',
  ApprovedManually: 'ApprovedManually',
  /** resume: Manual and trust returned: waiting for the tagguard.dev/approve annotation. */
  AwaitingApproval: 'AwaitingApproval',
  RegistryError: 'RegistryError',
  /** The sourceRef object does not exist (yet). */
  SourceNotFound: 'SourceNotFound',
  /** The sourceRef names another namespace and --allow-cross-namespace-refs is off. */
  CrossNamespaceRefForbidden: 'CrossNamespaceRefForbidden',
  /** The sourceRef object is of a kind or shape tagguard cannot watch. */
  UnsupportedSource: 'UnsupportedSource',
  InvalidSpec: 'InvalidSpec',
  /** A Secret or ConfigMap the spec names is missing or lacks the key. */
  TrustMaterialMissing: 'TrustMaterialMissing',
  HoldFailed: 'HoldFailed',
  Waiting: 'Waiting',
  RetryingAfterError: 'RetryingAfterError',
  Deleting: 'Deleting',
} as const;

export const EventReason = {
  DigestChanged: 'DigestChanged',
  TagMutated: 'TagMutated',
  Verified: 'Verified',
  VerificationFailed: 'VerificationFailed',
  ScanFailed: 'ScanFailed',
  Held: 'Held',
  Released: 'Released',
  HoldReverted: 'HoldReverted',
  ApprovedManually: 'ApprovedManually',
  RegistryError: 'RegistryError',
  Pinned: 'Pinned',
} as const;
