import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { WorkQueue, type WorkQueueOptions, type ReconcileOutcome } from '../../src/runtime/work-queue.ts';

const logger = pino({ level: 'silent' });

/** A promise the test resolves by hand, to hold a handler "in flight". */
const gate = (): { promise: Promise<void>; open: () => void } => {
  const { promise, resolve } = Promise.withResolvers<void>();
  return { promise, open: () => resolve() };
};

const newQueue = (options: Partial<WorkQueueOptions> = {}): WorkQueue =>
  new WorkQueue({ concurrency: 1, logger, random: () => 1, ...options });

describe('WorkQueue', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs a key added several times while waiting only once', async () => {
    const queue = newQueue();
    const runs: string[] = [];
    queue.add('ns/a');
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/a');
    expect(queue.depth).toBe(2);
    queue.start((key) => {
      runs.push(key);
      return Promise.resolve();
    });
    await vi.runAllTimersAsync();
    expect(runs).toEqual(['ns/a', 'ns/b']);
    expect(queue.depth).toBe(0);
    await queue.shutdown();
  });

  it('never runs one key twice at once, and re-runs it once after a run during which it was added', async () => {
    const queue = newQueue({ concurrency: 4 });
    const first = gate();
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    queue.start(async () => {
      runs += 1;
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      if (runs === 1) await first.promise;
      running -= 1;
    });
    queue.add('k');
    await vi.advanceTimersByTimeAsync(0);
    queue.add('k');
    queue.add('k');
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toBe(1);
    first.open();
    await vi.runAllTimersAsync();
    expect(runs).toBe(2);
    expect(maxRunning).toBe(1);
    await queue.shutdown();
  });

  it('retries a failing key with exponentially growing delays, capped at maxDelayMs', async () => {
    const queue = newQueue({ baseDelayMs: 100, maxDelayMs: 1_000, random: () => 1 });
    const startedAt: number[] = [];
    queue.start(() => {
      startedAt.push(Date.now());
      return Promise.reject(new Error('registry down'));
    });
    queue.add('k');
    await vi.advanceTimersByTimeAsync(10_000);
    const gaps = startedAt.slice(1).map((t, i) => t - (startedAt[i] ?? 0));
    expect(gaps.slice(0, 6)).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    await queue.shutdown();
  });

  it('keeps every retry delay between half and all of the capped exponential delay (jitter)', async () => {
    for (const random of [0, 0.5, 0.999]) {
      const queue = newQueue({ baseDelayMs: 100, maxDelayMs: 800, random: () => random });
      const startedAt: number[] = [];
      queue.start(() => {
        startedAt.push(Date.now());
        return Promise.reject(new Error('boom'));
      });
      queue.add('k');
      await vi.advanceTimersByTimeAsync(20_000);
      const gaps = startedAt.slice(1).map((t, i) => t - (startedAt[i] ?? 0));
      expect(gaps.length).toBeGreaterThan(6);
      gaps.forEach((gap, i) => {
        const ceiling = Math.min(800, 100 * 2 ** i);
        expect(gap).toBeGreaterThanOrEqual(ceiling / 2);
        expect(gap).toBeLessThanOrEqual(ceiling);
      });
      if (random === 0) expect(gaps[3]).toBe(400);
      await queue.shutdown();
    }
  });

  it('forgets the backoff of a key once it succeeds', async () => {
    const queue = newQueue({ baseDelayMs: 100, maxDelayMs: 10_000 });
    const results = ['fail', 'fail', 'fail', 'ok', 'fail'];
    const startedAt: number[] = [];
    queue.start(() => {
      startedAt.push(Date.now());
      const result = results.shift();
      if (result === 'fail') return Promise.reject(new Error('x'));
      return Promise.resolve();
    });
    queue.add('k');
    await vi.advanceTimersByTimeAsync(1_000); // fail ×3 (gaps 100, 200, 400 would be next), one success
    expect(startedAt).toHaveLength(4);
    queue.add('k'); // fails again: the next retry waits the base delay, not 800 ms
    await vi.advanceTimersByTimeAsync(0);
    const failedAt = Date.now();
    await vi.advanceTimersByTimeAsync(99);
    expect(startedAt).toHaveLength(5);
    results.push('ok');
    await vi.advanceTimersByTimeAsync(1);
    expect(startedAt).toHaveLength(6);
    expect((startedAt[5] ?? 0) - failedAt).toBe(100);
    await queue.shutdown();
  });

  it('runs a key again after requeueAfterMs when the handler asks for it', async () => {
    const queue = newQueue();
    let runs = 0;
    queue.start((): Promise<ReconcileOutcome> => {
      runs += 1;
      return Promise.resolve(runs === 1 ? { requeueAfterMs: 5_000 } : {});
    });
    queue.add('k');
    await vi.advanceTimersByTimeAsync(4_999);
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toBe(2);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(runs).toBe(2);
    await queue.shutdown();
  });

  it('keeps the earliest time when a key is delayed several times, and add() runs it at once', async () => {
    const queue = newQueue();
    const startedAt: number[] = [];
    queue.start(() => {
      startedAt.push(Date.now());
      return Promise.resolve();
    });
    const t0 = Date.now();
    queue.addAfter('k', 1_000);
    queue.addAfter('k', 500);
    queue.addAfter('k', 2_000);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(startedAt.map((t) => t - t0)).toEqual([500]);

    const t1 = Date.now();
    queue.addAfter('k', 1_000);
    queue.add('k');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(startedAt.slice(1).map((t) => t - t1)).toEqual([0]);
    await queue.shutdown();
  });

  it('runs at most `concurrency` keys at the same time and runs them all', async () => {
    const queue = newQueue({ concurrency: 2 });
    let running = 0;
    let maxRunning = 0;
    const done: string[] = [];
    queue.start(async (key) => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((r) => setTimeout(r, 100));
      running -= 1;
      done.push(key);
    });
    for (const key of ['a', 'b', 'c', 'd', 'e']) queue.add(key);
    await vi.advanceTimersByTimeAsync(0);
    expect(running).toBe(2);
    expect(queue.depth).toBe(3);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(maxRunning).toBe(2);
    expect(done.sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    await queue.shutdown();
  });

  it('reports the depth of waiting keys as it changes', async () => {
    const depths: number[] = [];
    const queue = newQueue({ onDepth: (d) => depths.push(d) });
    queue.add('a');
    queue.add('b');
    queue.add('a');
    queue.start(() => Promise.resolve());
    await vi.runAllTimersAsync();
    expect(depths).toEqual([1, 2, 1, 0]);
    await queue.shutdown();
  });

  it('shutdown waits for running handlers, drops waiting and delayed keys and ignores new ones', async () => {
    const queue = newQueue();
    const blocker = gate();
    const runs: string[] = [];
    let finished = false;
    queue.start(async (key) => {
      runs.push(key);
      if (key === 'running') {
        await blocker.promise;
        finished = true;
      }
    });
    queue.add('running');
    queue.add('waiting');
    queue.addAfter('delayed', 100);
    await vi.advanceTimersByTimeAsync(0);

    let shutDown = false;
    const shutdown = queue.shutdown().then(() => {
      shutDown = true;
    });
    queue.add('late');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(shutDown).toBe(false);
    blocker.open();
    await shutdown;
    expect(finished).toBe(true);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(runs).toEqual(['running']);
    expect(queue.depth).toBe(0);
  });

  it('rejects a concurrency that is not a positive integer', () => {
    expect(() => newQueue({ concurrency: 0 })).toThrow(RangeError);
  });
});
