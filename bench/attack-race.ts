// Measurement (issue 18): with Flux and tagguard both polling every 10 s, how often does the attacker's
// privileged Deployment get applied to the API server by helm-controller or kustomize-controller, for each
// Flux source kind, with Flux alone, with tagguard's default ArtifactVerification, with `action: Pin`, and
// with the defaults plus push notifications (default-push: the registry notifies tagguard's receiver,
// `tagguard run --webhook-addr`, of every push)? Trials run side by side, each in its own namespace and
// repository, the attack landing at a random moment of the poll cycle (bench/attack-race/trial.ts). The
// real Flux controllers, the operator in this process and the test registries; no asserts: it prints a
// Markdown table (and JSON with --json).
// Registries: only CNCF distribution sends notifications, so default-push trials push to a distribution
// instance notifying the operator; the other modes push to olareg (--registry olareg) or to a distribution
// instance without notifications (--registry distribution, the default when a push mode runs: then the
// notification is the only difference between default and default-push).
// Usage: node bench/attack-race.ts [--trials 20] [--scenario a,b] [--mode flux-alone,default,pin,default-push]
//          [--registry olareg|distribution] [--concurrency 12] [--interval 10] [--observe 40] [--workers 8]
//          [--json]
// (a bare number as the first argument is --trials, as before)
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startTestEnv } from '../test/env/test-env.ts';
import { KubeTestClient } from '../test/env/kube.ts';
import { ProcessSupervisor } from '../test/env/processes.ts';
import { startFluxControllers } from '../test/env/flux.ts';
import { createToolHome } from '../test/env/tool-home.ts';
import { generateCosignKeyPair } from '../test/env/sign.ts';
import { startInProcessOperator } from '../test/env/operator.ts';
import type { RegistryEndpoint } from '../test/env/registries.ts';
import { startNotifyingRegistry } from './notifying-registry.ts';
import { Recorder } from './attack-race/recorder.ts';
import { markdown, summarize } from './attack-race/report.ts';
import type { Scenario } from './attack-race/scenario.ts';
import { ociHelmRelease } from './attack-race/scenarios/oci-helmrelease.ts';
import { ociKustomization } from './attack-race/scenarios/oci-kustomization.ts';
import {
  helmChartExact,
  helmChartExactMiss,
  helmChartRangeNew,
  helmChartRangeRepush,
} from './attack-race/scenarios/helmchart.ts';
import { MODES, isPushMode, runTrial, type Mode, type TrialResult } from './attack-race/trial.ts';

const SCENARIOS: readonly Scenario[] = [
  ociHelmRelease,
  ociKustomization,
  helmChartExact,
  helmChartExactMiss,
  helmChartRangeRepush,
  helmChartRangeNew,
];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    trials: { type: 'string' },
    scenario: { type: 'string', default: SCENARIOS.map((s) => s.id).join(',') },
    mode: { type: 'string', default: MODES.join(',') },
    registry: { type: 'string' },
    concurrency: { type: 'string', default: '12' },
    interval: { type: 'string', default: '10' },
    observe: { type: 'string', default: '40' },
    workers: { type: 'string', default: '8' },
    json: { type: 'boolean', default: false },
  },
});
const positiveInt = (name: string, text: string | undefined): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return n;
};
const TRIALS = positiveInt('trials', values.trials ?? positionals[0] ?? '20');
const CONCURRENCY = positiveInt('concurrency', values.concurrency);
const INTERVAL_S = positiveInt('interval', values.interval);
const OBSERVE_S = positiveInt('observe', values.observe);
const WORKERS = positiveInt('workers', values.workers);
const scenarios = values.scenario.split(',').map((id) => {
  const found = SCENARIOS.find((s) => s.id === id.trim());
  if (!found) throw new Error(`unknown scenario ${id}; known: ${SCENARIOS.map((s) => s.id).join(', ')}`);
  return found;
});
const modes = values.mode.split(',').map((m) => {
  if (!(MODES as readonly string[]).includes(m.trim()))
    throw new Error(`unknown mode ${m}; known: ${MODES.join(', ')}`);
  return m.trim() as Mode;
});
const withPush = modes.some(isPushMode);
const REGISTRY = values.registry ?? (withPush ? 'distribution' : 'olareg');
if (REGISTRY !== 'olareg' && REGISTRY !== 'distribution')
  throw new Error(`--registry must be olareg or distribution, got ${REGISTRY}`);

/** The receiver's counters from the operator's /metrics: requests by result, and the resolves they triggered. */
const webhookCounts = async (metricsPort: number): Promise<Record<string, number>> => {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match =
      /^tagguard_webhook_(requests_total\{[^}]*result="([a-z_]+)"[^}]*\}|triggered_resolves_total) (\S+)$/.exec(
        line,
      );
    if (match) counts[match[2] ?? 'triggered_resolves'] = Number(match[3]);
  }
  return counts;
};

