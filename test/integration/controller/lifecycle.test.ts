// `tagguard run` as a process through what a cluster does to it: SIGTERM (a rollout), two replicas with
// leader election and the leader SIGKILLed, an API server restart and a forced watch expiry (410 Gone).
// On a control plane of this file's own, so the API server can be restarted and etcd compacted, and no
// other test file's operator reconciles these objects. The operator runs as its ServiceAccount under
// config/rbac.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { CoordinationV1Api, type KubernetesObject } from '@kubernetes/client-node';
import { packageChart } from '../../env/charts.ts';
import { pushChart, type PushedArtifact } from '../../env/oci.ts';
import { OPERATOR_NAMESPACE } from '../../env/operator.ts';
import {
  startOperatorCluster,
  startOperatorProcess,
  type OperatorCluster,
  type OperatorProcess,
  type OperatorProcessOptions,
} from '../../env/operator-process.ts';
import { probe } from '../../env/https-get.ts';
import { waitFor } from '../../env/processes.ts';
import { generateCosignKeyPair, signCosignLegacy, type CosignKeyPair } from '../../env/sign.ts';
import { createToolHome, type ToolHome } from '../../env/tool-home.ts';
import { compactEtcd } from '../runtime/support.ts';
import { TcpGate } from '../runtime/tcp-gate.ts';
import { ANNOTATIONS, type ArtifactVerification } from '../../../src/api/artifact-verification.ts';
import { HoldManager } from '../../../src/enforce/holds.ts';
import { createLogger } from '../../../src/observability/logger.ts';

const env = inject('testEnv');
const LEASE = 'tagguard-leader';
// The defaults of `tagguard run` (client-go's): 15 s lease, 10 s renew deadline, 2 s retry period.
const LEASE_DURATION_MS = 15_000;
const RETRY_PERIOD_MS = 2_000;

let cluster: OperatorCluster;
let home: ToolHome;
let key: CosignKeyPair;
let signed: PushedArtifact;
let ns: string;
const running: OperatorProcess[] = [];
let gate: TcpGate | undefined;

const start = async (options: Omit<OperatorProcessOptions, 'kubeconfig'> & { kubeconfig?: string }) => {
  // Its own namespace only: other test files run operators and Argo CD / Flux objects against the same API
  // server at the same time, and an operator watching them all would judge (and hold) their objects too.
  const operator = await startOperatorProcess(cluster.supervisor, {
    kubeconfig: cluster.operatorKubeconfig,
    watchNamespace: ns,
    ...options,
  });
  running.push(operator);
  return operator;
};

const av = (name: string, interval = '1m'): KubernetesObject =>
  ({
    apiVersion: 'tagguard.dev/v1alpha1',
    kind: 'ArtifactVerification',
    metadata: { name, namespace: ns },
    spec: {
      artifact: { url: `oci://${signed.repository}`, tag: signed.tag, insecure: true },
      interval,
      verify: { cosign: [{ name: 'release', publicKey: key.publicKeyPem }] },
    },
  }) as KubernetesObject;

const readAv = (name: string): Promise<ArtifactVerification> =>
  cluster.kube.read<ArtifactVerification & KubernetesObject>(
    'tagguard.dev/v1alpha1',
    'ArtifactVerification',
    name,
    ns,
  );

/** Ready=True for the object's current generation: the operator has reconciled exactly this spec. */
const reconciledGeneration = (o: ArtifactVerification): boolean =>
  o.status?.observedGeneration === o.metadata.generation &&
  (o.status?.conditions ?? []).some(
    (c) => c.type === 'Ready' && c.status === 'True' && c.observedGeneration === o.metadata.generation,
  );

const waitForReconciled = async (name: string, timeoutMs = 60_000): Promise<ArtifactVerification> => {
  let last: ArtifactVerification | undefined;
  await waitFor(
    `${name} reconciled at its current generation`,
    async () => {
      last = await readAv(name);
      return reconciledGeneration(last) ? true : undefined;
    },
    { timeoutMs, intervalMs: 200 },
  ).catch((error: unknown) => {
    throw new Error(
      `${String(error)}\nlast: ${JSON.stringify({ meta: last?.metadata, status: last?.status })}`,
    );
  });
  return last as ArtifactVerification;
};

const changeInterval = (name: string, interval: string) =>
  cluster.kube.mergePatch(
    { apiVersion: 'tagguard.dev/v1alpha1', kind: 'ArtifactVerification', metadata: { name, namespace: ns } },
    { spec: { interval } },
  );

const holder = async (): Promise<string | undefined> => {
  const leases = cluster.kube.kubeConfig.makeApiClient(CoordinationV1Api);
  try {
    const lease = await leases.readNamespacedLease({ namespace: OPERATOR_NAMESPACE, name: LEASE });
    return lease.spec?.holderIdentity ?? '';
  } catch {
    return undefined;
  }
};

