// Issue 7, flows 1–3 with the real Flux source-controller and helm-controller: a signed chart is deployed;
// the tag is re-pushed with a privileged init container signed by an unknown key; tagguard holds the
// OCIRepository and the HelmRelease (Suspend) or keeps the OCIRepository pinned to the verified digest
// (Pin: its status.artifact never carries the attacker's digest); the good digest comes back and every
// hold is released to exactly its pre-hold state.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeTestClient } from '../env/kube.ts';
import { e2eNamespace, fluxReady, startFluxE2e, type FluxE2e, type FluxObject } from '../env/flux-e2e.ts';
import type { ToolHome } from '../env/tool-home.ts';
import { packageChart } from '../env/charts.ts';
import { pushChart, retagArtifact, type PushedArtifact } from '../env/oci.ts';
import { signCosignLegacy, type CosignKeyPair } from '../env/sign.ts';
import { avObject, condition, eventReasons, requestCheck, until, waitForAv, judged } from '../env/av.ts';

const env = inject('testEnv');
const registry = env.registries.referrers;
const ns = e2eNamespace('flux-attack');
const HELM_CHART_LAYER = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';
const SOURCE_API = 'source.toolkit.fluxcd.io/v1';
const HELM_API = 'helm.toolkit.fluxcd.io/v2';

let e2e: FluxE2e;
let kube: KubeTestClient;
let home: ToolHome;
let release: CosignKeyPair;
let attacker: CosignKeyPair;

const read = (apiVersion: string, kind: string, name: string): Promise<FluxObject> =>
  e2e.read(apiVersion, kind, name);

const push = async (name: string, malicious: boolean, key: CosignKeyPair): Promise<PushedArtifact> => {
  const dir = await mkdtemp(join(tmpdir(), 'tagguard-flux-'));
  const pushed = await pushChart(
    home,
    registry,
    `${ns}-charts`,
    await packageChart(home, dir, { name, version: '3.1.0', maliciousInitContainer: malicious }),
  );
  await signCosignLegacy(home, registry, pushed, key);
  return pushed;
};

const deploy = async (name: string, action: 'Suspend' | 'Pin'): Promise<void> => {
  await kube.applyAll([
    {
      apiVersion: SOURCE_API,
      kind: 'OCIRepository',
      metadata: { name, namespace: ns },
      spec: {
        interval: '10s',
        url: `oci://${registry.host}/${ns}-charts/${name}`,
        ref: { tag: '3.1.0' },
        insecure: true,
        layerSelector: { mediaType: HELM_CHART_LAYER, operation: 'copy' },
      },
    },
    {
      apiVersion: HELM_API,
      kind: 'HelmRelease',
      metadata: { name, namespace: ns },
      spec: {
        interval: '10s',
        timeout: '1m',
        chartRef: { kind: 'OCIRepository', name },
        install: { disableWait: true },
        upgrade: { disableWait: true },
      },
    },
    avObject(ns, name, {
      sourceRef: { kind: 'OCIRepository', name },
      interval: '10s',
      action,
      verify: { cosign: [{ name: 'release', publicKey: release.publicKeyPem }] },
    }),
  ] as KubernetesObject[]);
};

const waitFlux: FluxE2e['waitFlux'] = (...args) => e2e.waitFlux(...args);

beforeAll(async () => {
  e2e = await startFluxE2e(env, ns);
  ({ kube, home, release, attacker } = e2e);
}, 240_000);

afterAll(async () => {
  await e2e?.stop();
});

