// The operator with `verify.provenance` against the real API server: a HelmChart of an OCI HelmRepository
// whose chart was signed by the real `helm package --sign` (GnuPG) and pushed with `helm push` (the `.prov`
// as a layer), the keyring a binary Secret. Trusted, then Untrusted and held after a re-push under the same
// version signed by another key.
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { avObject, condition, eventReasons, judged, requestCheck, until, waitForAv } from '../../env/av.ts';
import { createGpgHome, type GpgHome } from '../../env/gpg.ts';
import { KubeTestClient } from '../../env/kube.ts';
import { pushChart, type PushedArtifact } from '../../env/oci.ts';
import { startInProcessOperator } from '../../env/operator.ts';
import { runTool } from '../../env/run-tool.ts';
import { createToolHome, type ToolHome } from '../../env/tool-home.ts';
import type { ArtifactVerification } from '../../../src/api/artifact-verification.ts';
import type { RunningOperator } from '../../../src/cli/run-command.ts';

const env = inject('testEnv');
const registry = env.registries.referrers;
const ns = `prov-${Math.random().toString(36).slice(2, 7)}`;
const RELEASE = 'Release Signer <release@example.com>';
const INTRUDER = 'Intruder <intruder@example.com>';
let kube: KubeTestClient;
let home: ToolHome;
let gpg: GpgHome;
let dir: string;
let operator: RunningOperator;

/** helm package --sign of payment 0.1.0 (its ConfigMap named `configName`) with `key`, then helm push. */
const pushSigned = async (configName: string, key: string): Promise<PushedArtifact> => {
  const work = await mkdtemp(join(dir, 'chart-'));
  const chart = join(work, 'payment');
  await mkdir(join(chart, 'templates'), { recursive: true });
  await writeFile(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: payment\nversion: 0.1.0\n');
  await writeFile(join(chart, 'values.yaml'), 'greeting: hello\n');
  await writeFile(
    join(chart, 'templates', 'configmap.yaml'),
    `kind: ConfigMap\napiVersion: v1\nmetadata: {name: ${configName}}\n`,
  );
  await copyFile(join(dir, 'secring.gpg'), join(work, 'secring.gpg'));
  const out = join(work, 'out');
  await runTool(
    'helm',
    ['package', chart, '--destination', out, '--sign', '--key', key, '--keyring', join(work, 'secring.gpg')],
    { env: home.env },
  );
  return pushChart(home, registry, `${ns}-charts`, join(out, 'payment-0.1.0.tgz'));
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tg-prov-ctl-'));
  kube = KubeTestClient.fromFile(env.kubeconfig);
  home = await createToolHome(env);
  gpg = await createGpgHome();
  await gpg.generateKey(RELEASE);
  await gpg.generateKey(INTRUDER);
  await writeFile(join(dir, 'secring.gpg'), await gpg.exportSecret());
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  // The release key only, binary (gpg --export): the form helm's own --keyring takes.
  await kube.apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'helm-keys', namespace: ns },
    data: { 'pubring.gpg': (await gpg.exportPublic(RELEASE)).toString('base64') },
  } as KubernetesObject);
  operator = await startInProcessOperator(env, ['--watch-namespace', ns]);
}, 120_000);

afterAll(async () => {
  await operator?.shutdown('test done');
  await gpg?.remove();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('operator with verify.provenance', () => {
  it('trusts a HelmChart of an OCI HelmRepository signed by the keyring, then holds it after a re-push signed by another key', async () => {
    const good = await pushSigned('good', 'Release Signer');
    await kube.apply({
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'HelmRepository',
      metadata: { name: 'charts', namespace: ns },
      spec: { type: 'oci', url: `oci://${registry.host}/${ns}-charts`, interval: '10m', insecure: true },
    } as KubernetesObject);
    await kube.apply({
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'HelmChart',
      metadata: { name: 'payment', namespace: ns },
      spec: {
        chart: 'payment',
        version: '0.1.0',
        sourceRef: { kind: 'HelmRepository', name: 'charts' },
        interval: '10m',
      },
    } as KubernetesObject);
    await kube.apply(
      avObject(ns, 'payment', {
        sourceRef: { kind: 'HelmChart', name: 'payment' },
        action: 'Suspend',
        interval: '10s',
        verify: { provenance: [{ name: 'helm-release', keyring: { secretRef: { name: 'helm-keys' } } }] },
      }),
    );
    const trusted = await waitForAv(
      kube,
      ns,
      'payment',
      'Ready=True',
      (o: ArtifactVerification) => condition(o, 'Ready')?.status === 'True',
    );
    expect(condition(trusted, 'Verified')?.status).toBe('True');
    expect(trusted.status?.trustedDigest).toBe(good.digest);
    expect(trusted.status?.signers).toEqual([
      expect.objectContaining({ name: 'helm-release', type: 'provenance', format: 'provenance' }),
    ]);
    expect(trusted.status?.signers?.[0]?.identity).toMatch(/^[0-9A-F]{40}$/);

    const evil = await pushSigned('evil', 'Intruder');
    expect(evil.digest).not.toBe(good.digest);
    await requestCheck(kube, ns, 'payment');
    const held = await waitForAv(
      kube,
      ns,
      'payment',
      'Held=True',
      (o: ArtifactVerification) => condition(o, 'Held')?.status === 'True' && judged(o),
    );
    expect(condition(held, 'Verified')).toMatchObject({ status: 'False', reason: 'UntrustedSigner' });
    expect(condition(held, 'Verified')?.message).toMatch(/ProvenanceUnknownSigner/);
    expect(condition(held, 'TagMutated')?.status).toBe('True');
    expect(held.status?.trustedDigest).toBe(good.digest);
    const helmChart = await kube.read<KubernetesObject & { spec: { suspend?: boolean } }>(
      'source.toolkit.fluxcd.io/v1',
      'HelmChart',
      'payment',
      ns,
    );
    expect(helmChart.spec.suspend).toBe(true);
    await until('VerificationFailed event', 10_000, async () =>
      (await eventReasons(kube, ns, 'payment')).includes('VerificationFailed'),
    );
  }, 180_000);
});
