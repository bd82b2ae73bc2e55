// A Kustomization target with the real Flux source-controller and kustomize-controller: a signed Flux
// artifact (a ConfigMap) is fetched by an OCIRepository and applied by a Kustomization; the tag is re-pushed
// with content signed by an unknown key; tagguard holds the OCIRepository and the Kustomization
// (spec.suspend), so a reconcile requested of Flux applies nothing. An unguarded twin, re-pushed the same way
// and asked to reconcile the same way, does apply the attacker's content: the hold is what stops it.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { KubernetesObject, V1ConfigMap } from '@kubernetes/client-node';
import type { KubeTestClient } from '../env/kube.ts';
import { e2eNamespace, fluxReady, startFluxE2e, type FluxE2e, type FluxObject } from '../env/flux-e2e.ts';
import type { ToolHome } from '../env/tool-home.ts';
import { pushFluxArtifact, retagArtifact, type PushedArtifact } from '../env/oci.ts';
import { signCosignLegacy, type CosignKeyPair } from '../env/sign.ts';
import { avObject, condition, requestCheck, waitForAv, judged } from '../env/av.ts';

const env = inject('testEnv');
const registry = env.registries.referrers;
const ns = e2eNamespace('flux-ks');
const SOURCE_API = 'source.toolkit.fluxcd.io/v1';
const KUSTOMIZE_API = 'kustomize.toolkit.fluxcd.io/v1';
const TAG = '1.0.0';

let e2e: FluxE2e;
let kube: KubeTestClient;
let home: ToolHome;
let release: CosignKeyPair;
let attacker: CosignKeyPair;

const read = (apiVersion: string, kind: string, name: string): Promise<FluxObject> =>
  e2e.read(apiVersion, kind, name);
const waitFlux: FluxE2e['waitFlux'] = (...args) => e2e.waitFlux(...args);

/** The ConfigMap the artifact carries: what the Kustomization applies. */
const configMapYaml = (name: string, release: string): string =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  release: ${release}\n`;

const push = async (name: string, content: string, key: CosignKeyPair): Promise<PushedArtifact> => {
  const pushed = await pushFluxArtifact(home, registry, `${ns}-manifests/${name}`, TAG, {
    'configmap.yaml': configMapYaml(name, content),
  });
  await signCosignLegacy(home, registry, pushed, key);
  return pushed;
};

const appliedRelease = async (name: string): Promise<string | undefined> =>
  (await kube.read<V1ConfigMap & KubernetesObject>('v1', 'ConfigMap', name, ns)).data?.release;

/** What `flux reconcile` does: asks the controller for a reconcile now (Flux ignores it while suspended). */
const requestFluxReconcile = (apiVersion: string, kind: string, name: string): Promise<KubernetesObject> =>
  kube.mergePatch(
    { apiVersion, kind, metadata: { name, namespace: ns } },
    {
      metadata: {
        name,
        namespace: ns,
        annotations: { 'reconcile.fluxcd.io/requestedAt': new Date().toISOString() },
      },
    },
  );

const deploy = async (name: string, guarded: boolean): Promise<void> => {
  await kube.applyAll([
    {
      apiVersion: SOURCE_API,
      kind: 'OCIRepository',
      metadata: { name, namespace: ns },
      // A long interval: Flux fetches at creation and when asked, so the test decides when it looks.
      spec: {
        interval: '10m',
        url: `oci://${registry.host}/${ns}-manifests/${name}`,
        ref: { tag: TAG },
        insecure: true,
      },
    },
    {
      apiVersion: KUSTOMIZE_API,
      kind: 'Kustomization',
      metadata: { name, namespace: ns },
      spec: {
        interval: '10s',
        sourceRef: { kind: 'OCIRepository', name },
        path: './',
        prune: false,
        wait: false,
        timeout: '1m',
        targetNamespace: ns,
      },
    },
    ...(guarded
      ? [
          avObject(ns, name, {
            sourceRef: { kind: 'OCIRepository', name },
            interval: '10s',
            action: 'Suspend',
            verify: { cosign: [{ name: 'release', publicKey: release.publicKeyPem }] },
          }),
        ]
      : []),
  ] as KubernetesObject[]);
};

