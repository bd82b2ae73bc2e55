// The real Flux source-controller and helm-controller deploy a chart from the referrers registry: the
// OCIRepository fetches exactly the pushed manifest, the HelmRelease installs it (wait disabled: there is
// no kubelet), and tagguard's source adapter reads the same objects to the same digest.
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CoreV1Api, type KubernetesObject } from '@kubernetes/client-node';
import { KubeTestClient } from '../env/kube.ts';
import { packageChart } from '../env/charts.ts';
import { pushChart, type PushedArtifact } from '../env/oci.ts';
import { createToolHome, type ToolHome } from '../env/tool-home.ts';
import { ProcessSupervisor, waitFor } from '../env/processes.ts';
import { startFluxControllers, type FluxControllers } from '../env/flux.ts';
import { apiObjectReader } from '../integration/sources/api-object-reader.ts';
import { resolveSource } from '../../src/sources/resolve-source.ts';
import { RegistryTransport } from '../../src/registry/transport.ts';
import { RegistryClient } from '../../src/registry/client.ts';
import { parseReference } from '../../src/registry/reference.ts';
import { ociArtifacts } from '../../src/sources/types.ts';

const env = inject('testEnv');
const kube = KubeTestClient.fromFile(env.kubeconfig);
const registry = env.registries.referrers;
const NS = `flux-smoke-${Date.now().toString(36)}`;
const HELM_CHART_LAYER = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';

interface FluxStatus {
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
  artifact?: { revision?: string; digest?: string };
  lastAttemptedRevision?: string;
}
type FluxObject = KubernetesObject & { status?: FluxStatus };

const ready = (object: FluxObject): boolean =>
  object.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

const describeStatus = (object: FluxObject | undefined): string =>
  JSON.stringify(
    object?.status?.conditions?.map((c) => `${c.type}=${c.status} ${c.reason ?? ''}: ${c.message ?? ''}`),
  );

const waitReady = async (apiVersion: string, kind: string, name: string): Promise<FluxObject> => {
  let last: FluxObject | undefined;
  try {
    return await waitFor(
      `${kind} ${NS}/${name} Ready`,
      async () => {
        last = await kube.read<FluxObject>(apiVersion, kind, name, NS);
        return ready(last) ? last : undefined;
      },
      { timeoutMs: 150_000, intervalMs: 1000 },
    );
  } catch (error) {
    throw new Error(`${String(error)}\nlast status: ${describeStatus(last)}`, { cause: error });
  }
};

