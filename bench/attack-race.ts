// Measurement (issue 7): with Flux and tagguard both polling every 10 s, how often does the attacker's
// re-pushed digest reach an OCIRepository's status.artifact before tagguard acts — in Suspend mode and in
// Pin mode? N independent trials per mode run side by side, each with its own chart repository,
// OCIRepository and ArtifactVerification, the attack landing at a random moment of the poll cycle. The
// real Flux source-controller, the operator (in this process) and the test registry; no asserts.
// Usage: node bench/attack-race.ts [trials per mode = 20]
import { mkdir, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { KubernetesObject } from '@kubernetes/client-node';
import { startTestEnv } from '../test/env/test-env.ts';
import { KubeTestClient } from '../test/env/kube.ts';
import { ProcessSupervisor } from '../test/env/processes.ts';
import { startFluxControllers } from '../test/env/flux.ts';
import { createToolHome } from '../test/env/tool-home.ts';
import { packageChart } from '../test/env/charts.ts';
import { pushChart } from '../test/env/oci.ts';
import { generateCosignKeyPair, signCosignLegacy } from '../test/env/sign.ts';
import { startInProcessOperator } from '../test/env/operator.ts';
import { avObject, condition, readAv, until } from '../test/env/av.ts';

const TRIALS = Number(process.argv[2] ?? 20);
const INTERVAL_S = 10;
const OBSERVE_MS = 3 * INTERVAL_S * 1000;

type Repo = KubernetesObject & { status?: { artifact?: { revision?: string } } };

const env = await startTestEnv();
const fluxDir = join(env.info.runDir, 'attack-race');
await mkdir(fluxDir, { recursive: true });
// Its own supervisor (and process-group file) in a subdirectory: the environment's belongs to startTestEnv.
const supervisor = new ProcessSupervisor(fluxDir);
try {
  const kube = KubeTestClient.fromFile(env.info.kubeconfig);
  const registry = env.info.registries.referrers;
  const home = await createToolHome(env.info);
  const key = await generateCosignKeyPair(home, 'release');
  const flux = await startFluxControllers(supervisor, fluxDir, env.info.kubeconfig);
  const operator = await startInProcessOperator(env.info);
  const ns = 'race';
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });

  const packaged = async (name: string, malicious: boolean): Promise<string> =>
    packageChart(home, await mkdtemp(join(tmpdir(), 'tagguard-race-')), {
      name,
      version: '1.0.0',
      maliciousInitContainer: malicious,
    });
  const chart = async (name: string, malicious: boolean) =>
    pushChart(home, registry, 'race', await packaged(name, malicious));

  const trial = async (
    mode: 'Suspend' | 'Pin',
    index: number,
  ): Promise<{ mode: string; reached: boolean; detectedMs: number }> => {
    const name = `${mode.toLowerCase()}-${index}`;
    const good = await chart(name, false);
    await signCosignLegacy(home, registry, good, key);
    await kube.applyAll([
      {
        apiVersion: 'source.toolkit.fluxcd.io/v1',
        kind: 'OCIRepository',
        metadata: { name, namespace: ns },
        spec: {
          interval: `${INTERVAL_S}s`,
          url: `oci://${registry.host}/race/${name}`,
          ref: { tag: '1.0.0' },
          insecure: true,
          layerSelector: {
            mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
            operation: 'copy',
          },
        },
      } as KubernetesObject,
    ]);
    // Flux's and tagguard's poll cycles start at independent moments, as in a real cluster.
    await new Promise((r) => setTimeout(r, Math.random() * INTERVAL_S * 1000));
    await kube.apply(
      avObject(ns, name, {
        sourceRef: { kind: 'OCIRepository', name },
        interval: `${INTERVAL_S}s`,
        action: mode,
        verify: { cosign: [{ name: 'release', publicKey: key.publicKeyPem }] },
      }),
    );
    await until(`${name} trusted and fetched`, 120_000, async () => {
      const [av, repo] = await Promise.all([
        readAv(kube, ns, name),
        kube.read<Repo>('source.toolkit.fluxcd.io/v1', 'OCIRepository', name, ns),
      ]);
      return (
        condition(av, 'Ready')?.status === 'True' &&
        (repo.status?.artifact?.revision ?? '').includes(good.digest)
      );
    });
    // The attack lands at a random moment of both poll cycles; time runs from the moment the push is done.
    const evilChart = await packaged(name, true);
    await new Promise((r) => setTimeout(r, Math.random() * INTERVAL_S * 1000));
    const evil = await pushChart(home, registry, 'race', evilChart);
    const attackAt = performance.now();
    let reached = false;
    let detectedMs = Number.NaN;
    while (performance.now() - attackAt < OBSERVE_MS) {
      const [av, repo] = await Promise.all([
        readAv(kube, ns, name),
        kube.read<Repo>('source.toolkit.fluxcd.io/v1', 'OCIRepository', name, ns),
      ]);
      if ((repo.status?.artifact?.revision ?? '').includes(evil.digest)) reached = true;
      if (Number.isNaN(detectedMs) && condition(av, 'Verified')?.status === 'False')
        detectedMs = performance.now() - attackAt;
      await new Promise((r) => setTimeout(r, 200));
    }
    return { mode, reached, detectedMs };
  };

  const started = performance.now();
  // Batches of a few trials of each mode at a time: 2 cores, and each trial runs helm, cosign and a scan.
  const BATCH = 5;
  const results: Awaited<ReturnType<typeof trial>>[] = [];
  for (let first = 0; first < TRIALS; first += BATCH) {
    const indexes = Array.from({ length: Math.min(BATCH, TRIALS - first) }, (_, i) => first + i);
    results.push(
      ...(await Promise.all([
        ...indexes.map((i) => trial('Suspend', i)),
        ...indexes.map((i) => trial('Pin', i)),
      ])),
    );
  }
  const summary = (mode: string) => {
    const rows = results.filter((r) => r.mode === mode);
    const detected = rows
      .map((r) => r.detectedMs)
      .filter((v) => !Number.isNaN(v))
      .sort((a, b) => a - b);
    return {
      mode,
      trials: rows.length,
      attackerDigestReachedStatusArtifact: rows.filter((r) => r.reached).length,
      detectedWithin30s: detected.length,
      detectionMedianS: detected.length
        ? Number(((detected[Math.floor(detected.length / 2)] ?? 0) / 1000).toFixed(1))
        : null,
      detectionMaxS: detected.length ? Number(((detected.at(-1) ?? 0) / 1000).toFixed(1)) : null,
    };
  };
  console.log(
    JSON.stringify(
      {
        benchmark: 'attack-race',
        intervalSeconds: INTERVAL_S,
        wallSeconds: Math.round((performance.now() - started) / 1000),
        results: [summary('Suspend'), summary('Pin')],
      },
      null,
      2,
    ),
  );
  await operator.shutdown('done');
  await flux.stop();
} finally {
  await supervisor.stopAll();
  await env.stop();
}
