import { describe, expect, it } from 'vitest';
import { Semaphore } from '../../src/registry/semaphore.ts';

describe('Semaphore', () => {
  it('hands a freed permit to a foreground waiter before a background one', async () => {
    const semaphore = new Semaphore(1);
    const release = await semaphore.acquire();
    const order: string[] = [];
    const waiting = [
      semaphore.acquire(undefined, true).then((r) => (order.push('tick'), r)),
      semaphore.acquire().then((r) => (order.push('judge'), r)),
    ];
    release();
    (await waiting[1])();
    (await waiting[0])();
    expect(order).toEqual(['judge', 'tick']);
  });

  it('lets an aborted background waiter leave its queue', async () => {
    const semaphore = new Semaphore(1);
    const release = await semaphore.acquire();
    const controller = new AbortController();
    const aborted = semaphore.acquire(controller.signal, true);
    controller.abort(new Error('deadline'));
    await expect(aborted).rejects.toThrow('deadline');
    release();
    // The permit is free again, not handed to the aborted waiter.
    const again = await semaphore.acquire();
    again();
  });
});
