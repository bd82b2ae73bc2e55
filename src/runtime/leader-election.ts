// Lease-based leader election (coordination.k8s.io/v1), the client-go algorithm: a candidate takes the
// Lease when it is free or when the holder has not renewed it for a lease duration *as observed on this
// candidate's own clock* (no clock-skew assumptions); the leader renews every retry period and gives up
// leadership when renewals keep failing for the renew deadline. Writes use the Lease's resourceVersion
// (optimistic concurrency), so two candidates can never both win. stop() releases a held Lease at once.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { isRuntimeError } from './errors.ts';
import { kubeJson } from './kube-api.ts';
import { sleep } from './sleep.ts';

export interface LeaderElectionOptions {
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  /** How long a Lease stays valid without renewal (default 15 s). */
  readonly leaseDurationMs?: number | undefined;
  /** How long the leader keeps trying to renew before giving up leadership (default 10 s). */
  readonly renewDeadlineMs?: number | undefined;
  /** Time between acquire attempts and between renewals (default 2 s). */
  readonly retryPeriodMs?: number | undefined;
  readonly logger: Logger;
  readonly random?: (() => number) | undefined;
}

export interface LeaderCallbacks {
  readonly onStartedLeading: () => void;
  readonly onStoppedLeading: () => void;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

/** What one acquire-or-renew attempt found. */
type Attempt = 'holding' | 'held-by-other' | 'lost-race';

/** A Kubernetes MicroTime: RFC 3339 with exactly six fractional digits. */
const microTime = (ms: number): string => new Date(ms).toISOString().replace(/Z$/, '000Z');

const RELEASE_TIMEOUT_MS = 5_000;

export class LeaderElector {
  private readonly kubeConfig: KubeConfig;
  private readonly options: LeaderElectionOptions;
  private readonly logger: Logger;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly abort = new AbortController();
  private leading = false;
  private running: Promise<void> | undefined;
  /** The Lease spec last seen and when (local clock) it last changed: the basis for expiry. */
  private observed: { key: string; atMs: number } | undefined;

  constructor(kubeConfig: KubeConfig, options: LeaderElectionOptions) {
    this.kubeConfig = kubeConfig;
    this.options = options;
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (!(this.leaseDurationMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryPeriodMs)) {
      throw new RangeError('leader election needs leaseDuration > renewDeadline > retryPeriod');
    }
    this.logger = options.logger.child({
      lease: `${options.namespace}/${options.name}`,
      identity: options.identity,
    });
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Campaigns, leads, and campaigns again after a lost leadership, until stop(). */
  run(callbacks: LeaderCallbacks): Promise<void> {
    if (this.running) throw new Error('leader election is already running');
    this.running = this.loop(callbacks);
    return this.running;
  }

  /** Stops campaigning; a leader calls onStoppedLeading and releases the Lease so another takes over at once. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private async loop(callbacks: LeaderCallbacks): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      if (!(await this.acquire())) break;
      this.leading = true;
      this.logger.info('started leading');
      this.notify(callbacks.onStartedLeading, 'onStartedLeading');
      await this.renewWhileLeading();
      this.leading = false;
      this.notify(callbacks.onStoppedLeading, 'onStoppedLeading');
      if (signal.aborted) {
        await this.release();
        break;
      }
      this.logger.warn('stopped leading: the Lease could not be renewed; campaigning again');
    }
  }

  /** Tries every retry period (with jitter) until the Lease is ours; false when stopped first. */
  private async acquire(): Promise<boolean> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      try {
        if ((await this.tryAcquireOrRenew(this.retryPeriodMs * 5)) === 'holding') return true;
      } catch (error) {
        if (signal.aborted) return false;
        this.logger.warn({ err: error }, 'could not read or take the Lease');
      }
      const jitter = 1 + 0.2 * (this.options.random ?? Math.random)();
      await sleep(this.retryPeriodMs * jitter, signal);
    }
    return false;
  }

