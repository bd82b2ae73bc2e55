// Issue 16 with the real Flux source-controller and helm-controller: one ArtifactVerification on an OCI
// HelmRepository serving two charts, each deployed by its own HelmRelease. One chart's version is re-pushed
// with a privileged init container signed by an unknown key: only that chart's HelmRelease and HelmChart
// are held (the default action Pin has no field to pin an exact chart version to, so it suspends), the
// other release keeps deploying, no privileged Deployment reaches the API server, and the parent's status
// lists both charts with their verdicts (also in `kubectl get av -o wide`). The good chart comes back and
// every hold is released to exactly its pre-hold state.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import type { KubeTestClient } from '../env/kube.ts';
import { e2eNamespace, fluxReady, startFluxE2e, type FluxE2e, type FluxObject } from '../env/flux-e2e.ts';
import { packageChart } from '../env/charts.ts';
import { pushChart, retagArtifact, type PushedArtifact } from '../env/oci.ts';
import { signCosignLegacy, type CosignKeyPair } from '../env/sign.ts';
import { watchDeployments, type DeploymentHistory } from '../env/deployment-watch.ts';
import { avObject, condition, eventReasons, requestCheck, until, waitForAv } from '../env/av.ts';
import { kubectl } from '../integration/crd/kubectl.ts';
import { childName } from '../../src/controller/fanout/child-plan.ts';
import type { ArtifactVerification } from '../../src/api/artifact-verification.ts';

const env = inject('testEnv');
const registry = env.registries.referrers;
const ns = e2eNamespace('flux-hrepo');
const SOURCE_API = 'source.toolkit.fluxcd.io/v1';
const HELM_API = 'helm.toolkit.fluxcd.io/v2';
const CHARTS = ['payment', 'billing'] as const;
type ChartName = (typeof CHARTS)[number];

let e2e: FluxE2e;
let kube: KubeTestClient;
const good: Partial<Record<ChartName, PushedArtifact>> = {};

type Release = FluxObject & {
  metadata: { annotations?: Record<string, string> };
  spec: { values?: { replicas?: number } };
  status?: FluxObject['status'] & { lastHandledReconcileAt?: string };
};
type Chart = FluxObject & { status?: { artifact?: { digest?: string; revision?: string } } };

const push = async (name: ChartName, malicious: boolean, key: CosignKeyPair): Promise<PushedArtifact> => {
  const dir = await mkdtemp(join(tmpdir(), 'tagguard-flux-hrepo-'));
  const pushed = await pushChart(
    e2e.home,
    registry,
    `${ns}-charts`,
    await packageChart(e2e.home, dir, { name, version: '3.1.0', maliciousInitContainer: malicious }),
  );
  await signCosignLegacy(e2e.home, registry, pushed, key);
  return pushed;
};

const release = (name: ChartName, replicas: number): KubernetesObject =>
  ({
    apiVersion: HELM_API,
    kind: 'HelmRelease',
    metadata: { name, namespace: ns },
    spec: {
      interval: '10s',
      timeout: '1m',
      chart: {
        spec: {
          chart: name,
          version: '3.1.0',
          interval: '10s',
          sourceRef: { kind: 'HelmRepository', name: 'charts' },
        },
      },
      install: { disableWait: true },
      upgrade: { disableWait: true },
      values: { replicas },
    },
  }) as KubernetesObject;

const helmChartOf = (name: ChartName): string => `${ns}-${name}`;
const childOf = (name: ChartName): string =>
  childName('charts', { kind: 'HelmRelease', namespace: ns, name });

const readRelease = (name: ChartName) => e2e.read(HELM_API, 'HelmRelease', name) as Promise<Release>;
const readChart = (name: ChartName) => e2e.read(SOURCE_API, 'HelmChart', helmChartOf(name)) as Promise<Chart>;
const readDeployment = (name: ChartName) =>
  kube.read<V1Deployment & KubernetesObject>('apps/v1', 'Deployment', name, ns);