describe('the tag re-push attack against real Flux controllers', () => {
  it(
    'Suspend: holds the OCIRepository and the HelmRelease, then releases both when the good digest returns',
    { timeout: 400_000 },
    async () => {
      const name = 'payment';
      const good = await push(name, false, release);
      await deploy(name, 'Suspend');
      await waitFlux(
        SOURCE_API,
        'OCIRepository',
        name,
        'Ready with the signed digest',
        (o) => fluxReady(o) && (o.status?.artifact?.revision ?? '').includes(good.digest),
      );
      await waitFlux(HELM_API, 'HelmRelease', name, 'Ready', fluxReady);
      await waitForAv(kube, ns, name, 'Ready=True', (o) => condition(o, 'Ready')?.status === 'True', 120_000);

      const evil = await push(name, true, attacker);
      await requestCheck(kube, ns, name);
      const held = await waitForAv(
        kube,
        ns,
        name,
        'Held=True',
        (o) => condition(o, 'Held')?.status === 'True' && judged(o),
      );
      // Signed, but by a key the policy does not trust.
      expect(condition(held, 'Verified')).toMatchObject({ status: 'False', reason: 'UntrustedSigner' });
      expect(condition(held, 'TagMutated')?.status).toBe('True');
      expect(held.status?.findings?.map((f) => f.rule)).toContain('privileged-container');
      expect(held.status?.heldTargets?.map((t) => t.kind).sort()).toEqual(['HelmRelease', 'OCIRepository']);
      for (const [apiVersion, kind] of [
        [SOURCE_API, 'OCIRepository'],
        [HELM_API, 'HelmRelease'],
      ] as const) {
        const target = await read(apiVersion, kind, name);
        expect(target.spec.suspend, `${kind} suspended`).toBe(true);
        expect(target.metadata?.annotations?.['tagguard.dev/held-by']).toBe(`${ns}/${name}`);
      }
      await until('Warning Events on the CR and the HelmRelease', 15_000, async () => {
        const [onCr, onRelease] = await Promise.all([
          eventReasons(kube, ns, name, 'ArtifactVerification'),
          eventReasons(kube, ns, name, 'HelmRelease'),
        ]);
        return (
          onCr.includes('TagMutated') && onCr.includes('VerificationFailed') && onRelease.includes('Held')
        );
      });

      await retagArtifact(home, registry, good, '3.1.0');
      await requestCheck(kube, ns, name);
      await waitForAv(
        kube,
        ns,
        name,
        'released',
        (o) => condition(o, 'Held')?.status === 'False' && condition(o, 'Ready')?.status === 'True',
      );
      for (const [apiVersion, kind] of [
        [SOURCE_API, 'OCIRepository'],
        [HELM_API, 'HelmRelease'],
      ] as const) {
        const target = await read(apiVersion, kind, name);
        expect(target.spec.suspend, `${kind} back to its pre-hold state (absent)`).toBeUndefined();
        expect(target.metadata?.annotations?.['tagguard.dev/pre-hold']).toBeUndefined();
      }
      await until('Released Events', 15_000, async () =>
        (await eventReasons(kube, ns, name, 'HelmRelease')).includes('Released'),
      );
      expect(evil.digest).not.toBe(good.digest);
    },
  );

  it("Pin: the OCIRepository never fetches the attacker's digest", { timeout: 400_000 }, async () => {
    const name = 'billing';
    const good = await push(name, false, release);
    await deploy(name, 'Pin');
    const pinned = await waitFlux(
      SOURCE_API,
      'OCIRepository',
      name,
      'pinned to the signed digest',
      (o) => o.spec.ref?.digest === good.digest,
    );
    expect(pinned.spec.ref?.tag).toBe('3.1.0');
    await waitFlux(
      SOURCE_API,
      'OCIRepository',
      name,
      'Ready with the signed digest',
      (o) => fluxReady(o) && (o.status?.artifact?.revision ?? '').includes(good.digest),
    );

    // Watch the OCIRepository over the whole attack: its artifact must never be the attacker's.
    const revisions = new Set<string>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const o = await read(SOURCE_API, 'OCIRepository', name);
        if (o.status?.artifact?.revision) revisions.add(o.status.artifact.revision);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const evil = await push(name, true, attacker);
    await requestCheck(kube, ns, name);
    const untrusted = await waitForAv(
      kube,
      ns,
      name,
      'Verified=False',
      (o) => condition(o, 'Verified')?.status === 'False',
    );
    expect(untrusted.status?.trustedDigest).toBe(good.digest);
    // Two Flux intervals with the attacker's tag in place.
    await new Promise((r) => setTimeout(r, 25_000));
    const during = await read(SOURCE_API, 'OCIRepository', name);
    expect(during.spec.ref?.digest).toBe(good.digest);

    await retagArtifact(home, registry, good, '3.1.0');
    await requestCheck(kube, ns, name);
    await waitForAv(kube, ns, name, 'Ready again', (o) => condition(o, 'Ready')?.status === 'True');
    watching = false;
    await watcher;
    expect(
      [...revisions].some((r) => r.includes(evil.digest)),
      `revisions seen: ${[...revisions].join(', ')}`,
    ).toBe(false);
    expect([...revisions].some((r) => r.includes(good.digest))).toBe(true);
  });
});