  /** Renews every retry period; returns when stopped, when renewals failed for the renew deadline, or when another holder took the Lease. */
  private async renewWhileLeading(): Promise<void> {
    const signal = this.abort.signal;
    let lastRenewedAt = Date.now();
    for (;;) {
      await sleep(this.retryPeriodMs, signal);
      if (signal.aborted) return;
      const remaining = this.renewDeadlineMs - (Date.now() - lastRenewedAt);
      try {
        const attempt = await this.tryAcquireOrRenew(Math.max(remaining, 500));
        if (attempt === 'held-by-other') {
          this.logger.warn('another candidate holds the Lease');
          return;
        }
        if (attempt === 'holding') {
          lastRenewedAt = Date.now();
          continue;
        }
        // A write conflict: the Lease changed under us; the next read shows whether it is still ours.
        this.logger.warn('the Lease changed during renewal; retrying');
      } catch (error) {
        if (signal.aborted) return;
        this.logger.warn({ err: error }, 'could not renew the Lease');
      }
      if (Date.now() - lastRenewedAt >= this.renewDeadlineMs) return;
    }
  }

  private async tryAcquireOrRenew(timeoutMs: number): Promise<Attempt> {
    const { namespace, name, identity } = this.options;
    const path = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
    const request = { signal: this.abort.signal, timeoutMs };
    const now = Date.now();
    const ours: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };

    let lease: Lease;
    try {
      lease = await kubeJson<Lease>(this.kubeConfig, {
        ...request,
        path: `${path}/${encodeURIComponent(name)}`,
      });
    } catch (error) {
      if (!isRuntimeError(error, 'NotFound')) throw error;
      const created: Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace },
        spec: ours,
      };
      return this.write(
        () => kubeJson<Lease>(this.kubeConfig, { ...request, method: 'POST', path, body: created }),
        ours,
      );
    }

    const spec = lease.spec ?? {};
    this.observe(spec, now);
    const holder = spec.holderIdentity ?? '';
    const observedAt = this.observed?.atMs ?? now;
    const durationMs = (spec.leaseDurationSeconds ?? 0) * 1000;
    if (holder !== '' && holder !== identity && observedAt + durationMs > now) return 'held-by-other';

    const renewing = holder === identity;
    const next: LeaseSpec = {
      ...ours,
      acquireTime: renewing && spec.acquireTime !== undefined ? spec.acquireTime : microTime(now),
      leaseTransitions: (spec.leaseTransitions ?? 0) + (renewing ? 0 : 1),
    };
    const updated: Lease = { ...lease, spec: next };
    return this.write(
      () =>
        kubeJson<Lease>(this.kubeConfig, {
          ...request,
          method: 'PUT',
          path: `${path}/${encodeURIComponent(name)}`,
          body: updated,
        }),
      next,
    );
  }

  /** A write that loses the optimistic-concurrency race means another candidate won this round. */
  private async write(send: () => Promise<Lease>, spec: LeaseSpec): Promise<Attempt> {
    try {
      await send();
    } catch (error) {
      if (isRuntimeError(error, 'Conflict')) return 'lost-race';
      throw error;
    }
    this.observe(spec, Date.now());
    return 'holding';
  }

  private observe(spec: LeaseSpec, nowMs: number): void {
    const key = JSON.stringify([
      spec.holderIdentity ?? '',
      spec.renewTime ?? '',
      spec.leaseDurationSeconds ?? 0,
    ]);
    if (this.observed?.key !== key) this.observed = { key, atMs: nowMs };
  }

  /** Hands the Lease over: no holder and a 1 s duration, as client-go's ReleaseOnCancel. */
  private async release(): Promise<void> {
    const { namespace, name, identity } = this.options;
    const path = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases/${encodeURIComponent(name)}`;
    try {
      const lease = await kubeJson<Lease>(this.kubeConfig, { path, timeoutMs: RELEASE_TIMEOUT_MS });
      if (lease.spec?.holderIdentity !== identity) return;
      const now = microTime(Date.now());
      const released: Lease = {
        ...lease,
        spec: {
          holderIdentity: '',
          leaseDurationSeconds: 1,
          acquireTime: now,
          renewTime: now,
          leaseTransitions: lease.spec.leaseTransitions ?? 0,
        },
      };
      await kubeJson(this.kubeConfig, { method: 'PUT', path, body: released, timeoutMs: RELEASE_TIMEOUT_MS });
      this.logger.info('released the Lease');
    } catch (error) {
      // The Lease then simply expires after its duration.
      this.logger.warn({ err: error }, 'could not release the Lease');
    }
  }

  private notify(callback: () => void, name: string): void {
    try {
      callback();
    } catch (error) {
      this.logger.error({ err: error, callback: name }, 'leader election callback threw');
    }
  }
}
