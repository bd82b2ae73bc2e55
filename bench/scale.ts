// Benchmark (issue 17): N ArtifactVerifications over T tags on one operator, side by side with Flux's
// source-controller polling the same T tags as OCIRepositories, on one real kube-apiserver + etcd and one
// CNCF distribution registry. Reports, per tool: time to all Ready, CPU to get there, steady CPU (% of one
// core) and RSS from /proc, registry requests per minute (distribution's access log, by User-Agent) and
// API writes per minute (apiserver_request_total by API group) over a steady window after all are Ready;
// then the ratios tagguard / source-controller. The machine is shared: read ratios, not absolute times.
// Usage: node bench/scale.ts [--full] [--crs 500] [--tags 100] [--tags-per-repo 10] [--interval 60]
//          [--settle 60] [--window 120] [--ready-timeout 600] [--operator-args="..."] [--sc-args="..."]
//          [--heap deployment|node] [--shards 1] [--json]
// (--full: 5,000 CRs over 1,000 tags, a 180 s window, 25 min to get Ready)
// --shards K: K operator processes, each with --watch-label-selector sharding.tagguard.dev/key=shard<k>
// and its own Lease, the CRs labelled round-robin (docs/sharding.md); the tagguard column sums them
// (CPU, RSS; peak RSS is the largest shard's) and a line per shard follows the table.
import { mkdir } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startControlPlane } from '../test/env/control-plane.ts';
import { KubeTestClient } from '../test/env/kube.ts';
import { operatorKubeconfig } from '../test/env/operator.ts';
import { startOperatorProcess } from '../test/env/operator-process.ts';
import { allCrdDirs, runsDir } from '../test/env/paths.ts';
import { ProcessSupervisor } from '../test/env/processes.ts';
import { startDistributionService } from '../test/env/registries.ts';
import type { TestEnvInfo } from '../test/env/test-env.ts';
import { mapBounded } from './scale/bounded.ts';
import {
  apiWrites,
  diffCounts,
  logOffset,
  registryRequests,
  sumWhere,
  tagguardRegistryRequests,
} from './scale/counters.ts';
import { isReady, RawKube } from './scale/kube-raw.ts';
import { cpuPercent, sampleProcess, type ProcSample } from './scale/proc-stats.ts';
import { PUSH_USER_AGENT, pushTags } from './scale/push-tags.ts';
import { markdownReport, type ScaleResult, type ToolFigures } from './scale/report.ts';
import { startSourceController } from './scale/source-controller.ts';
import { deploymentNodeOptions } from './scale/deployment-env.ts';

const { values } = parseArgs({
  options: {
    full: { type: 'boolean', default: false },
    crs: { type: 'string' },
    tags: { type: 'string' },
    'tags-per-repo': { type: 'string', default: '10' },
    interval: { type: 'string', default: '60' },
    settle: { type: 'string' },
    window: { type: 'string' },
    'ready-timeout': { type: 'string' },
    'create-concurrency': { type: 'string', default: '16' },
    'operator-args': { type: 'string', default: '' },
    'sc-args': { type: 'string', default: '' },
    heap: { type: 'string', default: 'deployment' },
    shards: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});
const positiveInt = (name: string, text: string | undefined): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return n;
};
const FULL = values.full;
const N = positiveInt('crs', values.crs ?? (FULL ? '5000' : '500'));
const T = positiveInt('tags', values.tags ?? (FULL ? '1000' : '100'));
const TAGS_PER_REPO = positiveInt('tags-per-repo', values['tags-per-repo']);
const INTERVAL_S = positiveInt('interval', values.interval);
const SETTLE_S = positiveInt('settle', values.settle ?? String(INTERVAL_S));
const WINDOW_S = positiveInt('window', values.window ?? String(INTERVAL_S * (FULL ? 3 : 2)));
const READY_TIMEOUT_S = positiveInt('ready-timeout', values['ready-timeout'] ?? (FULL ? '1500' : '600'));
const CREATE_CONCURRENCY = positiveInt('create-concurrency', values['create-concurrency']);
const SHARDS = positiveInt('shards', values.shards);
const SHARD_LABEL = 'sharding.tagguard.dev/key';
const shardOf = (i: number): string => `shard${(i % SHARDS) + 1}`;
const splitArgs = (text: string): string[] => text.split(/\s+/).filter((a) => a !== '');
const OPERATOR_ARGS = splitArgs(values['operator-args']);
const SC_ARGS = splitArgs(values['sc-args']);
if (values.heap !== 'deployment' && values.heap !== 'node')
  throw new Error(`--heap must be deployment or node, got ${values.heap}`);
