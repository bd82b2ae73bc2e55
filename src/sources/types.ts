// What the controller needs from a GitOps sourceRef: the artifacts to watch (where, which tag or version,
// with which credentials) and the GitOps objects to hold when trust fails. Plain data; the adapters in
// flux/ and argocd/ produce it, credentials.ts turns a CredentialSource into registry credentials.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { TargetRef } from '../api/target-ref.ts';
import type { RepositoryReference } from '../registry/reference.ts';

export interface SecretRef {
  readonly namespace: string;
  readonly name: string;
}

/**
 * Where the registry credentials of an artifact come from. Secrets are named, not read: their content is
 * read when the registry is contacted (credentials.ts), so a rotated Secret is picked up.
 * - dockerconfigjson: Flux OCIRepository `secretRef` and the imagePullSecrets of its `serviceAccountName`
 *   (kubernetes.io/dockerconfigjson; the first Secret with an entry for the registry wins).
 * - basic: Flux HelmRepository `secretRef` (keys username/password, or a dockerconfigjson Secret, as Flux).
 * - argocd: an Argo CD repository or repo-creds Secret (keys username/password).
 * - argocd-helm: for an HTTP(S) Helm repository, what Argo CD's GetHelmCreds reads: the repository or
 *   repo-creds Secret (username/password, tlsClientCertData/tlsClientCertKey), if any, and the CA bundle
 *   Argo CD's repo-server finds for the repository's host name in the argocd-tls-certs-cm ConfigMap.
 */
export type CredentialSource =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'dockerconfigjson'; readonly secrets: readonly SecretRef[] }
  | { readonly kind: 'basic'; readonly secret: SecretRef }
  | { readonly kind: 'argocd'; readonly secret: SecretRef }
  | { readonly kind: 'argocd-helm'; readonly secret?: SecretRef; readonly caConfigMap?: ConfigMapKeyRef };

/** One key of a ConfigMap (Argo CD's argocd-tls-certs-cm: one key per host name). */
export interface ConfigMapKeyRef {
  readonly namespace: string;
  readonly name: string;
  readonly key: string;
}

/**
 * Whose rule picks the tag for a semver constraint: Flux's (OCIRepository `ref.semver`, the default) or
 * Argo CD's for a Helm-OCI or a native `oci://` source (src/sources/argocd/semver.ts).
 */
export type SemverRule = 'flux' | 'argocd-helm' | 'argocd-oci';

export interface WatchedArtifact {
  /** oci://host[:port]/repository */
  readonly url: string;
  /** The repository `url` names, parsed once here so that no later step parses the URL again. */
  readonly reference: RepositoryReference;
  /** Exactly one of tag / semver / digest is the reference to follow (digest > semver > tag, as Flux). */
  readonly tag?: string;
  /** A semver constraint: the highest matching tag is the one the GitOps tool would deploy. */
  readonly semver?: string;
  /** How `semver` picks a tag; absent is Flux's rule. */
  readonly semverRule?: SemverRule;
  /** Regular expression the tags must match before semver selection (Flux `ref.semverFilter`). */
  readonly semverFilter?: string;
  readonly digest?: string;
  readonly credentials: CredentialSource;
  /** Plain HTTP (Flux `spec.insecure`, Argo CD `insecureOCIForceHttp`). */
  readonly insecure: boolean;
  /** TLS without certificate verification (Argo CD `insecure`); the registry client does not offer it. */
  readonly tlsSkipVerify: boolean;
  /** A Secret with `ca.crt` (Flux `certSecretRef`). */
  readonly caSecret?: SecretRef;
  /** The values the consuming HelmRelease / Application deploys the chart with, for the scan. */
  readonly helmValues?: Record<string, unknown>;
  /** What could not be taken into account for helmValues (e.g. Argo CD valueFiles from the repository). */
  readonly helmValuesNotes?: readonly string[];
  /** Where this artifact was found, e.g. 'Application/argocd/payment sources[1]'. */
  readonly origin: string;
}

/** The GitOps objects an adapter finds to hold (defined in api/, which enforce also reads). */
export type { TargetRef };

/**
 * A chart of a classic HTTP(S) Helm repository (`index.yaml` beside archives): Flux HelmRepository of type
 * `default`, Argo CD `repoURL: https://…` with `chart`. The index's sha256 of the archive is the chart's
 * digest; a mutation is the same name and version with another digest.
 */
export interface WatchedHelmChart {
  readonly kind: 'helm-http';
  /** The repository URL as the source wrote it, without trailing slashes. */
  readonly repositoryUrl: string;
  readonly chart: string;
  /** Exactly one of version / semver: an exact version string, or a constraint the tool resolves. */
  readonly version?: string;
  readonly semver?: string;
  /** Whose rule picks the version for `semver`; absent is Flux's. */
  readonly semverRule?: SemverRule;
  /** Basic auth (Flux `secretRef` username/password), or everything Argo CD reaches the repository with. */
  readonly credentials: CredentialSource;
  /** TLS client certificate and CA: a Secret with tls.crt / tls.key / ca.crt (Flux `certSecretRef`). */
  readonly tlsSecret?: SecretRef;
  /** Flux `spec.passCredentials`: credentials also go to other hosts than the repository's. */
  readonly passCredentials: boolean;
  /** TLS without certificate verification (Argo CD `insecure`); refused. */
  readonly tlsSkipVerify: boolean;
  readonly helmValues?: Record<string, unknown>;
  readonly helmValuesNotes?: readonly string[];
  readonly origin: string;
}

/** What a source names to watch: an OCI artifact or a chart of an HTTP Helm repository. */
export type SourceArtifact = WatchedArtifact | WatchedHelmChart;

export const isHelmChart = (artifact: SourceArtifact): artifact is WatchedHelmChart =>
  'kind' in artifact && artifact.kind === 'helm-http';

/** The OCI artifacts among a source's artifacts. */
export const ociArtifacts = (artifacts: readonly SourceArtifact[]): WatchedArtifact[] =>
  artifacts.filter((a): a is WatchedArtifact => !isHelmChart(a));

export interface ResolvedSource {
  readonly artifacts: readonly SourceArtifact[];
  readonly targets: readonly TargetRef[];
}

/** Read access to the cluster; the controller implements it over informer caches or the API. */
export interface ObjectReader {
  /** undefined when the object does not exist (or its kind is not served). */
  get(
    apiVersion: string,
    kind: string,
    namespace: string,
    name: string,
  ): Promise<KubernetesObject | undefined>;
  /** namespace undefined = every namespace; labelSelector in the API's string form. */
  list(
    apiVersion: string,
    kind: string,
    namespace?: string,
    labelSelector?: string,
  ): Promise<KubernetesObject[]>;
}

export interface ResolveOptions {
  /** --allow-cross-namespace-refs: the sourceRef (and the targets found from it) may be in other namespaces. */
  readonly allowCrossNamespace: boolean;
  /** --argocd-namespace: where Argo CD's repository Secrets live. */
  readonly argocdNamespace: string;
}