const waitDeployed = async (name: string, digest: string): Promise<void> => {
  await waitFlux(
    SOURCE_API,
    'OCIRepository',
    name,
    'Ready with the pushed digest',
    (o) => fluxReady(o) && (o.status?.artifact?.revision ?? '').includes(digest),
  );
  await waitFlux(
    KUSTOMIZE_API,
    'Kustomization',
    name,
    'Ready, applied the pushed digest',
    (o) => fluxReady(o) && (o.status?.lastAppliedRevision ?? '').includes(digest),
  );
};

beforeAll(async () => {
  e2e = await startFluxE2e(env, ns);
  ({ kube, home, release, attacker } = e2e);
}, 240_000);

afterAll(async () => {
  await e2e?.stop();
});

describe('a Kustomization fed by an OCIRepository, with the real kustomize-controller', () => {
  it(
    'applies the signed artifact; the hold keeps a re-pushed one from being applied, the unguarded twin applies it',
    { timeout: 400_000 },
    async () => {
      const [good, twinGood] = await Promise.all([
        push('payment', 'good', release),
        push('billing', 'good', release),
      ]);
      await Promise.all([deploy('payment', true), deploy('billing', false)]);
      await Promise.all([waitDeployed('payment', good.digest), waitDeployed('billing', twinGood.digest)]);
      expect(await appliedRelease('payment')).toBe('good');
      expect(await appliedRelease('billing')).toBe('good');
      await waitForAv(
        kube,
        ns,
        'payment',
        'Ready=True',
        (o) => condition(o, 'Ready')?.status === 'True',
        120_000,
      );

      // The attack on both: the same tag now carries other content, signed by a key nobody trusts.
      const [evil, twinEvil] = await Promise.all([
        push('payment', 'evil', attacker),
        push('billing', 'evil', attacker),
      ]);
      await requestCheck(kube, ns, 'payment');
      const held = await waitForAv(
        kube,
        ns,
        'payment',
        'Held=True',
        (o) => condition(o, 'Held')?.status === 'True' && judged(o),
      );
      expect(condition(held, 'Verified')).toMatchObject({ status: 'False', reason: 'UntrustedSigner' });
      expect(held.status?.heldTargets?.map((t) => t.kind).sort()).toEqual(['Kustomization', 'OCIRepository']);
      for (const [apiVersion, kind] of [
        [SOURCE_API, 'OCIRepository'],
        [KUSTOMIZE_API, 'Kustomization'],
      ] as const) {
        const target = await read(apiVersion, kind, 'payment');
        expect(target.spec.suspend, `${kind} suspended`).toBe(true);
        expect(target.metadata?.annotations?.['tagguard.dev/held-by']).toBe(`${ns}/payment`);
      }

      // Flux is asked to reconcile both pairs now. The unguarded twin fetches and applies the attacker's
      // content (so the request works and the attack is real); the held pair applies nothing.
      for (const name of ['payment', 'billing']) {
        await requestFluxReconcile(SOURCE_API, 'OCIRepository', name);
        await requestFluxReconcile(KUSTOMIZE_API, 'Kustomization', name);
      }
      await waitDeployed('billing', twinEvil.digest);
      expect(await appliedRelease('billing')).toBe('evil');
      // Beyond two Kustomization intervals after the twin took the attacker's content.
      await new Promise((r) => setTimeout(r, 20_000));
      expect(await appliedRelease('payment')).toBe('good');
      const source = await read(SOURCE_API, 'OCIRepository', 'payment');
      const kustomization = await read(KUSTOMIZE_API, 'Kustomization', 'payment');
      expect(source.status?.artifact?.revision).toContain(good.digest);
      expect(kustomization.status?.lastAppliedRevision).toContain(good.digest);
      expect(kustomization.status?.lastAppliedRevision).not.toContain(evil.digest);

      // The good digest comes back: the hold is released and Flux reconciles the same content again.
      await retagArtifact(home, registry, good, TAG);
      await requestCheck(kube, ns, 'payment');
      await waitForAv(
        kube,
        ns,
        'payment',
        'released',
        (o) => condition(o, 'Held')?.status === 'False' && condition(o, 'Ready')?.status === 'True',
      );
      for (const [apiVersion, kind] of [
        [SOURCE_API, 'OCIRepository'],
        [KUSTOMIZE_API, 'Kustomization'],
      ] as const) {
        const target = await read(apiVersion, kind, 'payment');
        expect(target.spec.suspend, `${kind} back to its pre-hold state (absent)`).toBeUndefined();
      }
      await waitDeployed('payment', good.digest);
      expect(await appliedRelease('payment')).toBe('good');
    },
  );
});