const env = await startTestEnv();
const runDir = join(env.info.runDir, 'attack-race');
await mkdir(runDir, { recursive: true });
// Its own supervisor (and process-group file) in a subdirectory: the environment's belongs to startTestEnv.
const supervisor = new ProcessSupervisor(runDir);
const recorder = new Recorder(KubeTestClient.fromFile(env.info.kubeconfig).kubeConfig);
try {
  const kube = KubeTestClient.fromFile(env.info.kubeconfig);
  const home = await createToolHome(env.info);
  const release = await generateCosignKeyPair(home, 'release');
  // Every controller reconciles as many objects at once as tagguard does: with dozens of trials at a time,
  // Flux's defaults (2 for source-controller) would queue and slow Flux down, not tagguard.
  const concurrent = [`--concurrent=${WORKERS}`];
  const flux = await startFluxControllers(supervisor, runDir, env.info.kubeconfig, {
    sourceControllerArgs: concurrent,
    helmControllerArgs: concurrent,
    kustomizeControllerArgs: concurrent,
  });
  // Push notifications: a distribution instance posting every event to the operator's receiver with a
  // bearer token (the receiver reads it from a Secret), configured as in the webhook integration test.
  let notifying: RegistryEndpoint | undefined;
  const webhookArgs: string[] = [];
  if (withPush) {
    const push = await startNotifyingRegistry(kube, supervisor, runDir, {
      namespace: 'attack-race-webhook',
      name: 'webhook',
    });
    notifying = push.registry;
    webhookArgs.push(...push.operatorArgs);
  }
  const plain = REGISTRY === 'distribution' ? env.info.registries.tagSchema : env.info.registries.referrers;
  const registryOf = (mode: Mode): RegistryEndpoint =>
    isPushMode(mode) && notifying !== undefined ? notifying : plain;
  const operator = await startInProcessOperator(env.info, ['--concurrency', String(WORKERS), ...webhookArgs]);
  await recorder.start();

  // Index-major order: whatever the concurrency, every scenario × mode advances at the same pace.
  const jobs = Array.from({ length: TRIALS }, (_, index) =>
    scenarios.flatMap((scenario) => modes.map((mode) => ({ scenario, mode, index }))),
  ).flat();
  const results: TrialResult[] = [];
  const started = performance.now();
  const trialEnv = {
    kube,
    home,
    release,
    recorder,
    baseDir: runDir,
  };
  const options = { intervalS: INTERVAL_S, observeMs: OBSERVE_S * 1000, setupTimeoutMs: 180_000 };
  const worker = async (): Promise<void> => {
    for (let job = jobs.shift(); job !== undefined; job = jobs.shift()) {
      const result = await runTrial(
        { ...trialEnv, registry: registryOf(job.mode) },
        job.scenario,
        job.mode,
        job.index,
        options,
      );
      results.push(result);
      process.stderr.write(
        `[${Math.round((performance.now() - started) / 1000)}s] ${results.length} done: ${JSON.stringify(result)}\n`,
      );
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const rows = summarize(
    results,
    scenarios.map((s) => s.id),
    modes,
  );
  const wallSeconds = Math.round((performance.now() - started) / 1000);
  const registries = Object.fromEntries(
    modes.map((mode) => {
      const r = registryOf(mode);
      return [mode, `${r.kind}${isPushMode(mode) ? ' notifying tagguard' : ''}`];
    }),
  );
  console.log(
    `attack-race: Flux and tagguard intervals ${INTERVAL_S} s, ${OBSERVE_S} s observed after each push, ` +
      `${CONCURRENCY} trials at a time, ${wallSeconds} s wall; registries: ` +
      `${Object.entries(registries)
        .map(([mode, r]) => `${mode} ${r}`)
        .join(', ')}\n`,
  );
  for (const s of scenarios) console.log(`- ${s.id}: ${s.title}`);
  // What the receiver did: every accepted notification that matched a watched key, and the resolves it caused.
  const webhook = withPush ? await webhookCounts(operator.endpoints.metrics) : undefined;
  if (webhook !== undefined) console.log(`- push notifications: ${JSON.stringify(webhook)}`);
  console.log(`\n${markdown(rows)}`);
  if (values.json)
    console.log(
      JSON.stringify(
        {
          benchmark: 'attack-race',
          intervalSeconds: INTERVAL_S,
          wallSeconds,
          registries,
          ...(webhook !== undefined ? { webhook } : {}),
          rows,
          results,
        },
        null,
        2,
      ),
    );
  recorder.stop();
  await operator.shutdown('done');
  await flux.stop();
} finally {
  recorder.stop();
  await supervisor.stopAll();
  await env.stop();
}