// As deployed: the operator gets the NODE_OPTIONS of config/manager (V8's heap sized for the Pod's limit);
// --heap node leaves node's own sizing (from the machine's memory).
const NODE_OPTIONS = values.heap === 'deployment' ? await deploymentNodeOptions() : undefined;
const POLL_MS = N + T > 2000 ? 10_000 : 5_000;

const AV_NS = 'scale-tagguard';
const FLUX_NS = 'scale-flux';
const AV_PATH = `/apis/tagguard.dev/v1alpha1/namespaces/${AV_NS}/artifactverifications`;
const OCI_PATH = `/apis/source.toolkit.fluxcd.io/v1/namespaces/${FLUX_NS}/ocirepositories`;

const log = (text: string): void => {
  process.stderr.write(`[scale ${new Date().toISOString().slice(11, 19)}] ${text}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const round = (n: number, digits = 1): number => Number(n.toFixed(digits));
const mib = (bytes: number): number => round(bytes / 2 ** 20);
const loads = (): number[] => loadavg().map((l) => round(l, 2));

// Which API writes and registry requests are whose: tagguard writes its own group and events.k8s.io Events,
// source-controller its group and core/v1 Events (client-go's recorder); registry requests by User-Agent.
const isTagguardWrite = (key: string): boolean => /^(tagguard\.dev|events\.k8s\.io)\//.test(key);
const isFluxWrite = (key: string): boolean => /^(source\.toolkit\.fluxcd\.io\/|core\/events )/.test(key);
const isTagguardAgent = (key: string): boolean => key.startsWith('tagguard ') || key.startsWith('tagguard/');
const isBenchAgent = (key: string): boolean => key.startsWith(`${PUSH_USER_AGENT} `);

const runDir = join(runsDir, `scale-${new Date().toISOString().replace(/[:.]/g, '-')}`);
await mkdir(runDir, { recursive: true });
const supervisor = new ProcessSupervisor(runDir);
let kube: RawKube | undefined;
const cleanup = async (): Promise<void> => {
  await kube?.close().catch(() => undefined);
  await supervisor.stopAll();
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping every process of the run`);
    void cleanup().finally(() => process.exit(130));
  });
}

