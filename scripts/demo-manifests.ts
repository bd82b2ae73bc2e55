// The objects the demo creates: a Flux OCIRepository + HelmRelease, an Argo CD Application (Helm-OCI source,
// automated sync) with its repository Secret, a HelmRelease from an HTTP HelmRepository (nginx) with the
// provenance keyring Secret, and one ArtifactVerification guarding each; and one for tagguard's own chart.
import type { KubernetesObject } from '@kubernetes/client-node';

export const FLUX_NAMESPACE = 'demo';
export const ARGOCD_NAMESPACE = 'argocd';
export const NAME = 'payment';
export const CHART_VERSION = '3.1.0';
const HELM_CHART_LAYER = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';

export interface DemoChart {
  /** host:port of the plain-HTTP registry with the referrers API. */
  registryHost: string;
  /** The repository the chart is pushed under: <host>/charts/payment. */
  repository: string;
}

const namespace = (name: string): KubernetesObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name },
});

/**
 * Flux polls its source every 10 minutes here, tagguard every 10 s: the hold lands long before Flux looks
 * again. (Where that race matters, `action: Pin` closes it: Flux then only ever sees verified digests.)
 */
export const fluxObjects = (chart: DemoChart): KubernetesObject[] => [
  namespace(FLUX_NAMESPACE),
  {
    apiVersion: 'source.toolkit.fluxcd.io/v1',
    kind: 'OCIRepository',
    metadata: { name: NAME, namespace: FLUX_NAMESPACE },
    spec: {
      interval: '10m',
      url: `oci://${chart.repository}`,
      ref: { tag: CHART_VERSION },
      insecure: true,
      layerSelector: { mediaType: HELM_CHART_LAYER, operation: 'copy' },
    },
  } as KubernetesObject,
  {
    apiVersion: 'helm.toolkit.fluxcd.io/v2',
    kind: 'HelmRelease',
    metadata: { name: NAME, namespace: FLUX_NAMESPACE },
    spec: {
      interval: '10m',
      timeout: '1m',
      chartRef: { kind: 'OCIRepository', name: NAME },
      // No kubelet runs in the demo: nothing would ever become ready.
      install: { disableWait: true },
      upgrade: { disableWait: true },
      values: { replicas: 1 },
    },
  } as KubernetesObject,
];

export const argoObjects = (chart: DemoChart): KubernetesObject[] => {
  const repoURL = `${chart.registryHost}/charts`;
  return [
    namespace(ARGOCD_NAMESPACE),
    {
      // Argo CD's repository Secret: the registry speaks plain HTTP (insecureOCIForceHttp); tagguard reads
      // it exactly as Argo CD would.
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'demo-charts',
        namespace: ARGOCD_NAMESPACE,
        labels: { 'argocd.argoproj.io/secret-type': 'repository' },
      },
      stringData: {
        name: 'demo-charts',
        type: 'helm',
        url: repoURL,
        enableOCI: 'true',
        insecureOCIForceHttp: 'true',
      },
    } as KubernetesObject,
    {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: NAME, namespace: ARGOCD_NAMESPACE },
      spec: {
        project: 'default',
        source: {
          repoURL,
          chart: NAME,
          targetRevision: CHART_VERSION,
          helm: { valuesObject: { replicas: 1 } },
        },
        destination: { server: 'https://kubernetes.default.svc', namespace: NAME },
        syncPolicy: { automated: { prune: true, selfHeal: true } },
      },
    } as KubernetesObject,
  ];
};

const artifactVerification = (
  namespace: string,
  kind: 'HelmRelease' | 'Application',
  publicKeyPem: string,
): KubernetesObject =>
  ({
    apiVersion: 'tagguard.dev/v1alpha1',
    kind: 'ArtifactVerification',
    metadata: { name: NAME, namespace },
    spec: {
      sourceRef: { kind, name: NAME },
      interval: '10s',
      verify: { minSignatures: 1, cosign: [{ name: 'release-key', publicKey: publicKeyPem }] },
      scan: { failOn: 'high' },
      action: 'Suspend',
      resume: 'Automatic',
    },
  }) as KubernetesObject;

