// Types of the ArtifactVerification custom resource (tagguard.dev/v1alpha1), as
// docs/design.md#the-artifactverification-resource defines it. Only types live here: behaviour is elsewhere.
// The CRD in crds/ is checked against these types by a test.

export const GROUP = 'tagguard.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'ArtifactVerification';
export const PLURAL = 'artifactverifications';

export interface LocalObjectReference {
  readonly name: string;
}

export interface ConfigMapOrSecretRef {
  readonly configMapRef?: LocalObjectReference;
  readonly secretRef?: LocalObjectReference;
}

/**
 * HelmRepository (type oci) is a "parent" kind: tagguard judges no digest for it, but keeps one child
 * ArtifactVerification per consumer (HelmRelease or HelmChart) and sums up their verdicts
 * (docs/design.md#a-helmrepository-fans-out-to-one-child-per-consumer).
 */
export type SourceKind = 'OCIRepository' | 'HelmChart' | 'HelmRelease' | 'Application' | 'HelmRepository';

export interface SourceReference {
  readonly kind: SourceKind;
  readonly name: string;
  /** Default: the CR's namespace; another one only with --allow-cross-namespace-refs. */
  readonly namespace?: string;
  /** Application with spec.sources[]: which source (default: every OCI / Helm-OCI source). */
  readonly sourceIndex?: number;
}

export interface ArtifactSource {
  /** oci://host[:port]/repository */
  readonly url: string;
  readonly tag?: string;
  readonly semver?: string;
  readonly digest?: string;
  /** A kubernetes.io/dockerconfigjson Secret. */
  readonly secretRef?: LocalObjectReference;
  /** A Secret holding ca.crt for a private CA. */
  readonly certSecretRef?: LocalObjectReference;
  /** Plain HTTP, as Flux's spec.insecure. */
  readonly insecure?: boolean;
}

export interface CosignKeyless {
  /** OIDC issuer, exact match. */
  readonly issuer: string;
  /** Anchored regex over the certificate's SAN. */
  readonly subjectRegex?: string;
  /** Exact SAN; one of subject / subjectRegex. */
  readonly subject?: string;
}

export interface CosignSigner {
  readonly name: string;
  /** Inline PEM public key. */
  readonly publicKey?: string;
  /** Every *.pub key of a Secret. */
  readonly secretRef?: LocalObjectReference;
  readonly keyless?: CosignKeyless;
  /** trusted_root.json from a ConfigMap (key trusted_root.json); default: the public-good root. */
  readonly trustedRoot?: { readonly configMapRef: LocalObjectReference };
  /** Default true for keyless. */
  readonly requireTransparencyLog?: boolean;
}

export type NotationLevel = 'strict' | 'permissive' | 'audit';

export interface NotationSigner {
  readonly name: string;
  /** CA certificates (PEM): from a Secret, or inline (`pem`, what the CLI's --policy file uses). */
  readonly trustStore: { readonly secretRef?: LocalObjectReference; readonly pem?: string };
  /** As the Notary Project trust policy: 'x509.subject: …' or '*'. */
  readonly trustedIdentities: readonly string[];
  readonly level?: NotationLevel;
  /**
   * Overrides what the level does with revocation (as the trust policy's `override`): enforce fails a
   * revoked or unknown certificate, log only reports it, skip does not look. Default: the level's.
   */
  readonly revocation?: RevocationAction;
}

export type RevocationAction = 'enforce' | 'log' | 'skip';

/**
 * A Helm provenance (`.prov`, OpenPGP) signer: the keys of a Secret (every armored or binary public key in
 * its values) or one inline armored `publicKey`; exactly one of the two. docs/provenance.md.
 */
export interface ProvenanceSigner {
  readonly name: string;
  readonly keyring?: { readonly secretRef: LocalObjectReference };
  /** Inline ASCII-armored OpenPGP public key(s). */
  readonly publicKey?: string;
}

export interface VerifySpec {
  readonly minSignatures?: number;
  readonly cosign?: readonly CosignSigner[];
  readonly notation?: readonly NotationSigner[];
  readonly provenance?: readonly ProvenanceSigner[];
}

export type Severity = 'critical' | 'high' | 'medium' | 'low';
export type FailOn = Severity | 'none';

export interface ScanException {
  readonly rule: string;
  /** Kind/name, optionally namespace/Kind/name; omitted = every resource. */
  readonly resource?: string;
}

export interface ScanSpec {
  readonly failOn?: FailOn;
  readonly helm?: {
    readonly enabled?: boolean;
    readonly values?: Record<string, unknown>;
    readonly exceptions?: readonly ScanException[];
  };
  readonly sbom?: { readonly required?: boolean };
  readonly wasm?: { readonly allowedImports?: readonly string[] };
  /** Trust an artifact that is neither a Helm chart nor WASM (nothing to scan); default false: untrusted. */
  readonly allowUnknownArtifacts?: boolean;
}

export type HoldAction = 'Suspend' | 'Pin' | 'Warn';

/**
 * The action when spec.action is not set (the CRD's default too): Pin, the only one that is a gate where the
 * target has a field for it (an OCIRepository's digest, an Argo CD native OCI targetRevision). Elsewhere Pin
 * falls back to Suspend. See docs/design.md#actions-and-holds.
 */
export const DEFAULT_ACTION: HoldAction = 'Pin';
export type ResumePolicy = 'Automatic' | 'Manual';
export type ArgoSuspendMethod = 'DisableAutoSync' | 'SkipReconcile';

