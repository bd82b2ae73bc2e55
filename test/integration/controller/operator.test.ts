// The operator end to end against the real API server (under the RBAC of config/rbac), olareg, cosign and
// helm: raw artifacts and an OCIRepository source, signed, unsigned and re-pushed.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { join } from 'node:path';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { KubernetesObject } from '@kubernetes/client-node';
import { KubeTestClient } from '../../env/kube.ts';
import { avObject, condition, eventReasons, requestCheck, until, waitForAv, judged } from '../../env/av.ts';
import { createToolHome, type ToolHome } from '../../env/tool-home.ts';
import { packageChart } from '../../env/charts.ts';
import { pushChart, retagArtifact, type PushedArtifact } from '../../env/oci.ts';
import { generateCosignKeyPair, signCosignLegacy, type CosignKeyPair } from '../../env/sign.ts';
import { startInProcessOperator } from '../../env/operator.ts';
import type { RunningOperator } from '../../../src/cli/run-command.ts';
import type { ArtifactVerification } from '../../../src/api/artifact-verification.ts';

const env = inject('testEnv');
const registry = env.registries.referrers;
const ns = `ctl-${Math.random().toString(36).slice(2, 7)}`;
let kube: KubeTestClient;
let home: ToolHome;
let key: CosignKeyPair;
let operator: RunningOperator;
let signed: PushedArtifact;

const av = (name: string, spec: Record<string, unknown>): KubernetesObject => avObject(ns, name, spec);
const waitAv = (name: string, what: string, predicate: (o: ArtifactVerification) => boolean) =>
  waitForAv(kube, ns, name, what, predicate);
const recheck = (name: string) => requestCheck(kube, ns, name);
const reasonsFor = (name: string) => eventReasons(kube, ns, name);

const chart = async (name: string, version: string, malicious = false): Promise<PushedArtifact> => {
  const dir = await mkdtemp(join(tmpdir(), 'tagguard-ctl-'));
  return pushChart(
    home,
    registry,
    `${ns}-charts`,
    await packageChart(home, dir, { name, version, maliciousInitContainer: malicious }),
  );
};

beforeAll(async () => {
  kube = KubeTestClient.fromFile(env.kubeconfig);
  home = await createToolHome(env);
  key = await generateCosignKeyPair(home, 'release');
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  operator = await startInProcessOperator(env, ['--watch-namespace', ns]);
  signed = await chart('payment', '3.1.0');
  await signCosignLegacy(home, registry, signed, key);
});

afterAll(async () => {
  await operator?.shutdown('test done');
});

