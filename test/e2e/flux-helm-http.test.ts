// Issue 16 with the real Flux source-controller and helm-controller and an HTTP Helm repository: charts
// packaged and signed by the real `helm package --sign` (GnuPG), indexed by `helm repo index`, served by
// nginx. A HelmRelease of an exact version is trusted; the attacker re-publishes that version (new archive,
// .prov signed by his own key, new index) with a privileged init container: tagguard holds the HelmRelease
// and its HelmChart, and no privileged Deployment reaches the API server — also after source-controller is
// made to miss its per-version chart cache, which a control HelmChart of the same version (not watched)
// shows to fetch the attacker's archive. A HelmRelease of a range (1.x) stays pinned to the verified 1.0.0
// when an untrusted 1.1.0 appears in the index. The good archive comes back and the holds are released.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { join } from 'node:path';
import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import type { KubeTestClient } from '../env/kube.ts';
import { e2eNamespace, fluxReady, startFluxE2e, type FluxE2e, type FluxObject } from '../env/flux-e2e.ts';
import { startHttpChartRepository, type HttpChartRepository } from '../env/helm-http-repo.ts';
import { ProcessSupervisor } from '../env/processes.ts';
import { watchDeployments, type DeploymentHistory } from '../env/deployment-watch.ts';
import { avObject, condition, eventReasons, judged, until, waitForAv } from '../env/av.ts';

const env = inject('testEnv');
const ns = e2eNamespace('flux-helm-http');
const SOURCE_API = 'source.toolkit.fluxcd.io/v1';
const HELM_API = 'helm.toolkit.fluxcd.io/v2';
const HELD_BY = 'tagguard.dev/held-by';
const PRE_HOLD = 'tagguard.dev/pre-hold';

let e2e: FluxE2e;
let kube: KubeTestClient;
let supervisor: ProcessSupervisor;
let repo: HttpChartRepository;

type Release = FluxObject & {
  spec: { chart?: { spec?: { version?: string } } };
  status?: FluxObject['status'] & { lastAttemptedRevision?: string; history?: { chartVersion?: string }[] };
};
type Chart = FluxObject & {
  metadata: { generation?: number };
  spec: { version?: string; valuesFiles?: string[]; interval?: string };
  status?: FluxObject['status'] & {
    observedGeneration?: number;
    lastHandledReconcileAt?: string;
    artifact?: { digest?: string; revision?: string };
  };
};

const helmRelease = (name: string, version: string): KubernetesObject =>
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
          version,
          interval: '10s',
          sourceRef: { kind: 'HelmRepository', name: 'charts' },
        },
      },
      install: { disableWait: true },
      upgrade: { disableWait: true },
      values: { replicas: 1 },
    },
  }) as KubernetesObject;

/** The default action (Pin): a range is pinned to the verified version, an exact version is suspended. */
const policy = (name: string): KubernetesObject =>
  avObject(ns, name, {
    sourceRef: { kind: 'HelmRelease', name },
    interval: '10s',
    verify: { provenance: [{ name: 'release', keyring: { secretRef: { name: 'helm-keys' } } }] },
  });

const readRelease = (name: string) => e2e.read(HELM_API, 'HelmRelease', name) as Promise<Release>;
const readChart = (name: string) => e2e.read(SOURCE_API, 'HelmChart', name) as Promise<Chart>;
const generatedChart = (release: string): string => `${ns}-${release}`;
const readDeployment = (name: string) =>
  kube.read<V1Deployment & KubernetesObject>('apps/v1', 'Deployment', name, ns);
const annotations = (o: FluxObject): Record<string, string> => o.metadata?.annotations ?? {};
const untouched = (o: FluxObject): boolean =>
  o.spec.suspend === undefined &&
  annotations(o)[HELD_BY] === undefined &&
  annotations(o)[PRE_HOLD] === undefined;
const preHold = (o: FluxObject): Record<string, unknown> =>
  JSON.parse(annotations(o)[PRE_HOLD] ?? '{}') as Record<string, unknown>;
const suspendedBy = (o: FluxObject, holder: string): boolean =>
  o.spec.suspend === true && annotations(o)[HELD_BY] === holder;
/** A merge patch of a HelmChart in the namespace (metadata merged with its name and namespace). */
const patchChart = (name: string, patch: { metadata?: object; spec?: object }) =>
  kube.mergePatch(
    { apiVersion: SOURCE_API, kind: 'HelmChart', metadata: { name, namespace: ns } },
    { ...patch, metadata: { name, namespace: ns, ...patch.metadata } },
  );
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  e2e = await startFluxE2e(env, ns);
  kube = e2e.kube;
  supervisor = new ProcessSupervisor(join(env.runDir, ns));
  repo = await startHttpChartRepository(supervisor, join(env.runDir, ns), e2e.home);
}, 240_000);

afterAll(async () => {
  await e2e?.stop();
  await repo?.stop();
  await supervisor?.stopAll();
});

