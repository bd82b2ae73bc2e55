// The source adapters against objects stored in the real API server (as the CRDs validate and default
// them), and the credentials they name used against the real authenticated TLS registry.
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { KubeTestClient } from '../../env/kube.ts';
import { packageChart } from '../../env/charts.ts';
import { pushChart, type PushedArtifact } from '../../env/oci.ts';
import { createToolHome, type ToolHome } from '../../env/tool-home.ts';
import { resolveSource } from '../../../src/sources/resolve-source.ts';
import { caBundleFromSecret, registryCredential } from '../../../src/sources/credentials.ts';
import { SourceError } from '../../../src/sources/errors.ts';
import { ociArtifacts, type WatchedArtifact } from '../../../src/sources/types.ts';
import { RegistryTransport } from '../../../src/registry/transport.ts';
import { RegistryClient } from '../../../src/registry/client.ts';
import { parseReference } from '../../../src/registry/reference.ts';
import { apiObjectReader } from './api-object-reader.ts';

const env = inject('testEnv');
const kube = KubeTestClient.fromFile(env.kubeconfig);
const reader = apiObjectReader(kube.kubeConfig);
const suffix = Date.now().toString(36);
const NS = `sources-${suffix}`;
const ARGO_NS = `argocd-${suffix}`;
const options = { allowCrossNamespace: false, argocdNamespace: ARGO_NS };
const b64 = (s: string): string => Buffer.from(s).toString('base64');

const secret = (
  namespace: string,
  name: string,
  data: Record<string, string>,
  extra: object = {},
): KubernetesObject =>
  ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
    ...extra,
  }) as KubernetesObject;

/** Resolves the watched artifact's tag with the credentials and CA the GitOps objects name. */
const resolveDigest = async (artifact: WatchedArtifact): Promise<string> => {
  const ref = parseReference(`${artifact.url}:${artifact.tag ?? ''}`);
  const credential = await registryCredential(artifact.credentials, ref.registry, reader);
  const caPem = artifact.caSecret ? await caBundleFromSecret(artifact.caSecret, reader) : undefined;
  const transport = new RegistryTransport({
    credentials: new Map([[ref.registry, credential]]),
    hostOptions: () => ({ plainHttp: artifact.insecure, ...(caPem ? { caPem } : {}) }),
  });
  return (await new RegistryClient(transport).resolve(ref)).digest;
};

