// sourceRef HelmRepository against the real API server (the operator under config/rbac), olareg and cosign:
// the parent keeps one child ArtifactVerification per consumer — a consumer that appears gets a child, one
// that goes loses it and its holds are released, a child's spec edited by hand is overwritten, deleting
// the parent deletes every child and releases every hold (no kube-controller-manager runs here: no garbage
// collector, the parent's finalizer does it) — and only the consumers of an untrusted chart are held.
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { KubeTestClient } from '../../env/kube.ts';
import { avObject, condition, readAv, requestCheck, until, waitForAv } from '../../env/av.ts';
import { createToolHome, type ToolHome } from '../../env/tool-home.ts';
import { packageChart } from '../../env/charts.ts';
import { pushChart, retagArtifact, type PushedArtifact } from '../../env/oci.ts';
import { generateCosignKeyPair, signCosignLegacy, type CosignKeyPair } from '../../env/sign.ts';
import { startInProcessOperator } from '../../env/operator.ts';
import type { RunningOperator } from '../../../src/cli/run-command.ts';
import type { ArtifactVerification } from '../../../src/api/artifact-verification.ts';
import { childName } from '../../../src/controller/fanout/child-plan.ts';

const env = inject('testEnv');
const registry = env.registries.referrers;
const ns = `hrepo-${Math.random().toString(36).slice(2, 7)}`;
const SOURCE_API = 'source.toolkit.fluxcd.io/v1';
const HELM_API = 'helm.toolkit.fluxcd.io/v2';
const AV_API = 'tagguard.dev/v1alpha1';

let kube: KubeTestClient;
let home: ToolHome;
let key: CosignKeyPair;
let operator: RunningOperator;
const good: Record<string, PushedArtifact> = {};

type Flux = KubernetesObject & {
  spec: { suspend?: boolean };
  metadata: { annotations?: Record<string, string> };
};

const push = async (name: string, malicious: boolean): Promise<PushedArtifact> => {
  const dir = await mkdtemp(join(tmpdir(), 'tagguard-hrepo-'));
  const pushed = await pushChart(
    home,
    registry,
    `${ns}-charts`,
    await packageChart(home, dir, { name, version: '3.1.0', maliciousInitContainer: malicious }),
  );
  if (!malicious) await signCosignLegacy(home, registry, pushed, key);
  return pushed;
};

const release = (name: string, chart: string, repository = 'charts'): KubernetesObject =>
  ({
    apiVersion: HELM_API,
    kind: 'HelmRelease',
    metadata: { name, namespace: ns },
    spec: {
      interval: '10m',
      chart: { spec: { chart, version: '3.1.0', sourceRef: { kind: 'HelmRepository', name: repository } } },
      values: { replicas: 1 },
    },
  }) as KubernetesObject;

const parent = (name: string, sourceRef: Record<string, string>): KubernetesObject =>
  avObject(ns, name, {
    sourceRef,
    interval: '10s',
    action: 'Suspend',
    verify: { cosign: [{ name: 'release', publicKey: key.publicKeyPem }] },
  });

const consumerOf = (kind: 'HelmRelease' | 'HelmChart', name: string) => ({ kind, namespace: ns, name });
const child = (kind: 'HelmRelease' | 'HelmChart', name: string, parentName = 'charts') =>
  childName(parentName, consumerOf(kind, name));

const listChildren = async (parentName: string): Promise<ArtifactVerification[]> => {
  const list = await kube.objects.list(
    AV_API,
    'ArtifactVerification',
    ns,
    undefined,
    undefined,
    undefined,
    undefined,
    `tagguard.dev/parent=${parentName}`,
  );
  return list.items as unknown as ArtifactVerification[];
};

const exists = async (apiVersion: string, kind: string, name: string): Promise<boolean> =>
  kube.read(apiVersion, kind, name, ns).then(
    () => true,
    (error: unknown) => {
      if ((error as { code?: number }).code === 404) return false;
      throw error;
    },
  );

const readFlux = (apiVersion: string, kind: string, name: string): Promise<Flux> =>
  kube.read<Flux>(apiVersion, kind, name, ns);