describe('operator', () => {
  it('reports a signed chart as Ready, Verified and Scanned with the status filled', async () => {
    await kube.apply(
      av('signed', {
        artifact: { url: `oci://${signed.repository}`, tag: signed.tag, insecure: true },
        verify: { cosign: [{ name: 'release', publicKey: key.publicKeyPem }] },
      }),
    );
    const object = await waitAv('signed', 'Ready=True', (o) => condition(o, 'Ready')?.status === 'True');
    expect(condition(object, 'Verified')).toMatchObject({ status: 'True', observedGeneration: 1 });
    expect(condition(object, 'Scanned')?.status).toBe('True');
    expect(object.status?.artifact).toMatchObject({ tag: '3.1.0', digest: signed.digest });
    expect(object.status?.trustedDigest).toBe(signed.digest);
    expect(object.status?.signers?.map((s) => s.name)).toEqual(['release']);
    // A raw spec.artifact has no target to hold: no finalizer (one API write and reconcile less per CR).
    expect(object.metadata.finalizers ?? []).toEqual([]);
  });

  it('reports an unsigned chart as SignatureMissing with a Warning Event', async () => {
    const unsigned = await chart('unsigned', '1.0.0');
    await kube.apply(
      av('unsigned', {
        artifact: { url: `oci://${unsigned.repository}`, tag: '1.0.0', insecure: true },
        verify: { cosign: [{ name: 'release', publicKey: key.publicKeyPem }] },
      }),
    );
    const object = await waitAv(
      'unsigned',
      'Verified=False',
      (o) => condition(o, 'Verified')?.status === 'False',
    );
    expect(condition(object, 'Verified')?.reason).toBe('SignatureMissing');
    expect(condition(object, 'Ready')?.status).toBe('False');
    await until('VerificationFailed event', 10_000, async () =>
      (await reasonsFor('unsigned')).includes('VerificationFailed'),
    );
  });

  it('holds an OCIRepository when its tag is re-pushed with a privileged init container, and releases it when the good digest returns', async () => {
    const good = await chart('web', '2.0.0');
    await signCosignLegacy(home, registry, good, key);
    await kube.apply({
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'OCIRepository',
      metadata: { name: 'web', namespace: ns },
      spec: { url: `oci://${good.repository}`, ref: { tag: '2.0.0' }, interval: '10m', insecure: true },
    } as KubernetesObject);
    await kube.apply(
      av('web', {
        sourceRef: { kind: 'OCIRepository', name: 'web' },
        action: 'Suspend',
        interval: '10s',
        verify: { cosign: [{ name: 'release', publicKey: key.publicKeyPem }] },
      }),
    );
    await waitAv('web', 'Ready=True', (o) => condition(o, 'Ready')?.status === 'True');

    const evil = await chart('web', '2.0.0', true);
    expect(evil.digest).not.toBe(good.digest);
    await recheck('web');
    const held = await waitAv(
      'web',
      'Held=True',
      (o) => condition(o, 'Held')?.status === 'True' && judged(o),
    );
    expect(condition(held, 'TagMutated')?.status).toBe('True');
    expect(condition(held, 'Verified')?.reason).toBe('SignatureMissing');
    expect(held.status?.findings?.some((f) => f.rule === 'privileged-container')).toBe(true);
    expect(held.status?.history?.map((h) => h.digest)).toEqual([evil.digest, good.digest]);
    const repo = await kube.read<KubernetesObject & { spec: { suspend?: boolean } }>(
      'source.toolkit.fluxcd.io/v1',
      'OCIRepository',
      'web',
      ns,
    );
    expect(repo.spec.suspend).toBe(true);
    expect(repo.metadata?.annotations?.['tagguard.dev/held-by']).toBe(`${ns}/web`);
    await until('TagMutated event on the CR', 10_000, async () =>
      (await reasonsFor('web')).includes('TagMutated'),
    );
    await until('Held event on the OCIRepository', 10_000, async () =>
      (await reasonsFor('web')).includes('Held'),
    );

    await retagArtifact(home, registry, good, '2.0.0');
    await recheck('web');
    const released = await waitAv(
      'web',
      'Held=False and Ready=True',
      (o) => condition(o, 'Held')?.status === 'False' && condition(o, 'Ready')?.status === 'True',
    );
    expect(released.status?.trustedDigest).toBe(good.digest);
    const restored = await kube.read<KubernetesObject & { spec: { suspend?: boolean } }>(
      'source.toolkit.fluxcd.io/v1',
      'OCIRepository',
      'web',
      ns,
    );
    expect(restored.spec.suspend).toBeUndefined();
    expect(restored.metadata?.annotations?.['tagguard.dev/held-by']).toBeUndefined();
    expect(restored.metadata?.annotations?.['tagguard.dev/pre-hold']).toBeUndefined();
  });

  it('by default (Pin) keeps the OCIRepository at the verified digest through a re-push: Gated, then held at the pin, never suspended', async () => {
    const good = await chart('pinned', '2.0.0');
    await signCosignLegacy(home, registry, good, key);
    await kube.apply({
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'OCIRepository',
      metadata: { name: 'pinned', namespace: ns },
      spec: { url: `oci://${good.repository}`, ref: { tag: '2.0.0' }, interval: '10m', insecure: true },
    } as KubernetesObject);
    await kube.apply(
      av('pinned', {
        sourceRef: { kind: 'OCIRepository', name: 'pinned' },
        interval: '10s',
        verify: { cosign: [{ name: 'release', publicKey: key.publicKeyPem }] },
      }),
    );
    type Repo = KubernetesObject & { spec: { suspend?: boolean; ref?: { tag?: string; digest?: string } } };
    const readRepo = (): Promise<Repo> =>
      kube.read<Repo>('source.toolkit.fluxcd.io/v1', 'OCIRepository', 'pinned', ns);
    const trusted = await waitAv(
      'pinned',
      'Ready=True, Gated=True',
      (o) => condition(o, 'Ready')?.status === 'True' && condition(o, 'Gated')?.status === 'True',
    );
    expect(trusted.spec.action).toBe('Pin'); // the CRD's default
    expect(condition(trusted, 'Held')).toMatchObject({ status: 'False', reason: 'PinnedToVerified' });
    expect((await readRepo()).spec.ref).toEqual({ tag: '2.0.0', digest: good.digest });

    const evil = await chart('pinned', '2.0.0', true);
    await recheck('pinned');
    const held = await waitAv(
      'pinned',
      'Held=True (the pin keeps back the re-push)',
      (o) => condition(o, 'Held')?.status === 'True' && judged(o),
    );
    expect(held.status?.history?.[0]).toMatchObject({ digest: evil.digest, verdict: 'Untrusted' });
    const repo = await readRepo();
    expect(repo.spec.ref?.digest).toBe(good.digest);
    expect(repo.spec.suspend).toBeUndefined();

    await retagArtifact(home, registry, good, '2.0.0');
    await recheck('pinned');
    await waitAv(
      'pinned',
      'Ready=True and Held=False again',
      (o) => condition(o, 'Ready')?.status === 'True' && condition(o, 'Held')?.status === 'False',
    );
    expect((await readRepo()).spec.ref).toEqual({ tag: '2.0.0', digest: good.digest });
  });

  it('is woken by the objects it depends on, not only by its interval: a missing source appearing, a new consumer', async () => {
    const unsigned = await chart('late', '1.0.0');
    await kube.apply(
      av('late', {
        sourceRef: { kind: 'OCIRepository', name: 'late' },
        interval: '10m', // nothing below waits for it
        verify: { cosign: [{ name: 'release', publicKey: key.publicKeyPem }] },
      }),
    );
    // A missing source is retried every 15 s; its creation wakes the CR before that.
    await waitAv('late', 'SourceNotFound', (o) => condition(o, 'Ready')?.reason === 'SourceNotFound');
    await kube.apply({
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'OCIRepository',
      metadata: { name: 'late', namespace: ns },
      spec: { url: `oci://${unsigned.repository}`, ref: { tag: '1.0.0' }, interval: '10m', insecure: true },
    } as KubernetesObject);
    const held = await waitAv(
      'late',
      'Held=True',
      (o) => condition(o, 'Held')?.status === 'True' && judged(o),
    );
    expect(held.status?.heldTargets?.map((t) => t.kind)).toEqual(['OCIRepository']);

    // A Kustomization that starts consuming the held source is held too, long before the 10-minute interval.
    await kube.apply({
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata: { name: 'late-apps', namespace: ns },
      spec: {
        interval: '10m',
        path: './',
        prune: true,
        sourceRef: { kind: 'OCIRepository', name: 'late' },
      },
    } as KubernetesObject);
    const both = await waitAv('late', 'the Kustomization held too', (o) =>
      (o.status?.heldTargets ?? []).some((t) => t.kind === 'Kustomization' && t.name === 'late-apps'),
    );
    expect(both.status?.heldTargets?.map((t) => t.kind).sort()).toEqual(['Kustomization', 'OCIRepository']);
  });

  it('keeps a resume: Manual hold after trust returns until the digest is approved', async () => {
    const good = await chart('manual', '1.0.0');
    await signCosignLegacy(home, registry, good, key);
    await kube.apply({
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'OCIRepository',
      metadata: { name: 'manual', namespace: ns },
      spec: { url: `oci://${good.repository}`, ref: { tag: '1.0.0' }, interval: '10m', insecure: true },
    } as KubernetesObject);
    await kube.apply(
      av('manual', {
        sourceRef: { kind: 'OCIRepository', name: 'manual' },
        action: 'Suspend',
        resume: 'Manual',
        verify: { cosign: [{ name: 'release', publicKey: key.publicKeyPem }] },
      }),
    );
    await waitAv('manual', 'Ready=True', (o) => condition(o, 'Ready')?.status === 'True');
    await chart('manual', '1.0.0', true);
    await recheck('manual');
    await waitAv('manual', 'Held=True', (o) => condition(o, 'Held')?.status === 'True' && judged(o));

    await retagArtifact(home, registry, good, '1.0.0');
    await recheck('manual');
    const waiting = await waitAv(
      'manual',
      'AwaitingApproval',
      (o) => condition(o, 'Ready')?.reason === 'AwaitingApproval',
    );
    expect(condition(waiting, 'Held')?.status).toBe('True');
    expect(condition(waiting, 'Ready')?.message).toContain(`tagguard.dev/approve=${good.digest}`);

    await kube.mergePatch(
      {
        apiVersion: 'tagguard.dev/v1alpha1',
        kind: 'ArtifactVerification',
        metadata: { name: 'manual', namespace: ns },
      },
      { metadata: { name: 'manual', namespace: ns, annotations: { 'tagguard.dev/approve': good.digest } } },
    );
    await waitAv(
      'manual',
      'released after approval',
      (o) => condition(o, 'Held')?.status === 'False' && condition(o, 'Ready')?.status === 'True',
    );
    const repo = await kube.read<KubernetesObject & { spec: { suspend?: boolean } }>(
      'source.toolkit.fluxcd.io/v1',
      'OCIRepository',
      'manual',
      ns,
    );
    expect(repo.spec.suspend).toBeUndefined();
    await until('ApprovedManually event', 10_000, async () =>
      (await reasonsFor('manual')).includes('ApprovedManually'),
    );
  });

  it('re-applies a hold that a person undoes while trust is still failing (HoldReverted)', async () => {
    const unsigned = await chart('reverted', '1.0.0');
    await kube.apply({
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'OCIRepository',
      metadata: { name: 'reverted', namespace: ns },
      spec: { url: `oci://${unsigned.repository}`, ref: { tag: '1.0.0' }, interval: '10m', insecure: true },
    } as KubernetesObject);
    await kube.apply(
      av('reverted', {
        sourceRef: { kind: 'OCIRepository', name: 'reverted' },
        verify: { cosign: [{ name: 'release', publicKey: key.publicKeyPem }] },
      }),
    );
    await waitAv('reverted', 'Held=True', (o) => condition(o, 'Held')?.status === 'True' && judged(o));
    const repoRef = {
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'OCIRepository',
      metadata: { name: 'reverted', namespace: ns },
    };
    await kube.mergePatch(repoRef, {
      metadata: { name: 'reverted', namespace: ns },
      spec: { suspend: false },
    });
    await until('the hold re-applied', 20_000, async () => {
      const repo = await kube.read<KubernetesObject & { spec: { suspend?: boolean } }>(
        'source.toolkit.fluxcd.io/v1',
        'OCIRepository',
        'reverted',
        ns,
      );
      return repo.spec.suspend === true;
    });
    await until('HoldReverted event', 10_000, async () =>
      (await reasonsFor('reverted')).includes('HoldReverted'),
    );
  });

  it('with action: Warn reports an untrusted artifact without holding anything', async () => {
    const unsigned = await chart('warned', '1.0.0');
    await kube.apply({
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'OCIRepository',
      metadata: { name: 'warned', namespace: ns },
      spec: { url: `oci://${unsigned.repository}`, ref: { tag: '1.0.0' }, interval: '10m', insecure: true },
    } as KubernetesObject);
    await kube.apply(
      av('warned', {
        sourceRef: { kind: 'OCIRepository', name: 'warned' },
        action: 'Warn',
        verify: { cosign: [{ name: 'release', publicKey: key.publicKeyPem }] },
      }),
    );
    const object = await waitAv(
      'warned',
      'Verified=False',
      (o) => condition(o, 'Verified')?.status === 'False',
    );
    expect(condition(object, 'Held')?.status).toBe('False');
    expect(condition(object, 'Ready')?.status).toBe('False');
    const repo = await kube.read<KubernetesObject & { spec: { suspend?: boolean } }>(
      'source.toolkit.fluxcd.io/v1',
      'OCIRepository',
      'warned',
      ns,
    );
    expect(repo.spec.suspend).toBeUndefined();
    expect(repo.metadata?.annotations?.['tagguard.dev/held-by']).toBeUndefined();
    await until('VerificationFailed event', 10_000, async () =>
      (await reasonsFor('warned')).includes('VerificationFailed'),
    );
  });

  it('serves the metrics of docs/design.md on /metrics', async () => {
    const body = await (await fetch(`http://127.0.0.1:${operator.endpoints.metrics}/metrics`)).text();
    for (const name of [
      'tagguard_digest_resolutions_total',
      'tagguard_verifications_total',
      'tagguard_artifact_trusted',
      'tagguard_held_targets',
      'tagguard_registry_requests_total',
      'tagguard_reconcile_duration_seconds',
      'tagguard_workqueue_depth',
      'tagguard_tag_mutations_total',
    ])
      expect(body).toContain(name);
    expect(body).toMatch(/tagguard_artifact_trusted\{namespace="[^"]+",name="signed"\} 1/);
    // Observed only when a digest was verified and scanned, not for answers from the cache.
    expect(Number(/tagguard_verification_duration_seconds_count (\d+)/.exec(body)?.[1])).toBeGreaterThan(0);
    const health = await fetch(`http://127.0.0.1:${operator.endpoints.health}/readyz`);
    expect(health.status).toBe(200);
  });

  it('releases its holds when the ArtifactVerification is deleted', async () => {
    const name = 'doomed';
    const unsigned = await chart('doomed', '1.0.0');
    await kube.apply({
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'OCIRepository',
      metadata: { name, namespace: ns },
      spec: {
        url: `oci://${unsigned.repository}`,
        ref: { tag: '1.0.0' },
        interval: '10m',
        insecure: true,
        suspend: false,
      },
    } as KubernetesObject);
    await kube.apply(
      av(name, {
        sourceRef: { kind: 'OCIRepository', name },
        verify: { cosign: [{ name: 'release', publicKey: key.publicKeyPem }] },
      }),
    );
    await waitAv(name, 'Held=True', (o) => condition(o, 'Held')?.status === 'True' && judged(o));
    await kube.objects.delete({
      apiVersion: 'tagguard.dev/v1alpha1',
      kind: 'ArtifactVerification',
      metadata: { name, namespace: ns },
    });
    await until('OCIRepository released to suspend: false', 30_000, async () => {
      const repo = await kube.read<KubernetesObject & { spec: { suspend?: boolean } }>(
        'source.toolkit.fluxcd.io/v1',
        'OCIRepository',
        name,
        ns,
      );
      return (
        repo.spec.suspend === false && repo.metadata?.annotations?.['tagguard.dev/held-by'] === undefined
      );
    });
  });

  it('never reconciles a CR outside its --watch-namespace, even when a target names it as holder', async () => {
    // Another instance's CR and the OCIRepository it holds: targets are watched cluster-wide, and their
    // tagguard.dev/held-by names the holder. This operator must leave both alone.
    const foreignNs = `${ns}-foreign`;
    await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: foreignNs } });
    await kube.apply(
      avObject(foreignNs, 'theirs', {
        artifact: { url: `oci://${signed.repository}`, tag: signed.tag, insecure: true },
      }),
    );
    const target = {
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'OCIRepository',
      metadata: {
        name: 'theirs',
        namespace: foreignNs,
        annotations: { 'tagguard.dev/held-by': `${foreignNs}/theirs` },
      },
      spec: { url: `oci://${signed.repository}`, ref: { tag: signed.tag }, interval: '10m', insecure: true },
    } as KubernetesObject;
    await kube.apply(target);
    // Changes to the target (each an informer event naming the holder), then a CR of this namespace
    // judged after them, through the same work queue.
    for (const interval of ['11m', '12m'])
      await kube.apply({
        ...target,
        spec: { ...(target as { spec: object }).spec, interval },
      } as KubernetesObject);
    await kube.apply(
      av('ours', { artifact: { url: `oci://${signed.repository}`, tag: signed.tag, insecure: true } }),
    );
    await waitAv('ours', 'Ready=True', (o) => condition(o, 'Ready')?.status === 'True');
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const theirs = await kube.read<ArtifactVerification & KubernetesObject>(
      'tagguard.dev/v1alpha1',
      'ArtifactVerification',
      'theirs',
      foreignNs,
    );
    expect(theirs.status).toBeUndefined();
    expect(theirs.metadata.finalizers ?? []).toEqual([]);
  });
});
