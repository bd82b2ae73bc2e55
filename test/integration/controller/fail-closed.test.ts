// The fail-closed rule in the running operator, against the real API server and olareg behind a
// fault-injecting proxy: an error while judging a digest never trusted holds the OCIRepository; an outage
// after a digest was trusted leaves it released, and the status says why.
import type { KubernetesObject } from '@kubernetes/client-node';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunningOperator } from '../../../src/cli/run-command.ts';
import { avObject, condition, requestCheck, waitForAv, judged } from '../../env/av.ts';
import { packageChart } from '../../env/charts.ts';
import { KubeTestClient } from '../../env/kube.ts';
import { pushChart, type PushedArtifact } from '../../env/oci.ts';
import { startInProcessOperator } from '../../env/operator.ts';
import { generateCosignKeyPair, signCosignLegacy, type CosignKeyPair } from '../../env/sign.ts';
import { createToolHome, type ToolHome } from '../../env/tool-home.ts';
import { startFaultProxy, type FaultProxy } from '../../support/fault-proxy.ts';

const env = inject('testEnv');
const registry = env.registries.referrers;
const ns = `fc-${Math.random().toString(36).slice(2, 7)}`;
let kube: KubeTestClient;
let home: ToolHome;
let key: CosignKeyPair;
let operator: RunningOperator;
let proxy: FaultProxy;

const chart = async (name: string, version: string): Promise<PushedArtifact> => {
  const dir = await mkdtemp(join(tmpdir(), 'tagguard-fc-'));
  return pushChart(home, registry, `${ns}-charts`, await packageChart(home, dir, { name, version }));
};

/** An OCIRepository that reaches the chart through the proxy, guarded by a cosign key. */
const guard = async (name: string, artifact: PushedArtifact): Promise<void> => {
  const path = artifact.repository.slice(artifact.repository.indexOf('/'));
  await kube.apply({
    apiVersion: 'source.toolkit.fluxcd.io/v1',
    kind: 'OCIRepository',
    metadata: { name, namespace: ns },
    spec: { url: `oci://${proxy.host}${path}`, ref: { tag: artifact.tag }, interval: '10m', insecure: true },
  } as KubernetesObject);
  await kube.apply(
    avObject(ns, name, {
      sourceRef: { kind: 'OCIRepository', name },
      interval: '10s',
      verify: { cosign: [{ name: 'release', publicKey: key.publicKeyPem }] },
    }),
  );
};

const suspended = async (name: string): Promise<boolean | undefined> =>
  (
    await kube.read<KubernetesObject & { spec: { suspend?: boolean } }>(
      'source.toolkit.fluxcd.io/v1',
      'OCIRepository',
      name,
      ns,
    )
  ).spec.suspend;

beforeAll(async () => {
  kube = KubeTestClient.fromFile(env.kubeconfig);
  home = await createToolHome(env);
  key = await generateCosignKeyPair(home, 'release');
  proxy = await startFaultProxy(registry.host);
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  operator = await startInProcessOperator(env, ['--watch-namespace', ns]);
});

afterAll(async () => {
  await operator?.shutdown('test done');
  await proxy?.close();
});

describe('fail closed in the operator', () => {
  it('holds an OCIRepository whose new digest cannot be judged (its chart blobs answer 500)', async () => {
    // Signatures verify; only the chart content cannot be read, so the scan cannot judge the digest.
    const artifact = await chart('outage-new', '1.0.0');
    await signCosignLegacy(home, registry, artifact, key);
    const path = artifact.repository.slice(artifact.repository.indexOf('/'));
    const manifest = (await (
      await fetch(`http://${registry.host}/v2${path}/manifests/${artifact.digest}`, {
        headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
      })
    ).json()) as { config: { digest: string }; layers: { digest: string }[] };
    for (const blob of [manifest.config.digest, ...manifest.layers.map((l) => l.digest)])
      proxy.rules.push({ path: new RegExp(`/blobs/${blob}`), fault: { kind: 'status', status: 500 } });
    await guard('outage-new', artifact);
    const held = await waitForAv(
      kube,
      ns,
      'outage-new',
      'Held=True',
      (o) => condition(o, 'Held')?.status === 'True' && judged(o),
    );
    expect(condition(held, 'Verified')?.status).toBe('True');
    expect(condition(held, 'Ready')).toMatchObject({ status: 'False', reason: 'RegistryError' });
    expect(held.status?.history?.[0]).toMatchObject({ digest: artifact.digest, verdict: 'Error' });
    expect(await suspended('outage-new')).toBe(true);
  });

  it('keeps an OCIRepository released while the registry is down after its digest was trusted', async () => {
    const artifact = await chart('outage-old', '1.0.0');
    await signCosignLegacy(home, registry, artifact, key);
    await guard('outage-old', artifact);
    await waitForAv(kube, ns, 'outage-old', 'Ready=True', (o) => condition(o, 'Ready')?.status === 'True');
    proxy.rules.push({ path: /\/outage-old\//, fault: { kind: 'status', status: 503 } });
    await requestCheck(kube, ns, 'outage-old');
    const down = await waitForAv(
      kube,
      ns,
      'outage-old',
      'Ready=False RegistryError',
      (o) => condition(o, 'Ready')?.reason === 'RegistryError',
    );
    expect(condition(down, 'Held')?.status).toBe('False');
    expect(down.status?.trustedDigest).toBe(artifact.digest);
    expect(down.status?.history?.[0]).toMatchObject({ digest: artifact.digest, verdict: 'Trusted' });
    expect(await suspended('outage-old')).not.toBe(true);
  });
});