const held = (o: Flux): boolean =>
  o.spec.suspend === true && o.metadata.annotations?.['tagguard.dev/held-by'] !== undefined;
const untouched = (o: Flux): boolean =>
  o.spec.suspend === undefined &&
  o.metadata.annotations?.['tagguard.dev/held-by'] === undefined &&
  o.metadata.annotations?.['tagguard.dev/pre-hold'] === undefined;

const chartsOf = (o: ArtifactVerification) =>
  Object.fromEntries((o.status?.charts ?? []).map((c) => [c.consumer, c.verdict]));

beforeAll(async () => {
  kube = KubeTestClient.fromFile(env.kubeconfig);
  home = await createToolHome(env);
  key = await generateCosignKeyPair(home, 'release');
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `${ns}-other` } });
  operator = await startInProcessOperator(env, ['--watch-namespace', ns]);
  for (const name of ['payment', 'billing']) good[name] = await push(name, false);
  await kube.applyAll([
    {
      apiVersion: SOURCE_API,
      kind: 'HelmRepository',
      metadata: { name: 'charts', namespace: ns },
      spec: { interval: '10m', type: 'oci', url: `oci://${registry.host}/${ns}-charts`, insecure: true },
    } as KubernetesObject,
    {
      apiVersion: SOURCE_API,
      kind: 'HelmRepository',
      metadata: { name: 'web', namespace: ns },
      spec: { interval: '10m', url: 'https://charts.example.com' },
    } as KubernetesObject,
    release('payment', 'payment'),
    release('billing', 'billing'),
  ]);
}, 120_000);

afterAll(async () => {
  await operator?.shutdown('test done');
});