describe('Flux source-controller and helm-controller (end to end)', () => {
  let supervisor: ProcessSupervisor;
  let flux: FluxControllers;
  let home: ToolHome;
  let chart: PushedArtifact;
  let chartLayerDigest: string;

  beforeAll(async () => {
    const dir = join(env.runDir, `flux-${NS}`);
    await mkdir(dir, { recursive: true });
    // Its own supervisor (and process-group file) in a subdirectory: the global one belongs to the setup.
    supervisor = new ProcessSupervisor(dir);
    home = await createToolHome(env);
    const tgz = await packageChart(home, home.dir, { version: '1.0.0' });
    chartLayerDigest = `sha256:${createHash('sha256')
      .update(await readFile(tgz))
      .digest('hex')}`;
    [flux, chart] = await Promise.all([
      startFluxControllers(supervisor, dir, env.kubeconfig, { namespace: NS }),
      pushChart(home, registry, `${NS}/charts`, tgz),
    ]);
  }, 240_000);

  afterAll(async () => {
    await flux?.stop();
    await supervisor?.stopAll();
  });

  it(
    'fetches the pushed chart, installs it, and tagguard resolves the same digest',
    { timeout: 300_000 },
    async () => {
      await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
      const manifests: object[] = [
        {
          apiVersion: 'source.toolkit.fluxcd.io/v1',
          kind: 'OCIRepository',
          metadata: { name: 'payment', namespace: NS },
          spec: {
            interval: '10s',
            url: `oci://${chart.repository}`,
            ref: { tag: chart.tag },
            insecure: true,
            layerSelector: { mediaType: HELM_CHART_LAYER, operation: 'copy' },
          },
        },
        {
          apiVersion: 'helm.toolkit.fluxcd.io/v2',
          kind: 'HelmRelease',
          metadata: { name: 'payment', namespace: NS },
          spec: {
            interval: '10s',
            timeout: '1m',
            chartRef: { kind: 'OCIRepository', name: 'payment' },
            install: { disableWait: true },
            upgrade: { disableWait: true },
            values: { replicas: 1 },
          },
        },
      ];
      await kube.applyAll(manifests);

      const repo = await waitReady('source.toolkit.fluxcd.io/v1', 'OCIRepository', 'payment');
      // Flux records the manifest digest in the revision; the stored artifact is the chart layer, copied as is.
      expect(repo.status?.artifact?.revision).toBe(`${chart.tag}@${chart.digest}`);
      expect(repo.status?.artifact?.digest).toBe(chartLayerDigest);

      await waitReady('helm.toolkit.fluxcd.io/v2', 'HelmRelease', 'payment');
      const core = kube.kubeConfig.makeApiClient(CoreV1Api);
      const releases = await core.listNamespacedSecret({
        namespace: NS,
        labelSelector: 'owner=helm,name=payment',
      });
      expect(releases.items.map((s) => s.metadata?.name)).toContain('sh.helm.release.v1.payment.v1');
      const deployment = await kube.read('apps/v1', 'Deployment', 'payment', NS);
      expect(deployment.metadata?.name).toBe('payment');

      const resolved = await resolveSource(
        { kind: 'HelmRelease', name: 'payment' },
        NS,
        apiObjectReader(kube.kubeConfig),
        {
          allowCrossNamespace: false,
          argocdNamespace: 'argocd',
        },
      );
      expect(resolved.targets.map((t) => t.kind)).toEqual(['HelmRelease', 'OCIRepository']);
      const [artifact] = ociArtifacts(resolved.artifacts);
      expect(artifact?.helmValues).toEqual({ replicas: 1 });
      const transport = new RegistryTransport({
        hostOptions: () => ({ plainHttp: artifact?.insecure ?? false }),
      });
      const ref = parseReference(`${artifact?.url ?? ''}:${artifact?.tag ?? ''}`);
      expect((await new RegistryClient(transport).resolve(ref)).digest).toBe(chart.digest);
    },
  );

  it(
    'installs from an OCI HelmRepository by semver; tagguard finds the HelmChart helm-controller made and its owner',
    { timeout: 300_000 },
    async () => {
      const manifests: object[] = [
        {
          apiVersion: 'source.toolkit.fluxcd.io/v1',
          kind: 'HelmRepository',
          metadata: { name: 'charts', namespace: NS },
          spec: { interval: '10s', type: 'oci', url: `oci://${registry.host}/${NS}/charts`, insecure: true },
        },
        {
          apiVersion: 'helm.toolkit.fluxcd.io/v2',
          kind: 'HelmRelease',
          metadata: { name: 'from-repo', namespace: NS },
          spec: {
            interval: '10s',
            timeout: '1m',
            chart: {
              spec: {
                chart: 'payment',
                version: '1.x',
                sourceRef: { kind: 'HelmRepository', name: 'charts' },
              },
            },
            install: { disableWait: true },
            upgrade: { disableWait: true },
          },
        },
      ];
      await kube.applyAll(manifests);
      const release = await waitReady('helm.toolkit.fluxcd.io/v2', 'HelmRelease', 'from-repo');
      const chartName = `${NS}-from-repo`;
      expect((release.status as { helmChart?: string } | undefined)?.helmChart).toBe(`${NS}/${chartName}`);
      const helmChart = await waitReady('source.toolkit.fluxcd.io/v1', 'HelmChart', chartName);
      expect(helmChart.status?.artifact?.revision).toBe(chart.tag);

      const reader = apiObjectReader(kube.kubeConfig);
      const options = { allowCrossNamespace: false, argocdNamespace: 'argocd' };
      const fromRelease = await resolveSource(
        { kind: 'HelmRelease', name: 'from-repo' },
        NS,
        reader,
        options,
      );
      expect(fromRelease.targets.map((t) => `${t.kind}/${t.name}`)).toEqual([
        'HelmRelease/from-repo',
        `HelmChart/${chartName}`,
      ]);
      expect(fromRelease.artifacts[0]).toMatchObject({ url: `oci://${chart.repository}`, semver: '1.x' });
      const fromChart = await resolveSource({ kind: 'HelmChart', name: chartName }, NS, reader, options);
      expect(fromChart.targets.map((t) => `${t.kind}/${t.name}`)).toEqual([
        `HelmChart/${chartName}`,
        'HelmRelease/from-repo',
      ]);
    },
  );
});
