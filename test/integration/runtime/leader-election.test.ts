// Lease leader election between real candidates on the test API server: exactly one leads; a stopped
// leader hands over at once; a killed leader (no renewal, no release) is replaced once its lease expires
// and not before; a leader cut off from the API server steps down within the renew deadline.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { KubeTestClient } from '../../env/kube.ts';
import { waitFor } from '../../env/processes.ts';
import { LeaderElector, type LeaderElectionOptions } from '../../../src/runtime/leader-election.ts';
import { captureLogs, createNamespace, uniqueName } from './support.ts';
import { TcpGate } from './tcp-gate.ts';

const env = inject('testEnv');
const kube = KubeTestClient.fromFile(env.kubeconfig);
const leases = kube.kubeConfig.makeApiClient(CoordinationV1Api);

// Short, but in the usual proportions (15 s / 10 s / 2 s by default).
const TIMINGS = { leaseDurationMs: 4_000, renewDeadlineMs: 2_500, retryPeriodMs: 400 };

/** A candidate and a log of when its callbacks ran. */
class Candidate {
  readonly elector: LeaderElector;
  readonly startedAt: number[] = [];
  readonly stoppedAt: number[] = [];
  readonly running: Promise<void>;

  constructor(kubeConfig: KubeTestClient['kubeConfig'], options: Omit<LeaderElectionOptions, 'logger'>) {
    this.elector = new LeaderElector(kubeConfig, { ...TIMINGS, ...options, logger: captureLogs().logger });
    this.running = this.elector.run({
      onStartedLeading: () => this.startedAt.push(Date.now()),
      onStoppedLeading: () => this.stoppedAt.push(Date.now()),
    });
  }
}

const candidates: Candidate[] = [];
const children: ChildProcess[] = [];
let gate: TcpGate | undefined;

afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await Promise.all(candidates.splice(0).map((c) => c.elector.stop()));
  await gate?.close();
  gate = undefined;
});

const candidate = (
  options: Omit<LeaderElectionOptions, 'logger'>,
  kubeConfig = kube.kubeConfig,
): Candidate => {
  const c = new Candidate(kubeConfig, options);
  candidates.push(c);
  return c;
};

const waitForLeader = (c: Candidate, timeoutMs = 20_000): Promise<number> =>
  waitFor('a leader', () => Promise.resolve(c.elector.isLeader ? Date.now() : undefined), {
    timeoutMs,
    intervalMs: 20,
  });

const readLease = (namespace: string, name: string) => leases.readNamespacedLease({ namespace, name });

describe('LeaderElector', () => {
  it('lets exactly one of two candidates lead, and a stopped leader hands the Lease over at once', async () => {
    const namespace = await createNamespace(kube, 'le');
    const a = candidate({ namespace, name: 'tagguard', identity: 'a' });
    await waitForLeader(a);
    const b = candidate({ namespace, name: 'tagguard', identity: 'b' });
    await new Promise((r) => setTimeout(r, TIMINGS.leaseDurationMs + TIMINGS.retryPeriodMs * 2));
    expect([a.elector.isLeader, b.elector.isLeader]).toEqual([true, false]);
    expect(b.startedAt).toEqual([]);
    const held = await readLease(namespace, 'tagguard');
    expect(held.spec?.holderIdentity).toBe('a');
    expect(held.spec?.leaseDurationSeconds).toBe(4);

    const stopAt = Date.now();
    await a.elector.stop();
    expect(a.elector.isLeader).toBe(false);
    expect(a.stoppedAt).toHaveLength(1);
    const takenAt = await waitForLeader(b);
    // Released, not expired: b needs no lease duration, only its next retry.
    expect(takenAt - stopAt).toBeLessThan(TIMINGS.leaseDurationMs / 2);
    const taken = await readLease(namespace, 'tagguard');
    expect(taken.spec?.holderIdentity).toBe('b');
    expect(taken.spec?.leaseTransitions).toBe((held.spec?.leaseTransitions ?? 0) + 1);
  });

  it('replaces a killed leader once its lease has expired, and not before', async () => {
    const namespace = await createNamespace(kube, 'le-kill');
    const name = uniqueName('lease');
    const child = spawn(
      process.execPath,
      [
        'test/integration/runtime/elector-process.ts',
        JSON.stringify({ kubeconfig: env.kubeconfig, namespace, name, identity: 'doomed', ...TIMINGS }),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(child);
    const lines: string[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => lines.push(line));
    await waitFor(
      'the child process to lead',
      () => Promise.resolve(lines.includes('started') || undefined),
      {
        timeoutMs: 30_000,
      },
    );
    const standby = candidate({ namespace, name, identity: 'standby' });
    await new Promise((r) => setTimeout(r, TIMINGS.leaseDurationMs));
    expect(standby.elector.isLeader).toBe(false);

    const killedAt = Date.now();
    child.kill('SIGKILL');
    const takenAt = await waitForLeader(standby);
    const latency = takenAt - killedAt;
    // The last renewal was at most one retry period before the kill; the standby measures expiry from
    // when it saw that renewal, and notices at its next retry.
    expect(latency).toBeGreaterThanOrEqual(TIMINGS.leaseDurationMs - 2 * TIMINGS.retryPeriodMs);
    expect(latency).toBeLessThanOrEqual(TIMINGS.leaseDurationMs + 4 * TIMINGS.retryPeriodMs);
    const lease = await readLease(namespace, name);
    expect(lease.spec?.holderIdentity).toBe('standby');
    expect(lease.spec?.leaseTransitions).toBe(1);
  });

  it('steps down within the renew deadline when cut off from the API server, and the other takes over', async () => {
    const namespace = await createNamespace(kube, 'le-cut');
    gate = await TcpGate.open(env.apiServer);
    const cut = candidate(
      { namespace, name: 'tagguard', identity: 'cut' },
      gate.kubeConfigFrom(env.kubeconfig),
    );
    await waitForLeader(cut);
    const other = candidate({ namespace, name: 'tagguard', identity: 'other' });

    const cutAt = Date.now();
    await gate.close();
    await waitFor('the cut-off leader to step down', () => Promise.resolve(cut.stoppedAt[0]), {
      timeoutMs: 20_000,
      intervalMs: 20,
    });
    const steppedDownAfter = (cut.stoppedAt[0] ?? 0) - cutAt;
    expect(steppedDownAfter).toBeLessThanOrEqual(TIMINGS.renewDeadlineMs + 2 * TIMINGS.retryPeriodMs);
    expect(cut.elector.isLeader).toBe(false);
    const takenAt = await waitForLeader(other);
    // The step-down comes before the lease can expire for anyone else: no two leaders at once.
    expect(cut.stoppedAt[0]).toBeLessThan(takenAt);

    await gate.reopen();
    await new Promise((r) => setTimeout(r, TIMINGS.retryPeriodMs * 4));
    expect(cut.elector.isLeader).toBe(false);
    expect((await readLease(namespace, 'tagguard')).spec?.holderIdentity).toBe('other');
  });
});