describe('sourceRef HelmRepository (type oci): one child per consumer', () => {
  it(
    'watches every consumer, holds only the consumers of a re-pushed chart, follows consumers that come and go, and releases everything when deleted',
    { timeout: 300_000 },
    async () => {
      await kube.apply(parent('charts', { kind: 'HelmRepository', name: 'charts' }));
      const trusted = await waitForAv(
        kube,
        ns,
        'charts',
        'both charts trusted',
        (o) => o.status?.chartsSummary === '2/2 trusted' && condition(o, 'Ready')?.status === 'True',
      );
      expect(condition(trusted, 'Ready')).toMatchObject({ reason: 'ChartsTrusted', observedGeneration: 1 });
      expect(trusted.status?.charts?.map((c) => [c.consumer, c.chart, c.version, c.digest, c.child])).toEqual(
        [
          [
            `HelmRelease/${ns}/billing`,
            'billing',
            '3.1.0',
            good.billing?.digest,
            child('HelmRelease', 'billing'),
          ],
          [
            `HelmRelease/${ns}/payment`,
            'payment',
            '3.1.0',
            good.payment?.digest,
            child('HelmRelease', 'payment'),
          ],
        ],
      );
      const children = await listChildren('charts');
      expect(children.map((c) => c.metadata.name).sort()).toEqual(
        [child('HelmRelease', 'billing'), child('HelmRelease', 'payment')].sort(),
      );
      for (const c of children) {
        expect(c.metadata.ownerReferences).toEqual([
          expect.objectContaining({
            kind: 'ArtifactVerification',
            name: 'charts',
            uid: trusted.metadata.uid,
            controller: true,
            blockOwnerDeletion: true,
          }),
        ]);
        expect(c.spec.action).toBe('Suspend');
        expect(c.spec.verify?.cosign?.[0]?.publicKey).toBe(key.publicKeyPem);
      }

      // A restart finds the same children (deterministic names), and a re-check asked on the parent reaches them.
      const uids = children.map((c) => c.metadata.uid).sort();
      await operator.shutdown('restart');
      operator = await startInProcessOperator(env, ['--watch-namespace', ns]);
      const asked = await requestCheck(kube, ns, 'charts');
      const askedAt = asked.metadata?.annotations?.['tagguard.dev/requested-at'];
      await until('the re-check handed to both children', 30_000, async () =>
        (await listChildren('charts')).every(
          (c) => c.metadata.annotations?.['tagguard.dev/requested-at'] === askedAt,
        ),
      );
      expect((await listChildren('charts')).map((c) => c.metadata.uid).sort()).toEqual(uids);

      // A consumer appears: a HelmChart of its own (no HelmRelease generated it).
      await kube.apply({
        apiVersion: SOURCE_API,
        kind: 'HelmChart',
        metadata: { name: 'audit', namespace: ns },
        spec: {
          interval: '10m',
          chart: 'payment',
          version: '3.1.0',
          sourceRef: { kind: 'HelmRepository', name: 'charts' },
        },
      } as KubernetesObject);
      await waitForAv(
        kube,
        ns,
        'charts',
        'the new consumer judged',
        (o) => o.status?.chartsSummary === '3/3 trusted',
      );
      expect(await exists(AV_API, 'ArtifactVerification', child('HelmChart', 'audit'))).toBe(true);

      // A child's spec edited by hand is overwritten from the parent.
      const drifted = child('HelmRelease', 'payment');
      await kube.mergePatch(
        { apiVersion: AV_API, kind: 'ArtifactVerification', metadata: { name: drifted, namespace: ns } },
        { spec: { action: 'Warn' } },
      );
      await until(
        'the drifted spec overwritten',
        30_000,
        async () => (await readAv(kube, ns, drifted)).spec.action === 'Suspend',
      );

      // The attack: billing's 3.1.0 re-pushed, unsigned, with a privileged init container.
      await push('billing', true);
      await requestCheck(kube, ns, 'charts');
      const attacked = await waitForAv(
        kube,
        ns,
        'charts',
        'billing untrusted',
        (o) => chartsOf(o)[`HelmRelease/${ns}/billing`] === 'Untrusted',
      );
      expect(condition(attacked, 'Ready')).toMatchObject({ status: 'False', reason: 'ChartsUntrusted' });
      expect(attacked.status?.chartsSummary).toBe('2/3 trusted, 1 untrusted');
      expect(attacked.status?.charts?.[0]).toMatchObject({
        consumer: `HelmRelease/${ns}/billing`,
        reason: 'SignatureMissing',
      });
      await until('the billing HelmRelease held', 30_000, async () =>
        held(await readFlux(HELM_API, 'HelmRelease', 'billing')),
      );
      await until(
        'the parent Held',
        30_000,
        async () => condition(await readAv(kube, ns, 'charts'), 'Held')?.status === 'True',
      );
      expect(untouched(await readFlux(HELM_API, 'HelmRelease', 'payment'))).toBe(true);
      expect(untouched(await readFlux(SOURCE_API, 'HelmChart', 'audit'))).toBe(true);

      // The consumer goes (points at another repository): its child is deleted and its hold released.
      await kube.apply(release('billing', 'billing', 'elsewhere'));
      await until(
        'the billing child deleted',
        60_000,
        async () => !(await exists(AV_API, 'ArtifactVerification', child('HelmRelease', 'billing'))),
      );
      expect(untouched(await readFlux(HELM_API, 'HelmRelease', 'billing'))).toBe(true);
      const after = await waitForAv(
        kube,
        ns,
        'charts',
        'two charts left, trusted',
        (o) => o.status?.chartsSummary === '2/2 trusted',
      );
      expect(condition(after, 'Ready')?.status).toBe('True');

      // A hold again (payment re-pushed), then the parent is deleted: every child goes, every hold is released.
      await push('payment', true);
      await requestCheck(kube, ns, 'charts');
      await until(
        'payment and audit held',
        60_000,
        async () =>
          held(await readFlux(HELM_API, 'HelmRelease', 'payment')) &&
          held(await readFlux(SOURCE_API, 'HelmChart', 'audit')),
      );
      await kube.objects.delete({
        apiVersion: AV_API,
        kind: 'ArtifactVerification',
        metadata: { name: 'charts', namespace: ns },
      });
      await until(
        'the parent gone',
        60_000,
        async () => !(await exists(AV_API, 'ArtifactVerification', 'charts')),
      );
      expect(await listChildren('charts')).toEqual([]);
      expect(untouched(await readFlux(HELM_API, 'HelmRelease', 'payment'))).toBe(true);
      expect(untouched(await readFlux(SOURCE_API, 'HelmChart', 'audit'))).toBe(true);
      expect(good.payment).toBeDefined();
      await retagArtifact(home, registry, good.payment as PushedArtifact, '3.1.0');
    },
  );

  it(
    'with --allow-cross-namespace-refs watches consumers in every namespace',
    { timeout: 120_000 },
    async () => {
      const other = `${ns}-other`;
      // Its own repository and consumers: the operator of this file's namespace must not hold them too.
      await kube.applyAll([
        {
          apiVersion: SOURCE_API,
          kind: 'HelmRepository',
          metadata: { name: 'shared', namespace: ns },
          spec: { interval: '10m', type: 'oci', url: `oci://${registry.host}/${ns}-charts`, insecure: true },
        } as KubernetesObject,
        release('desk', 'payment', 'shared'),
        {
          apiVersion: HELM_API,
          kind: 'HelmRelease',
          metadata: { name: 'shop', namespace: other },
          spec: {
            interval: '10m',
            chart: {
              spec: {
                chart: 'payment',
                version: '3.1.0',
                sourceRef: { kind: 'HelmRepository', name: 'shared', namespace: ns },
              },
            },
          },
        } as KubernetesObject,
      ]);
      const across = await startInProcessOperator(env, [
        '--watch-namespace',
        other,
        '--allow-cross-namespace-refs',
      ]);
      try {
        await kube.apply(
          avObject(other, 'shared', {
            sourceRef: { kind: 'HelmRepository', name: 'shared', namespace: ns },
            interval: '10s',
            action: 'Suspend',
            verify: { cosign: [{ name: 'release', publicKey: key.publicKeyPem }] },
          }),
        );
        const trusted = await waitForAv(
          kube,
          other,
          'shared',
          'both consumers trusted',
          (o) => o.status?.chartsSummary === '2/2 trusted',
        );
        // Sorted by code point ('-' before '/'), whatever the operator's locale.
        expect(trusted.status?.charts?.map((c) => c.consumer)).toEqual([
          `HelmRelease/${other}/shop`,
          `HelmRelease/${ns}/desk`,
        ]);
        const desk = await readAv(
          kube,
          other,
          childName('shared', { kind: 'HelmRelease', namespace: ns, name: 'desk' }),
        );
        expect(desk.spec.sourceRef).toEqual({ kind: 'HelmRelease', name: 'desk', namespace: ns });
        const shop = await readAv(
          kube,
          other,
          childName('shared', { kind: 'HelmRelease', namespace: other, name: 'shop' }),
        );
        expect(shop.spec.sourceRef).toEqual({ kind: 'HelmRelease', name: 'shop' });
      } finally {
        await kube.objects.delete({
          apiVersion: AV_API,
          kind: 'ArtifactVerification',
          metadata: { name: 'shared', namespace: other },
        });
        await until('the cross-namespace parent gone', 60_000, async () =>
          kube.read(AV_API, 'ArtifactVerification', 'shared', other).then(
            () => false,
            () => true,
          ),
        );
        await across.shutdown('test done');
      }
    },
  );

  it('stalls on a HelmRepository in another namespace, creating no child', async () => {
    // (An HTTP repository is a source like an OCI one since the HTTP step: helm-http.test.ts.)
    await kube.applyAll([
      parent('across', { kind: 'HelmRepository', name: 'charts', namespace: `${ns}-other` }),
    ]);
    const across = await waitForAv(
      kube,
      ns,
      'across',
      'Stalled',
      (o) => condition(o, 'Stalled')?.status === 'True',
    );
    expect(condition(across, 'Ready')?.reason).toBe('CrossNamespaceRefForbidden');
    expect(await listChildren('across')).toEqual([]);

    // Switching a parent to another source kind would strand its children (and the reverse, a CR's holds):
    // the API server refuses it.
    const refused = await kube
      .mergePatch(
        { apiVersion: AV_API, kind: 'ArtifactVerification', metadata: { name: 'across', namespace: ns } },
        { spec: { sourceRef: { kind: 'HelmRelease', name: 'payment' } } },
      )
      .then(
        () => undefined,
        (error: unknown) => error as { code?: number; body?: string },
      );
    expect(refused?.code).toBe(422);
    expect(String(refused?.body)).toContain('cannot become another source');
  });
});