const waitForHolder = (identities: readonly string[], timeoutMs: number): Promise<string> =>
  waitFor(
    `the Lease held by one of ${identities.join(', ')}`,
    async () => {
      const current = await holder();
      return current !== undefined && identities.includes(current) ? current : undefined;
    },
    { timeoutMs, intervalMs: 100 },
  );

/** Reconciles this process has done, from its /metrics (0 when it never reconciled). */
const reconcileCount = async (operator: OperatorProcess): Promise<number> => {
  const body = await operator.metrics();
  return [...body.matchAll(/^tagguard_reconcile_duration_seconds_count\{[^}]*\} (\d+)/gm)].reduce(
    (sum, m) => sum + Number(m[1]),
    0,
  );
};

const logLines = async (operator: OperatorProcess): Promise<Record<string, unknown>[]> =>
  (await readFile(operator.logFile, 'utf8'))
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return []; // the line being written right now
      }
    });

/** Waits until the operator has logged nothing for a second (its work queue is idle). */
const waitForQuiet = async (operator: OperatorProcess): Promise<void> => {
  let last = -1;
  await waitFor(
    `${operator.name} to be idle`,
    async () => {
      const size = (await readFile(operator.logFile)).length;
      const quiet = size === last;
      last = size;
      return quiet ? true : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 1_000 },
  );
};

/** Whether the API server refuses a watch of ArtifactVerifications from this resourceVersion with 410 Gone. */
const watchExpired = async (resourceVersion: string): Promise<boolean> => {
  const { plane } = cluster;
  const res = await probe(
    `${plane.server}/apis/tagguard.dev/v1alpha1/artifactverifications?watch=1&timeoutSeconds=1&resourceVersion=${resourceVersion}`,
    { caFile: plane.ca.certFile, certFile: plane.admin.certFile, keyFile: plane.admin.keyFile },
  );
  return res.status === 410 || /"code":\s*410/.test(res.body);
};

/** A leader is ready once its operator has started and its caches have synced. */
const waitForReady = (operator: OperatorProcess): Promise<true> =>
  waitFor(
    `${operator.name} ready as the leader`,
    async () => {
      const res = await fetch(`http://127.0.0.1:${operator.healthPort}/readyz`);
      const log = await logLines(operator);
      return res.status === 200 && log.some((l) => l.msg === 'operator started') ? true : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 100, process: operator.handle },
  );

beforeAll(async () => {
  [cluster, home] = await Promise.all([startOperatorCluster(env, 'lifecycle'), createToolHome(env)]);
  key = await generateCosignKeyPair(home, 'release');
  const dir = await mkdtemp(join(tmpdir(), 'tagguard-lifecycle-'));
  ns = `life-${Date.now().toString(36)}`;
  signed = await pushChart(
    home,
    env.registries.referrers,
    ns,
    await packageChart(home, dir, { name: 'payment', version: '1.0.0' }),
  );
  await signCosignLegacy(home, env.registries.referrers, signed, key);
  await cluster.kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
});

afterEach(async () => {
  await Promise.all(
    running
      .splice(0)
      .filter((o) => !o.handle.hasExited())
      .map((o) => o.kill('SIGKILL')),
  );
  await gate?.close();
  gate = undefined;
});

afterAll(async () => {
  await cluster?.stop();
});