try {
  log(`run directory ${runDir}; ${N} CRs over ${T} tags, interval ${INTERVAL_S} s`);
  const loadAtStart = loads();
  const plane = await startControlPlane(supervisor, runDir);
  await KubeTestClient.fromFile(plane.kubeconfig).installCrds(allCrdDirs());
  kube = new RawKube(plane);
  const raw = kube;
  const { endpoint: registry, handle: registryHandle } = await startDistributionService(supervisor, runDir, {
    name: 'distribution',
  });
  const pushStarted = performance.now();
  const tags = await pushTags(registry, runDir, T, TAGS_PER_REPO);
  log(`pushed ${T} tags in ${round((performance.now() - pushStarted) / 1000)} s`);

  const envInfo: TestEnvInfo = {
    runDir,
    kubeconfig: plane.kubeconfig,
    apiServer: plane.server,
    kubeCa: { certFile: plane.ca.certFile, keyFile: plane.ca.keyFile },
    installedCrds: [],
    registryCaFile: '',
    registries: {
      referrers: registry,
      referrersTls: registry,
      tagSchema: registry,
      tagSchemaTls: registry,
      authenticated: registry,
    },
  };
  const sourceController = await startSourceController(supervisor, runDir, plane.kubeconfig, SC_ARGS);
  const operatorConfig = await operatorKubeconfig(envInfo);
  const operators = await Promise.all(
    Array.from({ length: SHARDS }, (_, k) =>
      startOperatorProcess(supervisor, {
        name: SHARDS === 1 ? 'tagguard' : `tagguard-${shardOf(k)}`,
        kubeconfig: operatorConfig,
        leaderElect: SHARDS > 1,
        extraArgs:
          SHARDS === 1
            ? OPERATOR_ARGS
            : [
                '--watch-label-selector',
                `${SHARD_LABEL}=${shardOf(k)}`,
                '--leader-election-id',
                `tagguard-${shardOf(k)}`,
                ...OPERATOR_ARGS,
              ],
        ...(NODE_OPTIONS !== undefined ? { env: { NODE_OPTIONS } } : {}),
      }),
    ),
  );
  // The shards as one: CPU and RSS summed, peak RSS the largest shard's (each is its own Pod and limit).
  const combined = (samples: readonly ProcSample[]): ProcSample => ({
    atMs: samples[0]?.atMs ?? performance.now(),
    cpuSeconds: samples.reduce((a, b) => a + b.cpuSeconds, 0),
    rssBytes: samples.reduce((a, b) => a + b.rssBytes, 0),
    hwmBytes: Math.max(...samples.map((x) => x.hwmBytes)),
  });
  const sampleShards = (): ProcSample[] => operators.map((o) => sampleProcess(o.pid));
  const sampleOperators = (): ProcSample => combined(sampleShards());
  const operatorRequests = async (): Promise<Map<string, number>> => {
    const total = new Map<string, number>();
    for (const o of operators)
      for (const [k, v] of tagguardRegistryRequests(await o.metrics())) total.set(k, (total.get(k) ?? 0) + v);
    return total;
  };
  for (const name of [AV_NS, FLUX_NS])
    await raw.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  await sleep(5_000);
  const idle = { tagguard: sampleOperators(), flux: sampleProcess(sourceController.pid) };

  // Both tools' objects are created at once, each with half the concurrency: side by side from here on.
  const createStarted = performance.now();
  const url = (i: number): { url: string; tag: string } => {
    const pushed = tags[i % T];
    if (!pushed) throw new Error(`no tag ${i % T}`);
    return { url: `oci://${registry.host}/${pushed.repository}`, tag: pushed.tag };
  };
  const interval = `${INTERVAL_S}s`;
  const half = Math.max(1, Math.floor(CREATE_CONCURRENCY / 2));
  const createdAfter = { tagguard: 0, flux: 0 };
  const creatingFlux = mapBounded(
    Array.from({ length: T }, (_, i) => i),
    half,
    (i) =>
      raw.create(OCI_PATH, {
        apiVersion: 'source.toolkit.fluxcd.io/v1',
        kind: 'OCIRepository',
        metadata: { name: `oci-${i}`, namespace: FLUX_NS },
        spec: { url: url(i).url, ref: { tag: url(i).tag }, interval, insecure: true },
      }),
  ).then(() => (createdAfter.flux = (performance.now() - createStarted) / 1000));
  const creatingAvs = mapBounded(
    Array.from({ length: N }, (_, i) => i),
    half,
    (i) =>
      raw.create(AV_PATH, {
        apiVersion: 'tagguard.dev/v1alpha1',
        kind: 'ArtifactVerification',
        metadata: {
          name: `av-${i}`,
          namespace: AV_NS,
          ...(SHARDS > 1 ? { labels: { [SHARD_LABEL]: shardOf(i) } } : {}),
        },
        spec: { artifact: { ...url(i), insecure: true }, interval },
      }),
  ).then(() => (createdAfter.tagguard = (performance.now() - createStarted) / 1000));
  await Promise.all([creatingFlux, creatingAvs]);
  log(
    `created ${T} OCIRepositories in ${round(createdAfter.flux)} s, ${N} ArtifactVerifications in ${round(createdAfter.tagguard)} s`,
  );

  // All Ready: polled by listing (the bench's reads stop once both are complete).
  const readyAfter: { tagguard?: number; flux?: number } = {};
  const readyCount = { tagguard: 0, flux: 0 };
  const cpuAtReady: { tagguard?: ProcSample; flux?: ProcSample } = {};
  const deadline = createStarted + READY_TIMEOUT_S * 1000;
  while (
    performance.now() < deadline &&
    (readyAfter.tagguard === undefined || readyAfter.flux === undefined)
  ) {
    if (readyAfter.flux === undefined) {
      readyCount.flux = (await raw.list(OCI_PATH)).filter(isReady).length;
      if (readyCount.flux === T) {
        readyAfter.flux = (performance.now() - createStarted) / 1000;
        cpuAtReady.flux = sampleProcess(sourceController.pid);
      }
    }
    if (readyAfter.tagguard === undefined) {
      readyCount.tagguard = (await raw.list(AV_PATH)).filter(isReady).length;
      if (readyCount.tagguard === N) {
        readyAfter.tagguard = (performance.now() - createStarted) / 1000;
        cpuAtReady.tagguard = sampleOperators();
      }
    }
    log(
      `ready: tagguard ${readyCount.tagguard}/${N}, source-controller ${readyCount.flux}/${T} ` +
        `after ${round((performance.now() - createStarted) / 1000, 0)} s; load ${loads().join(' ')}`,
    );
    if (readyAfter.tagguard === undefined || readyAfter.flux === undefined) await sleep(POLL_MS);
  }
  const rampEnd = { tagguard: sampleOperators(), flux: sampleProcess(sourceController.pid) };

  log(`settling ${SETTLE_S} s, then a ${WINDOW_S} s window`);
  await sleep(SETTLE_S * 1000);
  const loadAtWindowStart = loads();
  const shardStart = sampleShards();
  const start = {
    tagguard: combined(shardStart),
    flux: sampleProcess(sourceController.pid),
    api: apiWrites(await raw.metrics()),
    tagguardMetric: await operatorRequests(),
    registryLog: logOffset(registryHandle.logFile),
  };
  await sleep(WINDOW_S * 1000);
  const shardEnd = sampleShards();
  const end = {
    tagguard: combined(shardEnd),
    flux: sampleProcess(sourceController.pid),
    api: apiWrites(await raw.metrics()),
    tagguardMetric: await operatorRequests(),
    registryLog: logOffset(registryHandle.logFile),
  };
  const loadAtWindowEnd = loads();
  const readyAtEnd = {
    tagguard: (await raw.list(AV_PATH)).filter(isReady).length,
    flux: (await raw.list(OCI_PATH)).filter(isReady).length,
  };

  const minutes = WINDOW_S / 60;
  const perMin = (n: number): number => round(n / minutes);
  const writes = diffCounts(start.api, end.api);
  const requests = registryRequests(registryHandle.logFile, start.registryLog, end.registryLog);
  const tagguardMetric = diffCounts(start.tagguardMetric, end.tagguardMetric);
  const intervalsInWindow = WINDOW_S / INTERVAL_S;
  const figures = (
    which: 'tagguard' | 'flux',
    objects: number,
    isWrite: (key: string) => boolean,
    isAgent: (key: string) => boolean,
  ): ToolFigures => {
    const pick = (m: Map<string, number>, keep: (k: string) => boolean): Record<string, number> =>
      Object.fromEntries([...m].filter(([k]) => keep(k)).sort());
    const registryTotal = sumWhere(requests, isAgent);
    const ready = readyAfter[which];
    const atReady = cpuAtReady[which] ?? rampEnd[which];
    return {
      objects,
      createdAfterSeconds: round(createdAfter[which]),
      allReadySeconds: ready === undefined ? null : round(ready),
      readyAtTimeout: ready === undefined ? readyCount[which] : objects,
      readyAtWindowEnd: readyAtEnd[which],
      cpuSecondsToReady: round(atReady.cpuSeconds - idle[which].cpuSeconds),
      steadyCpuPercent: round(cpuPercent(start[which], end[which]), 2),
      idleRssMiB: mib(idle[which].rssBytes),
      rssMiB: mib(end[which].rssBytes),
      peakRssMiB: mib(end[which].hwmBytes),
      rssPerObjectKiB: round(end[which].rssBytes / 1024 / objects),
      rssGrowthKiBPerObject: round((end[which].rssBytes - idle[which].rssBytes) / 1024 / objects, 2),
      registryRequestsPerMinute: perMin(registryTotal),
      registryRequestsPerTagPerInterval: round(registryTotal / (T * intervalsInWindow), 2),
      registryRequestsByAgent: pick(requests, isAgent),
      apiWritesPerMinute: perMin(sumWhere(writes, isWrite)),
      apiWritesByResource: pick(writes, isWrite),
    };
  };
  const tagguard = figures('tagguard', N, isTagguardWrite, isTagguardAgent);
  const flux = figures('flux', T, isFluxWrite, (k) => !isTagguardAgent(k) && !isBenchAgent(k));
  const ratio = (a: number | null, b: number | null): number | null =>
    a === null || b === null || b === 0 ? null : round(a / b, 2);
  const result: ScaleResult = {
    benchmark: 'scale',
    crs: N,
    tags: T,
    tagsPerRepository: TAGS_PER_REPO,
    intervalSeconds: INTERVAL_S,
    settleSeconds: SETTLE_S,
    windowSeconds: WINDOW_S,
    operatorArgs: OPERATOR_ARGS,
    shards: operators.map((_, k) => {
      const from = shardStart[k];
      const to = shardEnd[k];
      if (from === undefined || to === undefined) throw new Error(`no samples of shard ${k}`);
      return {
        name: SHARDS === 1 ? 'tagguard' : shardOf(k),
        crs: Math.ceil((N - k) / SHARDS),
        steadyCpuPercent: round(cpuPercent(from, to), 2),
        rssMiB: mib(to.rssBytes),
        peakRssMiB: mib(to.hwmBytes),
      };
    }),
    operatorNodeOptions: NODE_OPTIONS ?? null,
    sourceControllerArgs: SC_ARGS,
    machine: { cpus: cpus().length, loadAtStart, loadAtWindowStart, loadAtWindowEnd },
    tagguard: {
      ...tagguard,
      metricRegistryRequestsPerMinute: perMin([...tagguardMetric.values()].reduce((a, b) => a + b, 0)),
    },
    sourceController: flux,
    otherApiWrites: Object.fromEntries(
      [...writes].filter(([k]) => !isTagguardWrite(k) && !isFluxWrite(k)).sort(),
    ),
    ratios: {
      allReady: ratio(tagguard.allReadySeconds, flux.allReadySeconds),
      steadyCpu: ratio(tagguard.steadyCpuPercent, flux.steadyCpuPercent),
      steadyCpuPerObject: ratio(tagguard.steadyCpuPercent / N, flux.steadyCpuPercent / T),
      rss: ratio(tagguard.rssMiB, flux.rssMiB),
      rssPerObject: ratio(tagguard.rssPerObjectKiB, flux.rssPerObjectKiB),
      cpuSecondsToReady: ratio(tagguard.cpuSecondsToReady, flux.cpuSecondsToReady),
      registryRequestsPerTagPerInterval: ratio(
        tagguard.registryRequestsPerTagPerInterval,
        flux.registryRequestsPerTagPerInterval,
      ),
      apiWritesPerMinute: ratio(tagguard.apiWritesPerMinute, flux.apiWritesPerMinute),
    },
    runDir,
  };
  console.log(markdownReport(result));
  if (values.json) console.log(JSON.stringify(result, null, 2));
} finally {
  await cleanup();
}
