// Push notifications from the real CNCF distribution registry (v3) to `tagguard run --webhook-addr`: the
// registry's `notifications.endpoints` post every event to tagguard with an `Authorization: Bearer`
// header. The ArtifactVerification polls once an hour, so only the notification can explain a re-pushed
// tag being seen within seconds. A second endpoint with a wrong token is refused and counted, and an
// oversized body is refused before it is read. With leader election, a standby answers 503 (distribution
// retries) until it leads.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { KubernetesObject, V1Lease } from '@kubernetes/client-node';
import { KubeTestClient } from '../../env/kube.ts';
import { avObject, condition, readAv, until, waitForAv } from '../../env/av.ts';
import { createToolHome, type ToolHome } from '../../env/tool-home.ts';
import { packageChart } from '../../env/charts.ts';
import { pushChart, type PushedArtifact } from '../../env/oci.ts';
import { generateCosignKeyPair, signCosignLegacy, type CosignKeyPair } from '../../env/sign.ts';
import { OPERATOR_NAMESPACE, operatorKubeconfig, startInProcessOperator } from '../../env/operator.ts';
import { startOperatorProcess, type OperatorProcess } from '../../env/operator-process.ts';
import { freePort } from '../../env/ports.ts';
import { ProcessSupervisor } from '../../env/processes.ts';
import { startDistribution, type RegistryEndpoint } from '../../env/registries.ts';
import type { RunningOperator } from '../../../src/cli/run-command.ts';
import * as distribution from '../../webhook/fixtures/distribution.ts';

const env = inject('testEnv');
const ns = `hook-${Math.random().toString(36).slice(2, 7)}`;
const TOKEN = randomBytes(24).toString('hex');
let kube: KubeTestClient;
let supervisor: ProcessSupervisor;
let registry: RegistryEndpoint;
let operator: RunningOperator;
let home: ToolHome;
let key: CosignKeyPair;
let webhookUrl: string;

const metric = async (name: string, labels: string): Promise<number> => {
  const text = await (await fetch(`http://127.0.0.1:${operator.endpoints.metrics}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line ? Number(line.split(' ').pop()) : 0;
};

const chart = async (name: string, version: string, malicious = false): Promise<PushedArtifact> => {
  const dir = await mkdtemp(join(tmpdir(), 'tagguard-hook-'));
  return pushChart(
    home,
    registry,
    `${ns}-charts`,
    await packageChart(home, dir, { name, version, maliciousInitContainer: malicious }),
  );
};

/** A raw POST (node:http, so the body can be streamed without a Content-Length). */
const post = (url: string, headers: Record<string, string>, body: Buffer, chunked = false): Promise<number> =>
  new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', headers: chunked ? headers : { ...headers, 'content-length': String(body.length) } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    for (let offset = 0; offset < body.length; offset += 64 * 1024)
      req.write(body.subarray(offset, offset + 64 * 1024));
    req.end();
  });

beforeAll(async () => {
  kube = KubeTestClient.fromFile(env.kubeconfig);
  const dir = join(env.runDir, `webhook-${ns}`);
  await mkdir(dir, { recursive: true });
  supervisor = new ProcessSupervisor(dir);
  const port = await freePort();
  webhookUrl = `http://127.0.0.1:${port}/webhook/distribution`;
  registry = await startDistribution(supervisor, dir, {
    name: 'distribution-notify',
    notifications: [
      { name: 'tagguard', url: webhookUrl, headers: { Authorization: `Bearer ${TOKEN}` } },
      { name: 'wrong-token', url: webhookUrl, headers: { Authorization: `Bearer ${'x'.repeat(48)}` } },
    ],
  });
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  await kube.apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'webhook', namespace: ns },
    stringData: { token: TOKEN },
  } as KubernetesObject);
  operator = await startInProcessOperator(env, [
    '--watch-namespace',
    ns,
    '--webhook-addr',
    `127.0.0.1:${port}`,
    '--webhook-secret',
    `${ns}/webhook`,
  ]);
  home = await createToolHome(env);
  key = await generateCosignKeyPair(home, 'release');
});

afterAll(async () => {
  await operator?.shutdown('test done');
  await supervisor?.stopAll();
});

