// Typed builders of the Flux, Argo CD and core objects the source-adapter tests read.
import type { KubernetesObject } from '@kubernetes/client-node';

type Spec = Record<string, unknown>;

const object = (
  apiVersion: string,
  kind: string,
  namespace: string,
  name: string,
  rest: Spec,
): KubernetesObject => ({ apiVersion, kind, metadata: { name, namespace }, ...rest });

export const ociRepository = (namespace: string, name: string, spec: Spec): KubernetesObject =>
  object('source.toolkit.fluxcd.io/v1', 'OCIRepository', namespace, name, {
    spec: { interval: '1m', ...spec },
  });

export const helmRepository = (namespace: string, name: string, spec: Spec): KubernetesObject =>
  object('source.toolkit.fluxcd.io/v1', 'HelmRepository', namespace, name, {
    spec: { interval: '1m', ...spec },
  });

export const helmChart = (namespace: string, name: string, spec: Spec): KubernetesObject =>
  object('source.toolkit.fluxcd.io/v1', 'HelmChart', namespace, name, { spec: { interval: '1m', ...spec } });

export const helmRelease = (namespace: string, name: string, spec: Spec, status?: Spec): KubernetesObject =>
  object('helm.toolkit.fluxcd.io/v2', 'HelmRelease', namespace, name, {
    spec: { interval: '1m', ...spec },
    ...(status ? { status } : {}),
  });

export const kustomization = (namespace: string, name: string, spec: Spec): KubernetesObject =>
  object('kustomize.toolkit.fluxcd.io/v1', 'Kustomization', namespace, name, {
    spec: { interval: '1m', prune: true, ...spec },
  });

export const application = (namespace: string, name: string, spec: Spec): KubernetesObject =>
  object('argoproj.io/v1alpha1', 'Application', namespace, name, {
    spec: { project: 'default', destination: { server: 'https://kubernetes.default.svc' }, ...spec },
  });

const b64 = (value: string): string => Buffer.from(value).toString('base64');

export const secret = (
  namespace: string,
  name: string,
  data: Record<string, string>,
  options: { type?: string; labels?: Record<string, string> } = {},
): KubernetesObject =>
  ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, ...(options.labels ? { labels: options.labels } : {}) },
    type: options.type ?? 'Opaque',
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
  }) as KubernetesObject;

export const configMap = (namespace: string, name: string, data: Record<string, string>): KubernetesObject =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data }) as KubernetesObject;

export const serviceAccount = (namespace: string, name: string, pullSecrets: string[]): KubernetesObject =>
  ({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name, namespace },
    imagePullSecrets: pullSecrets.map((n) => ({ name: n })),
  }) as KubernetesObject;

export const dockerConfigSecret = (
  namespace: string,
  name: string,
  auths: Record<string, { username: string; password: string }>,
): KubernetesObject =>
  secret(
    namespace,
    name,
    {
      '.dockerconfigjson': JSON.stringify({
        auths: Object.fromEntries(
          Object.entries(auths).map(([host, c]) => [host, { auth: b64(`${c.username}:${c.password}`) }]),
        ),
      }),
    },
    { type: 'kubernetes.io/dockerconfigjson' },
  );

export const argoRepoSecret = (
  namespace: string,
  name: string,
  type: 'repository' | 'repo-creds',
  data: Record<string, string>,
): KubernetesObject => secret(namespace, name, data, { labels: { 'argocd.argoproj.io/secret-type': type } });
