// Measurement (issue 18): with Flux and tagguard both polling every 10 s, how often does the attacker's
// privileged Deployment get applied to the API server by helm-controller or kustomize-controller, for each
// Flux source kind, with Flux alone, with tagguard's default ArtifactVerification and with `action: Pin`?
// Trials run side by side, each in its own namespace and repository, the attack landing at a random moment
// of the poll cycle (bench/attack-race/trial.ts). The real Flux controllers, the operator in this process
// and the test registry; no asserts: it prints a Markdown table (and JSON with --json).
// Usage: node bench/attack-race.ts [--trials 20] [--scenario a,b] [--mode flux-alone,default,pin]
//          [--concurrency 12] [--interval 10] [--observe 40] [--workers 8] [--json]
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
import { MODES, runTrial, type Mode, type TrialResult } from './attack-race/trial.ts';

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
  const operator = await startInProcessOperator(env.info, ['--concurrency', String(WORKERS)]);
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
    registry: env.info.registries.referrers,
    release,
    recorder,
    baseDir: runDir,
  };
  const options = { intervalS: INTERVAL_S, observeMs: OBSERVE_S * 1000, setupTimeoutMs: 180_000 };
  const worker = async (): Promise<void> => {
    for (let job = jobs.shift(); job !== undefined; job = jobs.shift()) {
      const result = await runTrial(trialEnv, job.scenario, job.mode, job.index, options);
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
  console.log(
    `attack-race: Flux and tagguard intervals ${INTERVAL_S} s, ${OBSERVE_S} s observed after each push, ` +
      `${CONCURRENCY} trials at a time, ${wallSeconds} s wall\n`,
  );
  for (const s of scenarios) console.log(`- ${s.id}: ${s.title}`);
  console.log(`\n${markdown(rows)}`);
  if (values.json)
    console.log(
      JSON.stringify(
        { benchmark: 'attack-race', intervalSeconds: INTERVAL_S, wallSeconds, rows, results },
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
