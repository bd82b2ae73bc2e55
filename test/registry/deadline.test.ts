import { describe, expect, it } from 'vitest';
import {
  currentDeadline,
  deadlineError,
  formatDuration,
  untilAborted,
  withDeadline,
} from '../../src/registry/deadline.ts';
import { Semaphore } from '../../src/registry/semaphore.ts';
import { RegistryError } from '../../src/registry/errors.ts';

const never = () => new Promise<never>(() => undefined);
const timeout = (ms: number) => () => deadlineError('operation', 'r.example', 'work', ms);

describe('withDeadline', () => {
  it('rejects with a coded Timeout naming the host, the deadline and its flag', async () => {
    const error = await withDeadline(20, timeout(20), never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect(error).toMatchObject({ code: 'Timeout', host: 'r.example', deadline: 'operation' });
    expect(String(error)).toMatch(/operation deadline of 20ms \(--registry-operation-timeout\)/);
  });

  it('gives the work a signal that aborts at the deadline, and none outside', async () => {
    expect(currentDeadline()).toBeUndefined();
    let seen: AbortSignal | undefined;
    await withDeadline(20, timeout(20), async () => {
      seen = currentDeadline();
      await new Promise((r) => setTimeout(r, 5));
      expect(currentDeadline()).toBe(seen);
    });
    expect(seen?.aborted).toBe(false);
  });

  it('keeps the earliest deadline when nested', async () => {
    const started = Date.now();
    const error = await withDeadline(
      30,
      () => deadlineError('operation', 'outer', 'outer', 30),
      () => withDeadline(10_000, () => deadlineError('operation', 'inner', 'inner', 10_000), never),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'Timeout', host: 'outer' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('answers a caller at its own deadline even when the awaited work ignores signals', async () => {
    const shared = new Promise((r) => setTimeout(() => r('late'), 300));
    const signal = AbortSignal.timeout(20);
    await expect(untilAborted(shared, signal)).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  it('formats durations as the flags take them', () => {
    expect([formatDuration(120_000), formatDuration(30_000), formatDuration(1500)]).toEqual([
      '2m',
      '30s',
      '1500ms',
    ]);
  });
});

describe('Semaphore', () => {
  it('lets a waiter leave the queue when its signal aborts, without losing a permit', async () => {
    const semaphore = new Semaphore(1);
    const release = await semaphore.acquire();
    const controller = new AbortController();
    const waiting = semaphore.acquire(controller.signal);
    controller.abort(new RegistryError('Timeout', 'deadline'));
    await expect(waiting).rejects.toMatchObject({ code: 'Timeout' });
    release();
    const again = await semaphore.acquire(AbortSignal.timeout(1000));
    again();
  });
});