describe('resolveSource against the real API server', () => {
  let home: ToolHome;
  let chart: PushedArtifact;
  const registry = env.registries.authenticated;

  beforeAll(async () => {
    home = await createToolHome(env);
    chart = await pushChart(home, registry, `sources-${suffix}`, await packageChart(home, home.dir));
    const ca = await readFile(env.registryCaFile, 'utf8');
    const auth = b64(`${registry.username ?? ''}:${registry.password ?? ''}`);
    const manifests: object[] = [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ARGO_NS } },
      secret(
        NS,
        'regcred',
        { '.dockerconfigjson': JSON.stringify({ auths: { [registry.host]: { auth } } }) },
        {
          type: 'kubernetes.io/dockerconfigjson',
        },
      ),
      secret(NS, 'registry-ca', { 'ca.crt': ca }),
      secret(NS, 'helm-auth', { username: registry.username ?? '', password: registry.password ?? '' }),
      {
        apiVersion: 'source.toolkit.fluxcd.io/v1',
        kind: 'OCIRepository',
        metadata: { name: 'payment', namespace: NS },
        spec: {
          interval: '1m',
          url: `oci://${chart.repository}`,
          ref: { tag: chart.tag },
          secretRef: { name: 'regcred' },
          certSecretRef: { name: 'registry-ca' },
        },
      },
      {
        apiVersion: 'source.toolkit.fluxcd.io/v1',
        kind: 'HelmRepository',
        metadata: { name: 'charts', namespace: NS },
        spec: {
          interval: '1m',
          type: 'oci',
          url: `oci://${registry.host}/sources-${suffix}`,
          secretRef: { name: 'helm-auth' },
          certSecretRef: { name: 'registry-ca' },
        },
      },
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'values', namespace: NS },
        data: { 'values.yaml': 'replicas: 4\n' },
      },
      {
        apiVersion: 'helm.toolkit.fluxcd.io/v2',
        kind: 'HelmRelease',
        metadata: { name: 'payment', namespace: NS },
        spec: {
          interval: '1m',
          chartRef: { kind: 'OCIRepository', name: 'payment' },
          valuesFrom: [{ kind: 'ConfigMap', name: 'values' }],
          values: { image: 'x' },
        },
      },
      {
        apiVersion: 'helm.toolkit.fluxcd.io/v2',
        kind: 'HelmRelease',
        metadata: { name: 'from-repo', namespace: NS },
        spec: {
          interval: '1m',
          chart: {
            spec: { chart: 'payment', version: '3.x', sourceRef: { kind: 'HelmRepository', name: 'charts' } },
          },
        },
      },
      {
        apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
        kind: 'Kustomization',
        metadata: { name: 'apps', namespace: NS },
        spec: { interval: '1m', prune: true, sourceRef: { kind: 'OCIRepository', name: 'payment' } },
      },
      {
        ...secret(ARGO_NS, 'registry-creds', {
          url: registry.host,
          username: registry.username ?? '',
          password: registry.password ?? '',
          type: 'helm',
          enableOCI: 'true',
        }),
        metadata: {
          name: 'registry-creds',
          namespace: ARGO_NS,
          labels: { 'argocd.argoproj.io/secret-type': 'repo-creds' },
        },
      },
      {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Application',
        metadata: { name: 'payment', namespace: NS },
        spec: {
          project: 'default',
          destination: { server: 'https://kubernetes.default.svc', namespace: NS },
          sources: [
            { repoURL: 'https://github.com/acme/config.git', path: 'apps', targetRevision: 'main' },
            {
              repoURL: `${registry.host}/sources-${suffix}`,
              chart: 'payment',
              targetRevision: chart.tag,
              helm: { valuesObject: { replicas: 2 }, parameters: [{ name: 'image', value: 'y' }] },
            },
          ],
        },
      },
    ];
    await kube.applyAll(manifests);
  });

  it('OCIRepository: the artifact and its credentials resolve the pushed digest; consumers are targets', async () => {
    const resolved = await resolveSource({ kind: 'OCIRepository', name: 'payment' }, NS, reader, options);
    expect(resolved.targets.map((t) => `${t.kind}/${t.name}`).sort()).toEqual([
      'HelmRelease/payment',
      'Kustomization/apps',
      'OCIRepository/payment',
    ]);
    const [artifact] = ociArtifacts(resolved.artifacts);
    expect(artifact?.helmValues).toEqual({ replicas: 4, image: 'x' });
    expect(await resolveDigest(artifact!)).toBe(chart.digest);
  });

  it('HelmRelease with chart.spec: the OCI HelmRepository gives url, semver and basic credentials', async () => {
    const resolved = await resolveSource({ kind: 'HelmRelease', name: 'from-repo' }, NS, reader, options);
    const [artifact] = ociArtifacts(resolved.artifacts);
    expect(artifact).toMatchObject({ url: `oci://${chart.repository}`, semver: '3.x' });
    // The version the constraint selects is what Flux would deploy; resolve it as tag here.
    expect(await resolveDigest({ ...artifact!, tag: chart.tag })).toBe(chart.digest);
  });

  it('Application: the Helm-OCI source with repo-creds from the Argo CD namespace', async () => {
    const resolved = await resolveSource({ kind: 'Application', name: 'payment' }, NS, reader, options);
    expect(resolved.artifacts).toHaveLength(1);
    const [artifact] = ociArtifacts(resolved.artifacts);
    expect(artifact).toMatchObject({
      tag: chart.tag,
      credentials: { kind: 'argocd', secret: { namespace: ARGO_NS, name: 'registry-creds' } },
      helmValues: { replicas: 2, image: 'y' },
    });
    // Argo CD's own TLS settings are not in play here; trust the test CA as the CR's certSecretRef would.
    expect(await resolveDigest({ ...artifact!, caSecret: { namespace: NS, name: 'registry-ca' } })).toBe(
      chart.digest,
    );
  });

  it('a missing object is NotFound (waiting), a cross-namespace ref is forbidden (stalled)', async () => {
    const missing = await resolveSource({ kind: 'HelmChart', name: 'absent' }, NS, reader, options).catch(
      (e: unknown) => e,
    );
    expect(missing).toBeInstanceOf(SourceError);
    expect((missing as SourceError).code).toBe('NotFound');
    const cross = await resolveSource(
      { kind: 'OCIRepository', name: 'payment', namespace: NS },
      'default',
      reader,
      options,
    ).catch((e: unknown) => e);
    expect((cross as SourceError).code).toBe('CrossNamespaceForbidden');
    expect((cross as SourceError).stalled).toBe(true);
  });
});
