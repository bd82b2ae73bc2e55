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

  it('rejects a non-positive rate', () => {
    expect(() => new RateLimiter({ perSecond: 0 })).toThrow(RangeError);
  });
});