const heldBy = (o: FluxObject): string | undefined => (o.metadata?.annotations ?? {})['tagguard.dev/held-by'];
const untouched = (o: FluxObject): boolean =>
  o.spec.suspend === undefined &&
  heldBy(o) === undefined &&
  (o.metadata?.annotations ?? {})['tagguard.dev/pre-hold'] === undefined;

const verdicts = (o: ArtifactVerification) =>
  Object.fromEntries((o.status?.charts ?? []).map((c) => [c.consumer, c.verdict]));

beforeAll(async () => {
  e2e = await startFluxE2e(env, ns);
  kube = e2e.kube;
}, 240_000);

afterAll(async () => {
  await e2e?.stop();
});

describe('an OCI HelmRepository with two charts against real Flux controllers', () => {
  it(
    'holds only the consumers of the re-pushed chart, the other keeps deploying, then releases them as they were',
    { timeout: 600_000 },
    async () => {
      for (const name of CHARTS) good[name] = await push(name, false, e2e.release);
      await kube.applyAll([
        {
          apiVersion: SOURCE_API,
          kind: 'HelmRepository',
          metadata: { name: 'charts', namespace: ns },
          spec: { interval: '10s', type: 'oci', url: `oci://${registry.host}/${ns}-charts`, insecure: true },
        } as KubernetesObject,
        release('payment', 1),
        release('billing', 1),
        // The default action (Pin): an exact chart version has nothing to pin to, so a hold suspends.
        avObject(ns, 'charts', {
          sourceRef: { kind: 'HelmRepository', name: 'charts' },
          interval: '10s',
          verify: { cosign: [{ name: 'release', publicKey: e2e.release.publicKeyPem }] },
        }),
      ]);
      for (const name of CHARTS) {
        await e2e.waitFlux(HELM_API, 'HelmRelease', name, 'Ready', fluxReady);
        await e2e.waitFlux(SOURCE_API, 'HelmChart', helmChartOf(name), 'Ready', fluxReady);
      }
      const trusted = await waitForAv(
        kube,
        ns,
        'charts',
        'both charts trusted',
        (o) => o.status?.chartsSummary === '2/2 trusted' && condition(o, 'Ready')?.status === 'True',
        180_000,
      );
      expect(trusted.status?.charts?.map((c) => [c.consumer, c.chart, c.digest])).toEqual([
        [`HelmRelease/${ns}/billing`, 'billing', good.billing?.digest],
        [`HelmRelease/${ns}/payment`, 'payment', good.payment?.digest],
      ]);
      // The quarantine of the first check is over: nothing is held.
      for (const name of CHARTS)
        await until(`${name} released after its first check`, 60_000, async () => {
          const [hr, hc] = await Promise.all([readRelease(name), readChart(name)]);
          return untouched(hr) && untouched(hc);
        });
      await until('both Deployments applied', 60_000, async () =>
        (
          await Promise.all(
            CHARTS.map((n) =>
              readDeployment(n).then(
                () => true,
                () => false,
              ),
            ),
          )
        ).every(Boolean),
      );

      // Everything the API server stores from here on, and every chart artifact billing's HelmChart serves.
      const deployments: DeploymentHistory = await watchDeployments(kube, ns);
      const billingArtifacts = new Set<string>();
      let watching = true;
      const chartWatcher = (async () => {
        while (watching) {
          const digest = (await readChart('billing')).status?.artifact?.digest;
          if (digest) billingArtifacts.add(digest);
          await new Promise((r) => setTimeout(r, 250));
        }
      })();

      const evil = await push('billing', true, e2e.attacker);
      await requestCheck(kube, ns, 'charts');
      const attacked = await waitForAv(
        kube,
        ns,
        'charts',
        'billing untrusted',
        (o) => verdicts(o)[`HelmRelease/${ns}/billing`] === 'Untrusted',
        120_000,
      );
      expect(verdicts(attacked)).toEqual({
        [`HelmRelease/${ns}/billing`]: 'Untrusted',
        [`HelmRelease/${ns}/payment`]: 'Trusted',
      });
      expect(attacked.status?.charts?.[0]).toMatchObject({
        consumer: `HelmRelease/${ns}/billing`,
        digest: evil.digest,
        reason: 'UntrustedSigner',
      });
      expect(condition(attacked, 'Ready')).toMatchObject({ status: 'False', reason: 'ChartsUntrusted' });
      const holder = `${ns}/${childOf('billing')}`;
      await until("billing's HelmRelease and HelmChart held by billing's child", 60_000, async () => {
        const [hr, hc] = await Promise.all([readRelease('billing'), readChart('billing')]);
        return (
          hr.spec.suspend === true &&
          heldBy(hr) === holder &&
          hc.spec.suspend === true &&
          heldBy(hc) === holder
        );
      });
      const [paymentHr, paymentHc] = await Promise.all([readRelease('payment'), readChart('payment')]);
      expect(untouched(paymentHr), 'payment HelmRelease not held').toBe(true);
      expect(untouched(paymentHc), 'payment HelmChart not held').toBe(true);

      // payment keeps deploying: a values change reaches its Deployment. The same change to billing does
      // not: its HelmRelease is held.
      await kube.mergePatch(release('payment', 1) as KubernetesObject & { metadata: { name: string } }, {
        spec: { values: { replicas: 3 } },
      });
      await kube.mergePatch(release('billing', 1) as KubernetesObject & { metadata: { name: string } }, {
        spec: { values: { replicas: 3 } },
      });
      await until(
        'payment deployed with 3 replicas',
        90_000,
        async () => (await readDeployment('payment')).spec?.replicas === 3,
      );
      // Two more helm-controller intervals for billing to (not) act.
      await new Promise((r) => setTimeout(r, 25_000));
      expect((await readDeployment('billing')).spec?.replicas).toBe(1);

      await until('Warning ChartUntrusted on the parent', 30_000, async () =>
        (await eventReasons(kube, ns, 'charts', 'ArtifactVerification')).includes('ChartUntrusted'),
      );
      const wide = await kubectl(env.kubeconfig, ['get', 'av', 'charts', '-n', ns, '-o', 'wide']);
      expect(wide.exitCode, wide.stderr).toBe(0);
      expect(wide.stdout).toMatch(/CHARTS/);
      expect(wide.stdout).toContain('1/2 trusted, 1 untrusted');
      const described = await kubectl(env.kubeconfig, ['describe', 'av', 'charts', '-n', ns]);
      expect(described.stdout).toContain(`HelmRelease/${ns}/billing`);
      expect(described.stdout).toContain('UntrustedSigner');

      // Trust returns: the good chart is tagged 3.1.0 again.
      await retagArtifact(e2e.home, registry, good.billing as PushedArtifact, '3.1.0');
      await requestCheck(kube, ns, 'charts');
      await waitForAv(
        kube,
        ns,
        'charts',
        'both trusted again',
        (o) => o.status?.chartsSummary === '2/2 trusted' && condition(o, 'Ready')?.status === 'True',
        120_000,
      );
      await until('billing released', 60_000, async () => {
        const [hr, hc] = await Promise.all([readRelease('billing'), readChart('billing')]);
        return untouched(hr) && untouched(hc);
      });
      // Released as it was, and helm-controller takes the held values change with the good chart.
      await until(
        'billing deployed with 3 replicas',
        120_000,
        async () => (await readDeployment('billing')).spec?.replicas === 3,
      );
      await e2e.waitFlux(HELM_API, 'HelmRelease', 'billing', 'Ready', fluxReady);

      watching = false;
      await chartWatcher;
      deployments.stop();
      expect(
        deployments.privileged().map((d) => d.metadata?.name),
        'no Deployment with the privileged init container reached the API server',
      ).toEqual([]);
      expect(deployments.versions.length).toBeGreaterThan(0);
      expect([...billingArtifacts], "billing's HelmChart never served another chart").toHaveLength(1);
      expect(evil.digest).not.toBe(good.billing?.digest);
      await until('Released on the billing HelmRelease', 15_000, async () =>
        (await eventReasons(kube, ns, 'billing', 'HelmRelease')).includes('Released'),
      );
    },
  );
});