export interface ArtifactVerificationSpec {
  readonly sourceRef?: SourceReference;
  readonly artifact?: ArtifactSource;
  /** Go duration; default 1m, minimum 10s. */
  readonly interval?: string;
  readonly verify?: VerifySpec;
  readonly scan?: ScanSpec;
  readonly action?: HoldAction;
  readonly resume?: ResumePolicy;
  readonly argocd?: { readonly suspendMethod?: ArgoSuspendMethod };
}

export interface Condition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly observedGeneration?: number;
  readonly lastTransitionTime: string;
}

/** How a signer's signature was stored; `provenance`: a Helm `.prov` (the chart manifest's provenance layer). */
export type SignatureFormat = 'legacy' | 'bundle' | 'notation-jws' | 'notation-cose' | 'provenance';

export interface SignerStatus {
  readonly name: string;
  readonly type: 'cosign' | 'notation' | 'provenance';
  readonly format: SignatureFormat;
  readonly identity?: string;
  readonly verifiedAt: string;
}

export interface Finding {
  readonly rule: string;
  readonly severity: Severity;
  readonly resource: string;
  readonly path: string;
  readonly message: string;
}

export interface HeldTarget {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** spec.suspend | spec.syncPolicy.automated | skip-reconcile | spec.ref.digest */
  readonly method: string;
  readonly since: string;
}

export type Verdict = 'Trusted' | 'Untrusted' | 'Error';

export interface HistoryEntry {
  readonly digest: string;
  readonly tag?: string;
  readonly firstSeen: string;
  readonly verdict: Verdict;
  readonly reason?: string;
}

/** A chart's verdict as the parent shows it: the child's, or Pending while the child has not judged it. */
export type ChartVerdict = Verdict | 'Pending';

/** One chart consumed from a HelmRepository, as its child ArtifactVerification judged it. */
export interface ChartStatus {
  /** The consumer: `HelmRelease/namespace/name` or `HelmChart/namespace/name`. */
  readonly consumer: string;
  readonly chart?: string;
  readonly version?: string;
  readonly digest?: string;
  readonly verdict: ChartVerdict;
  readonly reason?: string;
  /** The child ArtifactVerification's name (same namespace as the parent). */
  readonly child: string;
}

export interface ChartCounts {
  readonly total: number;
  readonly trusted: number;
  readonly untrusted: number;
  readonly error: number;
  readonly pending: number;
}

export interface ArtifactVerificationStatus {
  readonly observedGeneration?: number;
  readonly conditions?: readonly Condition[];
  /**
   * The guarded source for display (printer column Source): `Kind/name` of the GitOps object
   * (`Kind/namespace/name` when it lives in another namespace), or the artifact URL.
   */
  readonly source?: string;
  readonly artifact?: {
    readonly url: string;
    readonly tag?: string;
    readonly digest: string;
    /**
     * `digest` cut to `algorithm:` + 12 hex digits (`digest.slice(0, 19)`), for the printer column Digest:
     * a column's JSONPath cannot shorten a string.
     */
    readonly shortDigest?: string;
    readonly mediaType?: string;
    readonly resolvedAt: string;
  };
  readonly trustedDigest?: string;
  readonly verifiedAt?: string;
  readonly signers?: readonly SignerStatus[];
  readonly findings?: readonly Finding[];
  readonly findingsCount?: number;
  readonly heldTargets?: readonly HeldTarget[];
  readonly history?: readonly HistoryEntry[];
  readonly lastFailure?: {
    readonly digest?: string;
    readonly reason: string;
    readonly message: string;
    readonly time: string;
  };
  /** sourceRef HelmRepository: each consumed chart with its child's verdict (at most 50; see chartCounts). */
  readonly charts?: readonly ChartStatus[];
  readonly chartCounts?: ChartCounts;
  /** chartCounts for the printer column Charts (`kubectl get av -o wide`), e.g. "3/4 trusted, 1 pending". */
  readonly chartsSummary?: string;
}

/** The owner of a child ArtifactVerification: its parent (controller: true), as Kubernetes garbage collection reads it. */
export interface OwnerReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly controller?: boolean;
  readonly blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly generation?: number;
  readonly resourceVersion?: string;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
  readonly finalizers?: readonly string[];
  readonly ownerReferences?: readonly OwnerReference[];
  readonly deletionTimestamp?: string;
  readonly creationTimestamp?: string;
}

export interface ArtifactVerification {
  readonly apiVersion: typeof API_VERSION;
  readonly kind: typeof KIND;
  readonly metadata: ObjectMeta;
  readonly spec: ArtifactVerificationSpec;
  readonly status?: ArtifactVerificationStatus;
}

/** Annotations tagguard reads on its CR and writes on the targets it holds. */
export const ANNOTATIONS = {
  approve: 'tagguard.dev/approve',
  requestedAt: 'tagguard.dev/requested-at',
  heldBy: 'tagguard.dev/held-by',
  preHold: 'tagguard.dev/pre-hold',
} as const;

export const FINALIZER = 'tagguard.dev/release-holds';

/**
 * Labels and annotations of a child ArtifactVerification (sourceRef HelmRepository fans out to one child per
 * consumer): the parent's name (a label value: shortened with a hash past 63 characters), the consumer's kind
 * (label) and `Kind/namespace/name` (annotation: names can be longer than a label value).
 */
export const CHILD_LABELS = {
  parent: 'tagguard.dev/parent',
  consumerKind: 'tagguard.dev/consumer-kind',
} as const;
export const CHILD_ANNOTATIONS = { consumer: 'tagguard.dev/consumer' } as const;
