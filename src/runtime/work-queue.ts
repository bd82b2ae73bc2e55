// A keyed work queue for reconcilers, with client-go's workqueue semantics: a key waiting once runs
// once however often it is added; a key never runs twice at the same time (added while running, it runs
// again right after); a failing key is retried with per-key exponential backoff and jitter, capped; at
// most `concurrency` keys run at once. Delayed keys keep the earliest time asked for.
import type { Logger } from 'pino';
import { backoffDelay, type BackoffPolicy } from './backoff.ts';

export interface ReconcileOutcome {
  /** Run the key again after this long (e.g. the next poll), on success. */
  readonly requeueAfterMs?: number;
}

export interface WorkQueueOptions {
  readonly concurrency: number;
  /** First retry delay after a failure (default 100 ms), doubled per consecutive failure. */
  readonly baseDelayMs?: number | undefined;
  /** Cap of the retry delay (default 5 minutes). */
  readonly maxDelayMs?: number | undefined;
  readonly random?: (() => number) | undefined;
  readonly logger: Logger;
  /** Called with the number of keys waiting to run whenever it changes (the workqueue depth metric). */
  readonly onDepth?: ((depth: number) => void) | undefined;
}

export type ReconcileHandler = (key: string) => Promise<ReconcileOutcome | void>;

interface DelayedKey {
  readonly dueAt: number;
  readonly timer: NodeJS.Timeout;
}

export class WorkQueue {
  private readonly options: WorkQueueOptions;
  private readonly backoff: BackoffPolicy;
  /** Keys waiting to run, in order; `waiting` mirrors it for lookups. */
  private readonly ready: string[] = [];
  private readonly waiting = new Set<string>();
  private readonly running = new Set<string>();
  /** Keys added while running: they run again when the current run ends. */
  private readonly dirty = new Set<string>();
  private readonly delayed = new Map<string, DelayedKey>();
  private readonly failures = new Map<string, number>();
  private readonly inFlight = new Set<Promise<void>>();
  private handler: ReconcileHandler | undefined;
  private shuttingDown = false;

  constructor(options: WorkQueueOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new RangeError(`work queue concurrency must be a positive integer, got ${options.concurrency}`);
    }
    this.options = options;
    this.backoff = {
      baseDelayMs: options.baseDelayMs ?? 100,
      maxDelayMs: options.maxDelayMs ?? 300_000,
      ...(options.random ? { random: options.random } : {}),
    };
  }

  /** Keys waiting to run (not running, not delayed). */
  get depth(): number {
    return this.ready.length;
  }

  add(key: string): void {
    if (this.shuttingDown) return;
    if (this.running.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.waiting.has(key)) return;
    this.cancelDelayed(key);
    this.ready.push(key);
    this.waiting.add(key);
    this.depthChanged();
    this.pump();
  }

  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    // Already due sooner: waiting now, or running with a re-run queued.
    if (this.waiting.has(key) || this.dirty.has(key)) return;
    const dueAt = Date.now() + delayMs;
    const existing = this.delayed.get(key);
    if (existing && existing.dueAt <= dueAt) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    this.delayed.set(key, { dueAt, timer });
  }

  start(handler: ReconcileHandler): void {
    if (this.handler) throw new Error('work queue already started');
    this.handler = handler;
    this.pump();
  }

  /** Stops taking work (waiting and delayed keys are dropped) and resolves when running handlers end. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    const hadWaiting = this.ready.length > 0;
    this.ready.length = 0;
    this.waiting.clear();
    this.dirty.clear();
    if (hadWaiting) this.depthChanged();
    await Promise.all([...this.inFlight]);
  }

  private pump(): void {
    const handler = this.handler;
    if (!handler) return;
    while (!this.shuttingDown && this.running.size < this.options.concurrency) {
      const key = this.ready.shift();
      if (key === undefined) return;
      this.waiting.delete(key);
      this.running.add(key);
      this.depthChanged();
      const run = this.process(handler, key).finally(() => {
        this.inFlight.delete(run);
        this.pump();
      });
      this.inFlight.add(run);
    }
  }

  private async process(handler: ReconcileHandler, key: string): Promise<void> {
    let outcome: ReconcileOutcome | void = undefined;
    let failed = false;
    try {
      outcome = await handler(key);
    } catch (error) {
      failed = true;
      const failures = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, failures);
      this.options.logger.warn({ err: error, key, failures }, 'reconcile failed; will retry with backoff');
    }
    this.running.delete(key);
    if (!failed) this.failures.delete(key);
    if (this.shuttingDown) return;
    if (this.dirty.delete(key)) {
      // Added while running: something changed, so run again now (the failure count is kept).
      this.add(key);
      return;
    }
    if (failed) this.addAfter(key, backoffDelay(this.failures.get(key) ?? 1, this.backoff));
    else if (outcome?.requeueAfterMs !== undefined) this.addAfter(key, outcome.requeueAfterMs);
  }

  private cancelDelayed(key: string): void {
    const delayed = this.delayed.get(key);
    if (!delayed) return;
    clearTimeout(delayed.timer);
    this.delayed.delete(key);
  }

  private depthChanged(): void {
    this.options.onDepth?.(this.ready.length);
  }
}