describe('an HTTP HelmRepository (nginx, helm package --sign, helm repo index) against real Flux controllers', () => {
  it(
    'holds the HelmRelease of a re-published version through a forced cache miss, keeps a range pinned to the verified version, then releases',
    { timeout: 600_000 },
    async () => {
      const good = await repo.publish('payment', '3.1.0', { signer: 'release' });
      const billing100 = await repo.publish('billing', '1.0.0', { signer: 'release' });
      await kube.applyAll([
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'helm-keys', namespace: ns },
          data: { 'pubring.gpg': repo.releasePublicKey.toString('base64') },
        } as KubernetesObject,
        {
          apiVersion: SOURCE_API,
          kind: 'HelmRepository',
          metadata: { name: 'charts', namespace: ns },
          spec: { interval: '10s', url: repo.url },
        } as KubernetesObject,
        helmRelease('payment', '3.1.0'),
        helmRelease('billing', '1.x'),
        // Not consumed and not watched: shows what source-controller serves on a cache miss.
        {
          apiVersion: SOURCE_API,
          kind: 'HelmChart',
          metadata: { name: 'control', namespace: ns },
          spec: {
            chart: 'payment',
            version: '3.1.0',
            interval: '10s',
            sourceRef: { kind: 'HelmRepository', name: 'charts' },
          },
        } as KubernetesObject,
        policy('payment'),
        policy('billing'),
      ]);

      for (const name of ['payment', 'billing'])
        await waitForAv(
          kube,
          ns,
          name,
          'trusted',
          (o) => condition(o, 'Ready')?.status === 'True' && condition(o, 'Verified')?.status === 'True',
          180_000,
        );
      const trustedPayment = await waitForAv(kube, ns, 'payment', 'judged', judged);
      expect(trustedPayment.status?.trustedDigest).toBe(good.digest);
      expect(trustedPayment.status?.signers).toEqual([
        expect.objectContaining({ name: 'release', type: 'provenance', format: 'provenance' }),
      ]);
      expect((await waitForAv(kube, ns, 'billing', 'judged', judged)).status?.trustedDigest).toBe(
        billing100.digest,
      );
      // The range is gated at the verified version (Pin); the exact version has nothing to pin.
      await until('billing pinned to 1.0.0, payment untouched', 60_000, async () => {
        const [payment, billing] = await Promise.all([readRelease('payment'), readRelease('billing')]);
        return (
          untouched(payment) &&
          billing.spec.chart?.spec?.version === '1.0.0' &&
          billing.spec.suspend === undefined &&
          preHold(billing)['spec.chart.spec.version'] === '1.x'
        );
      });
      for (const name of ['payment', 'billing'])
        await e2e.waitFlux(HELM_API, 'HelmRelease', name, 'Ready', fluxReady);
      await until('both Deployments applied', 90_000, async () =>
        (
          await Promise.all(
            ['payment', 'billing'].map((n) =>
              readDeployment(n).then(
                () => true,
                () => false,
              ),
            ),
          )
        ).every(Boolean),
      );
      const control = (await e2e.waitFlux(SOURCE_API, 'HelmChart', 'control', 'Ready', fluxReady)) as Chart;
      expect(control.status?.artifact?.digest).toBe(good.digest);

      // From here on, every Deployment version the API server stores.
      const deployments: DeploymentHistory = await watchDeployments(kube, ns);
      const indexBefore = (await e2e.read(SOURCE_API, 'HelmRepository', 'charts')).status?.artifact?.revision;

      // ── The attack: payment 3.1.0 re-published (archive, .prov by the attacker's key, index). ──
      const publishedAt = Date.now();
      const evil = await repo.publish('payment', '3.1.0', { malicious: true, signer: 'attacker' });
      expect(evil.digest).not.toBe(good.digest);
      const holder = `${ns}/payment`;
      await until('payment HelmRelease and HelmChart suspended by tagguard', 60_000, async () => {
        const [hr, hc] = await Promise.all([readRelease('payment'), readChart(generatedChart('payment'))]);
        return suspendedBy(hr, holder) && suspendedBy(hc, holder);
      });
      const detectionMs = Date.now() - publishedAt;
      console.log(`HTTP repository re-publish → hold: ${(detectionMs / 1000).toFixed(1)} s`);
      const held = await waitForAv(
        kube,
        ns,
        'payment',
        'judged untrusted',
        (o) => judged(o) && condition(o, 'Verified')?.status === 'False',
      );
      expect(held.status?.artifact?.digest).toBe(evil.digest);
      expect(condition(held, 'Verified')).toMatchObject({ status: 'False', reason: 'UntrustedSigner' });
      expect(condition(held, 'Verified')?.message).toMatch(/ProvenanceUnknownSigner/);
      expect(condition(held, 'TagMutated')?.status).toBe('True');
      expect(condition(held, 'Held')?.status).toBe('True');
      expect(held.status?.findings ?? []).toContainEqual(
        expect.objectContaining({ rule: 'privileged-container', severity: 'critical' }),
      );
      expect(held.status?.trustedDigest).toBe(good.digest);

      // Flux keeps a chart per version: without a cache miss, even the unwatched control HelmChart still
      // serves the good archive although its repository's index now names the attacker's.
      await e2e.waitFlux(
        SOURCE_API,
        'HelmRepository',
        'charts',
        'the new index fetched',
        (o) => o.status?.artifact?.revision !== indexBefore,
      );
      const asked = String(Date.now());
      await patchChart('control', {
        metadata: { annotations: { 'reconcile.fluxcd.io/requestedAt': asked } },
      });
      const reconciled = (await e2e.waitFlux(
        SOURCE_API,
        'HelmChart',
        'control',
        'the reconcile request handled',
        (o) => (o as Chart).status?.lastHandledReconcileAt === asked,
      )) as Chart;
      expect(reconciled.status?.artifact?.digest, 'a chart per version: no download').toBe(good.digest);

      // A cache miss: a spec change (new generation) makes source-controller download the version again
      // (BuildOptions.Force). On the control chart it brings the attacker's archive; on the held HelmChart
      // nothing happens, since source-controller skips a suspended object.
      const forceMiss = (name: string) =>
        patchChart(name, {
          metadata: { annotations: { 'reconcile.fluxcd.io/requestedAt': String(Date.now()) } },
          spec: { interval: '11s' },
        });
      await forceMiss('control');
      await forceMiss(generatedChart('payment'));
      await e2e.waitFlux(
        SOURCE_API,
        'HelmChart',
        'control',
        "the attacker's archive after the cache miss",
        (o) => (o as Chart).status?.artifact?.digest === evil.digest,
      );
      // Two more intervals of every controller for the held objects to (not) act.
      await sleep(25_000);
      const heldChart = await readChart(generatedChart('payment'));
      expect(heldChart.status?.artifact?.digest, 'the held HelmChart still serves the good archive').toBe(
        good.digest,
      );
      // The miss was asked for (source-controller even records the new generation as observed while it is
      // suspended, so the spec change is not replayed later; the release's own generation forces one).
      expect(heldChart.spec.interval).toBe('11s');
      const paymentRelease = await readRelease('payment');
      expect(suspendedBy(paymentRelease, holder)).toBe(true);
      expect(paymentRelease.status?.lastAttemptedRevision).toBe('3.1.0');

      // ── A new untrusted version in the range: billing 1.1.0 with the init container, the attacker's key. ──
      const billingRevision = (await e2e.read(SOURCE_API, 'HelmRepository', 'charts')).status?.artifact
        ?.revision;
      const billing110 = await repo.publish('billing', '1.1.0', { malicious: true, signer: 'attacker' });
      const untrusted = await waitForAv(
        kube,
        ns,
        'billing',
        '1.1.0 judged untrusted',
        (o) => o.status?.artifact?.digest === billing110.digest && judged(o),
        60_000,
      );
      expect(condition(untrusted, 'Verified')).toMatchObject({ status: 'False', reason: 'UntrustedSigner' });
      expect(untrusted.status?.artifact?.tag).toBe('1.1.0');
      expect(untrusted.status?.trustedDigest).toBe(billing100.digest);
      // source-controller has the index with 1.1.0; the HelmRelease stays pinned to the verified 1.0.0.
      await e2e.waitFlux(
        SOURCE_API,
        'HelmRepository',
        'charts',
        'the index with billing 1.1.0',
        (o) => o.status?.artifact?.revision !== billingRevision,
      );
      await sleep(25_000);
      const [billingRelease, billingChart] = await Promise.all([
        readRelease('billing'),
        readChart(generatedChart('billing')),
      ]);
      expect(billingRelease.spec.chart?.spec?.version).toBe('1.0.0');
      // While untrusted, the pin stays and the HelmRelease is also suspended (docs/holds.md: Pin falls back).
      expect(suspendedBy(billingRelease, `${ns}/billing`)).toBe(true);
      expect(billingRelease.status?.lastAttemptedRevision).toBe('1.0.0');
      expect(billingChart.status?.artifact?.revision).toBe('1.0.0');
      expect(billingChart.status?.artifact?.digest).toBe(billing100.digest);

      // ── Recovery: the good payment archive and its .prov are published again. ──
      await repo.republish(good);
      await waitForAv(
        kube,
        ns,
        'payment',
        'trusted again',
        (o) => condition(o, 'Ready')?.status === 'True' && o.status?.artifact?.digest === good.digest,
        90_000,
      );
      await until('payment released', 60_000, async () => {
        const [hr, hc] = await Promise.all([readRelease('payment'), readChart(generatedChart('payment'))]);
        return untouched(hr) && untouched(hc);
      });
      await e2e.waitFlux(HELM_API, 'HelmRelease', 'payment', 'Ready after the release', fluxReady);
      await until('Released on the payment HelmRelease', 30_000, async () =>
        (await eventReasons(kube, ns, 'payment', 'HelmRelease')).includes('Released'),
      );
      await sleep(10_000);

      deployments.stop();
      expect(
        deployments.privileged().map((d) => `${d.metadata?.name} rv ${d.metadata?.resourceVersion}`),
        'no Deployment with the privileged init container reached the API server',
      ).toEqual([]);
      expect((await readDeployment('payment')).spec?.template.spec?.initContainers).toBeUndefined();
      expect((await readDeployment('billing')).spec?.template.spec?.initContainers).toBeUndefined();
    },
  );
});