export const artifactVerifications = (publicKeyPem: string): KubernetesObject[] => [
  artifactVerification(FLUX_NAMESPACE, 'HelmRelease', publicKeyPem),
  artifactVerification(ARGOCD_NAMESPACE, 'Application', publicKeyPem),
];

// ─── The HTTP repository scene ──────────────────────────────────────────────────────────────────────────
export const HTTP_NAMESPACE = 'demo-http';

/**
 * A classic Helm repository (nginx) as a Flux HelmRepository of type default, a HelmRelease of the exact
 * version from it, the release signer's public key and an ArtifactVerification that wants a Helm provenance
 * signature (.prov) by that key. Flux polls the index every 10 minutes, tagguard every 10 s.
 */
export const httpRepositoryObjects = (
  repositoryUrl: string,
  releasePublicKey: Buffer,
): KubernetesObject[] => [
  namespace(HTTP_NAMESPACE),
  {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'helm-keys', namespace: HTTP_NAMESPACE },
    data: { 'pubring.gpg': releasePublicKey.toString('base64') },
  } as KubernetesObject,
  {
    apiVersion: 'source.toolkit.fluxcd.io/v1',
    kind: 'HelmRepository',
    metadata: { name: 'charts', namespace: HTTP_NAMESPACE },
    spec: { interval: '10m', url: repositoryUrl },
  } as KubernetesObject,
  {
    apiVersion: 'helm.toolkit.fluxcd.io/v2',
    kind: 'HelmRelease',
    metadata: { name: NAME, namespace: HTTP_NAMESPACE },
    spec: {
      interval: '10m',
      timeout: '1m',
      chart: {
        spec: {
          chart: NAME,
          version: CHART_VERSION,
          interval: '10m',
          sourceRef: { kind: 'HelmRepository', name: 'charts' },
        },
      },
      install: { disableWait: true },
      upgrade: { disableWait: true },
      values: { replicas: 1 },
    },
  } as KubernetesObject,
  {
    apiVersion: 'tagguard.dev/v1alpha1',
    kind: 'ArtifactVerification',
    metadata: { name: NAME, namespace: HTTP_NAMESPACE },
    spec: {
      sourceRef: { kind: 'HelmRelease', name: NAME },
      interval: '10s',
      verify: { provenance: [{ name: 'release', keyring: { secretRef: { name: 'helm-keys' } } }] },
      scan: { failOn: 'high' },
      action: 'Suspend',
      resume: 'Automatic',
    },
  } as KubernetesObject,
];

// ─── tagguard's own chart ───────────────────────────────────────────────────────────────────────────────
export const OPERATOR_NAMESPACE = 'tagguard-system';
export const OPERATOR_CHART = 'tagguard';

/**
 * tagguard guarding its own chart (charts/tagguard) as published to the registry: a raw OCI artifact, no
 * GitOps object (users install it with helm install), so action Warn: Events, status and metrics only.
 */
export const operatorChartVerification = (
  repository: string,
  version: string,
  publicKeyPem: string,
): KubernetesObject[] => [
  namespace(OPERATOR_NAMESPACE),
  {
    apiVersion: 'tagguard.dev/v1alpha1',
    kind: 'ArtifactVerification',
    metadata: { name: OPERATOR_CHART, namespace: OPERATOR_NAMESPACE },
    spec: {
      artifact: { url: `oci://${repository}`, tag: version, insecure: true },
      interval: '10s',
      verify: { minSignatures: 1, cosign: [{ name: 'release-key', publicKey: publicKeyPem }] },
      scan: { failOn: 'high' },
      action: 'Warn',
    },
  } as KubernetesObject,
];
