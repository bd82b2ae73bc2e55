import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/registry/rate-limiter.ts';

// A clock that only moves when the limiter sleeps: the sleeps are the waits it imposed.
const fakeTime = () => {
  let now = 0;
  const slept: number[] = [];
  return {
    now: () => now,
    sleep: (ms: number) => {
      slept.push(ms);
      now += ms;
      return Promise.resolve();
    },
    slept,
    advance: (ms: number) => (now += ms),
  };
};

describe('RateLimiter', () => {
  it('lets a burst through, then spaces requests at the rate', async () => {
    const time = fakeTime();
    const limiter = new RateLimiter({ perSecond: 10, burst: 3, now: time.now, sleep: time.sleep });
    for (let i = 0; i < 6; i++) await limiter.acquire('ghcr.io');
    expect(time.slept).toEqual([100, 100, 100]);
  });

  it('keeps a bucket per registry', async () => {
    const time = fakeTime();
    const limiter = new RateLimiter({ perSecond: 1, burst: 1, now: time.now, sleep: time.sleep });
    await limiter.acquire('a.example');
    await limiter.acquire('b.example');
    expect(time.slept).toEqual([]);
    await limiter.acquire('a.example');
    expect(time.slept).toEqual([1000]);
  });

  it('refills while idle, up to the burst', async () => {
    const time = fakeTime();
    const limiter = new RateLimiter({ perSecond: 5, burst: 2, now: time.now, sleep: time.sleep });
    await Promise.all([limiter.acquire('r'), limiter.acquire('r')]);
    time.advance(10_000);
    await Promise.all([limiter.acquire('r'), limiter.acquire('r'), limiter.acquire('r')]);
    expect(time.slept).toEqual([200]);
  });

  it('serves foreground waiters before background ones, in arrival order within each', async () => {
    const time = fakeTime();
    const limiter = new RateLimiter({ perSecond: 10, burst: 1, now: time.now, sleep: time.sleep });
    const order: string[] = [];
    const take = (name: string, background: boolean) =>
      limiter.acquire('r', background).then(() => order.push(name));
    // The first request takes the only token; the others queue while the limiter waits for the next one.
    await Promise.all([
      take('tick-1', true),
      take('tick-2', true),
      take('judge-1', false),
      take('tick-3', true),
      take('judge-2', false),
    ]);
    expect(order).toEqual(['tick-1', 'judge-1', 'judge-2', 'tick-2', 'tick-3']);
    // The rate holds whatever the order: four waits of 100 ms after the burst of one.
    expect(time.slept).toEqual([100, 100, 100, 100]);
  });

  it('rejects a non-positive rate', () => {
    expect(() => new RateLimiter({ perSecond: 0 })).toThrow(RangeError);
  });
});