describe('push notifications from distribution', () => {
  it('sees a re-pushed tag within seconds although the ArtifactVerification polls hourly', async () => {
    const good = await chart('web', '1.0.0');
    await signCosignLegacy(home, registry, good, key);
    await kube.apply(
      avObject(ns, 'web', {
        artifact: { url: `oci://${good.repository}`, tag: good.tag, insecure: true },
        interval: '1h',
        verify: { cosign: [{ name: 'release', publicKey: key.publicKeyPem }] },
      }),
    );
    await waitForAv(kube, ns, 'web', 'Ready=True', (o) => condition(o, 'Ready')?.status === 'True');
    const resolvesBefore = await metric('tagguard_webhook_triggered_resolves_total', '');

    const evil = await chart('web', '1.0.0', true);
    const pushedAt = performance.now();
    expect(evil.digest).not.toBe(good.digest);
    await until('the re-pushed digest in status', 30_000, async () => {
      const object = await readAv(kube, ns, 'web');
      return object.status?.artifact?.digest === evil.digest;
    });
    const detectedMs = performance.now() - pushedAt;
    console.log(`webhook: re-push seen after ${Math.round(detectedMs)} ms (poll interval 1 h)`);
    expect(detectedMs).toBeLessThan(15_000);
    const held = await waitForAv(
      kube,
      ns,
      'web',
      'Verified=False',
      (o) => condition(o, 'Verified')?.status === 'False',
    );
    expect(condition(held, 'TagMutated')?.status).toBe('True');
    expect(
      await metric('tagguard_webhook_requests_total', '{provider="distribution",result="accepted"}'),
    ).toBeGreaterThan(0);
    expect(await metric('tagguard_webhook_triggered_resolves_total', '')).toBeGreaterThan(resolvesBefore);
  });

  it("refuses the registry's endpoint that sends a wrong token, and counts it", async () => {
    await until(
      'unauthorized deliveries counted',
      20_000,
      async () =>
        (await metric('tagguard_webhook_requests_total', '{provider="distribution",result="unauthorized"}')) >
        0,
    );
    const body = Buffer.from(JSON.stringify({ events: [] }));
    const json = { 'content-type': 'application/vnd.docker.distribution.events.v2+json' };
    expect(await post(webhookUrl, { ...json, authorization: `Bearer ${TOKEN}x` }, body)).toBe(401);
    expect(await post(webhookUrl, json, body)).toBe(401);
    expect(await post(webhookUrl, { ...json, authorization: `Bearer ${TOKEN}` }, body)).toBe(202);
  });

  it('refuses a 2 MiB body, declared or streamed, without reading it whole', async () => {
    const before = await metric(
      'tagguard_webhook_requests_total',
      '{provider="distribution",result="too_large"}',
    );
    const big = Buffer.alloc(2 * 1024 * 1024, 0x20);
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` };
    expect(await post(webhookUrl, headers, big)).toBe(413);
    expect(await post(webhookUrl, headers, big, true)).toBe(413);
    expect(
      await metric('tagguard_webhook_requests_total', '{provider="distribution",result="too_large"}'),
    ).toBe(before + 2);
  });
});

describe('push notifications with leader election', () => {
  it('a standby answers 503 so the sender retries, and acts once it leads', async () => {
    const kubeconfig = await operatorKubeconfig(env);
    const lease = `hook-${ns}`;
    const ports = [await freePort(), await freePort()];
    const replicas: OperatorProcess[] = [];
    for (const [i, port] of ports.entries())
      replicas.push(
        await startOperatorProcess(supervisor, {
          name: `hook-replica-${i}`,
          kubeconfig,
          leaderElect: true,
          watchNamespace: ns,
          extraArgs: [
            '--leader-election-id',
            lease,
            '--webhook-addr',
            `127.0.0.1:${port}`,
            '--webhook-secret',
            `${ns}/webhook`,
          ],
        }),
      );
    const holder = async () =>
      (
        await kube.read<V1Lease & KubernetesObject>(
          'coordination.k8s.io/v1',
          'Lease',
          lease,
          OPERATOR_NAMESPACE,
        )
      ).spec?.holderIdentity ?? '';
    let current = '';
    await until('one replica holds the Lease', 30_000, async () => {
      current = await holder().catch(() => '');
      return replicas.some((r) => r.identity === current);
    });
    const leader = replicas.find((r) => r.identity === current);
    const standby = replicas.find((r) => r.identity !== current);
    if (!leader || !standby) throw new Error(`no leader among the replicas (holder ${current})`);
    const hook = (replica: OperatorProcess) =>
      `http://127.0.0.1:${ports[replicas.indexOf(replica)]}/webhook/distribution`;
    const body = Buffer.from(JSON.stringify(distribution.manifestPushWithTag));
    const headers = {
      'content-type': 'application/vnd.docker.distribution.events.v2+json',
      authorization: `Bearer ${TOKEN}`,
    };
    await until('the leader accepts', 30_000, async () => (await post(hook(leader), headers, body)) === 202);
    expect(await post(hook(standby), headers, body)).toBe(503);

    await leader.kill('SIGTERM');
    await until(
      'the standby takes over and accepts',
      30_000,
      async () => (await post(hook(standby), headers, body)) === 202,
    );
    await standby.kill('SIGTERM');
  });
});