describe('tagguard run as a process', () => {
  it('exits 0 within 10 s of SIGTERM and releases its Lease, so a standby takes over without waiting for expiry', async () => {
    const first = await start({ name: 'sigterm-a', leaderElect: true });
    await waitForHolder([first.identity], 30_000);
    await cluster.kube.apply(av('sigterm'));
    await waitForReconciled('sigterm');
    const standby = await start({ name: 'sigterm-b', leaderElect: true });

    const sentAt = Date.now();
    const exit = await first.kill('SIGTERM');
    expect(exit.status, first.logTail()).toBe('0');
    expect(exit.exitMs).toBeLessThan(10_000);
    const log = await logLines(first);
    expect(log.some((l) => l.msg === 'released the Lease')).toBe(true);
    // A Lease that was not released could only be taken after it expired: at least the lease duration
    // after the leader's last renewal, which was at most one retry period before the signal.
    await waitForHolder([standby.identity], LEASE_DURATION_MS);
    const takeoverMs = Date.now() - sentAt;
    expect(takeoverMs).toBeLessThan(LEASE_DURATION_MS - RETRY_PERIOD_MS);

    // The last replica going away leaves the Lease with no holder. (Once it runs as the leader: a SIGTERM
    // while the operator is still starting is the known gap skipped below.)
    await waitForReady(standby);
    const last = await standby.kill('SIGTERM');
    expect(last.status, standby.logTail()).toBe('0');
    expect(last.exitMs).toBeLessThan(10_000);
    expect(await holder()).toBe('');
    console.log(
      `SIGTERM: leader exited in ${Math.round(exit.exitMs)} ms, standby led ${takeoverMs} ms after the signal; ` +
        `standby exited in ${Math.round(last.exitMs)} ms`,
    );
  });

  // A SIGTERM between "became leader" and the operator having started must stop what the start brings up
  // (it once left an operator reconciling without the Lease).
  it('exits 0 within 10 s of a SIGTERM that arrives while it is starting as the leader', async () => {
    const operator = await start({ name: 'sigterm-starting', leaderElect: true });
    await waitFor(
      'became leader',
      async () => ((await logLines(operator)).some((l) => l.msg === 'became leader') ? true : undefined),
      { timeoutMs: 30_000, intervalMs: 10, process: operator.handle },
    );
    const exit = await operator.kill('SIGTERM', 12_000);
    expect(exit.status, operator.logTail()).toBe('0');
    expect(exit.exitMs).toBeLessThan(10_000);
    expect(await holder()).toBe('');
  });

  it('lets exactly one of two replicas lead and reconcile; a SIGKILLed leader is replaced within the lease duration and the new leader reconciles', async () => {
    const [a, b] = await Promise.all([
      start({ name: 'replica-a', leaderElect: true }),
      start({ name: 'replica-b', leaderElect: true }),
    ]);
    const leaderIdentity = await waitForHolder([a.identity, b.identity], 30_000);
    const [leader, standby] = leaderIdentity === a.identity ? [a, b] : [b, a];
    await cluster.kube.apply(av('replicas'));
    await waitForReconciled('replicas');
    // Two retry periods: a standby that (wrongly) also led would have started reconciling by now.
    await new Promise((r) => setTimeout(r, 2 * RETRY_PERIOD_MS));
    expect(await holder()).toBe(leader.identity);
    expect(await reconcileCount(leader)).toBeGreaterThan(0);
    expect(await reconcileCount(standby)).toBe(0);
    expect((await logLines(standby)).some((l) => l.msg === 'became leader')).toBe(false);

    const killedAt = Date.now();
    const exit = await leader.kill('SIGKILL');
    expect(exit.status).toBe('SIGKILL');
    // Created after the kill: only the new leader can reconcile it.
    await cluster.kube.apply(av('after-kill'));
    await waitForHolder([standby.identity], LEASE_DURATION_MS + 4 * RETRY_PERIOD_MS);
    const takeoverMs = Date.now() - killedAt;
    // The standby may only take a Lease it saw expire (its last renewal was at most one retry period
    // before the kill), and notices expiry at its next retry (2 s with jitter).
    expect(takeoverMs).toBeGreaterThanOrEqual(LEASE_DURATION_MS - 2 * RETRY_PERIOD_MS);
    expect(takeoverMs).toBeLessThanOrEqual(LEASE_DURATION_MS + 3 * RETRY_PERIOD_MS);
    const reconciled = await waitForReconciled('after-kill');
    expect(reconciled.status?.artifact?.digest).toBe(signed.digest);
    expect(await reconcileCount(standby)).toBeGreaterThan(0);
    console.log(`SIGKILL: the standby led ${takeoverMs} ms after the leader was killed`);
  });

  it('releases holds a killed predecessor wrote on the targets but never recorded in the status', async () => {
    const repository = {
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'OCIRepository',
      metadata: { name: 'orphan', namespace: ns },
      spec: { url: `oci://${signed.repository}`, ref: { tag: signed.tag }, interval: '10m', insecure: true },
    };
    const release = {
      apiVersion: 'helm.toolkit.fluxcd.io/v2',
      kind: 'HelmRelease',
      metadata: { name: 'orphan', namespace: ns },
      spec: { interval: '10m', chartRef: { kind: 'OCIRepository', name: 'orphan' }, suspend: false },
    };
    await cluster.kube.applyAll([repository, release] as KubernetesObject[]);
    await cluster.kube.apply({
      ...av('orphan'),
      spec: {
        sourceRef: { kind: 'OCIRepository', name: 'orphan' },
        action: 'Suspend', // the recovered holds are suspends; Pin would keep the OCIRepository pinned
        verify: { cosign: [{ name: 'release', publicKey: key.publicKeyPem }] },
      },
    } as KubernetesObject);
    // What a predecessor killed between its target writes and its status write leaves: both targets held
    // in its name (the same writes tagguard makes), the status listing neither.
    const holds = new HoldManager(cluster.kube.kubeConfig, createLogger({ level: 'silent', pretty: false }));
    for (const target of [repository, release])
      await holds.hold(
        { apiVersion: target.apiVersion, kind: target.kind, namespace: ns, name: target.metadata.name },
        `${ns}/orphan`,
        { action: 'Suspend', argocdMethod: 'DisableAutoSync' },
      );
    expect((await readAv('orphan')).status?.heldTargets ?? []).toEqual([]);

    await start({ name: 'orphan-holds' });
    const reconciled = await waitForReconciled('orphan');
    expect(reconciled.status?.heldTargets ?? []).toEqual([]);
    await waitFor(
      'both targets released to their state before the hold',
      async () => {
        const [repo, hr] = await Promise.all(
          [repository, release].map((t) =>
            cluster.kube.read<KubernetesObject & { spec: { suspend?: boolean } }>(
              t.apiVersion,
              t.kind,
              t.metadata.name,
              ns,
            ),
          ),
        );
        const clean = [repo, hr].every((o) => o?.metadata?.annotations?.[ANNOTATIONS.heldBy] === undefined);
        return clean && repo?.spec.suspend === undefined && hr?.spec.suspend === false ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  });

  it('reconciles a spec change made after an API server restart', async () => {
    const operator = await start({ name: 'apiserver-restart' });
    await cluster.kube.apply(av('restart'));
    const before = await waitForReconciled('restart');
    expect(before.metadata.generation).toBe(1);

    await cluster.plane.restartApiServer();
    await changeInterval('restart', '2m');
    const after = await waitForReconciled('restart');
    expect(after.metadata.generation).toBe(2);
    expect(after.status?.observedGeneration).toBe(2);
    expect(operator.handle.hasExited()).toBe(false);
    const log = await logLines(operator);
    // The informers did lose the API server (not a change that slipped in before the restart).
    expect(
      log.some((l) => l.msg === 'list-watch failed; retrying' || l.msg === 'watch closed; resuming'),
    ).toBe(true);
  });

  it('does not lose an update made while its watch history expired (410 Gone)', async () => {
    gate = await TcpGate.open(cluster.plane.server);
    const kubeconfig = join(cluster.dir, 'operator-through-gate.kubeconfig');
    const original = await readFile(cluster.operatorKubeconfig, 'utf8');
    await writeFile(kubeconfig, original.replace(cluster.plane.server, `https://127.0.0.1:${gate.port}`), {
      mode: 0o600,
    });
    const operator = await start({ name: 'watch-expiry', kubeconfig });
    await cluster.kube.apply(av('expiry'));
    await waitForReconciled('expiry');
    // Nothing in flight when the gate closes: a reconcile cut off mid-way would be retried and read the
    // changed object itself, and the update would not depend on the watch.
    await waitForQuiet(operator);

    // The operator loses the API server; meanwhile the spec changes and etcd compacts that history away,
    // and the API server restarts with an empty watch cache: resuming the watch can only answer 410.
    await gate.close();
    const seen = (await readAv('expiry')).metadata.resourceVersion ?? '';
    await changeInterval('expiry', '3m');
    await compactEtcd(cluster.plane.etcdUrl);
    await cluster.plane.restartApiServer();
    // While its watch cache initialises, the new API server may still answer an old resourceVersion;
    // the operator reconnects only once a watch from before the change is refused with 410.
    await waitFor(
      'a watch from before the change to be refused with 410',
      async () => ((await watchExpired(seen)) ? true : undefined),
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const reopenedAt = Date.now();
    await gate.reopen();

    const after = await waitForReconciled('expiry', 90_000);
    expect(after.status?.observedGeneration).toBe(2);
    // The status is written before the reconcile logs its line: wait for the line, do not just read once.
    let log = await logLines(operator);
    const reconciledLine = (): { time?: unknown } | undefined =>
      log.find(
        (l) =>
          l.msg === 'reconciled' && l.artifactVerification === `${ns}/expiry` && Number(l.time) >= reopenedAt,
      );
    await waitFor(
      'the operator to log the reconcile',
      async () => {
        log = await logLines(operator);
        return reconciledLine() ? true : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    ).catch(() => undefined);
    // The child logger repeats the informer key; JSON.parse keeps its last value, the resource name.
    const expiredAt = log.find(
      (l) =>
        l.msg === 'watch history expired (410); listing again' &&
        l.informer === 'artifactverifications.tagguard.dev',
    )?.time;
    const reconciledAt = reconciledLine()?.time;
    expect(expiredAt, operator.logTail()).toBeDefined();
    // The change reached the operator through the relist that followed the 410.
    expect(Number(reconciledAt)).toBeGreaterThanOrEqual(Number(expiredAt));
  });
});
