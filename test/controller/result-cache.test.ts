import { describe, expect, it } from 'vitest';
import { ResultCache, stableHash } from '../../src/controller/result-cache.ts';

describe('ResultCache', () => {
  it('grows with the work when its size is a function: every key of a round is a hit in the next', async () => {
    let work = 10;
    const cache = new ResultCache<number>(() => Math.max(10, 2 * work));
    let runs = 0;
    const round = async (keys: number): Promise<void> => {
      for (let k = 0; k < keys; k += 1) await cache.get(`k${k}`, () => Promise.resolve(++runs));
    };
    await round(10);
    await round(10);
    expect(runs).toBe(10);
    // 1,000 keys against a fixed 10 entries would miss on every one of them, round after round.
    work = 1000;
    await round(1000);
    const before = runs;
    await round(1000);
    expect(runs).toBe(before);
    expect(cache.size).toBe(1000);
    const fixed = new ResultCache<number>(10);
    let fixedRuns = 0;
    for (const _ of [1, 2])
      for (let k = 0; k < 1000; k += 1) await fixed.get(`k${k}`, () => Promise.resolve(++fixedRuns));
    expect(fixedRuns).toBe(2000);
  });

  it('computes once per key and shares an in-flight computation', async () => {
    const cache = new ResultCache<number>();
    let runs = 0;
    const compute = (): Promise<number> => Promise.resolve(++runs);
    const [a, b] = await Promise.all([cache.get('k', compute), cache.get('k', compute)]);
    expect([a, b, runs]).toEqual([1, 1, 1]);
    expect(await cache.get('other', compute)).toBe(2);
  });

  it('does not keep errors or results the caller rejects', async () => {
    const cache = new ResultCache<string>();
    await expect(cache.get('k', () => Promise.reject(new Error('registry down')))).rejects.toThrow(
      'registry down',
    );
    expect(
      await cache.get(
        'k',
        () => Promise.resolve('Error'),
        (r) => r !== 'Error',
      ),
    ).toBe('Error');
    expect(await cache.get('k', () => Promise.resolve('Trusted'))).toBe('Trusted');
  });

  it('computes again on refresh and keeps the newer result, even if an older computation ends later', async () => {
    const cache = new ResultCache<string>();
    expect(await cache.get('k', () => Promise.resolve('Trusted'))).toBe('Trusted');
    expect(await cache.get('k', () => Promise.resolve('Untrusted'), undefined, { refresh: true })).toBe(
      'Untrusted',
    );
    expect(await cache.get('k', () => Promise.resolve('never computed'))).toBe('Untrusted');

    let finishSlow: (value: string) => void = () => undefined;
    const slow = cache.get(
      's',
      () => new Promise<string>((resolve) => (finishSlow = resolve)),
      (r) => r !== 'Error',
    );
    const fresh = await cache.get('s', () => Promise.resolve('fresh'), undefined, { refresh: true });
    finishSlow('Error'); // the old computation fails late: it must not drop the fresh entry
    expect([await slow, fresh]).toEqual(['Error', 'fresh']);
    expect(await cache.get('s', () => Promise.resolve('never computed'))).toBe('fresh');
  });

  it('evicts the least recently used entry beyond its bound', async () => {
    const cache = new ResultCache<number>(2);
    await cache.get('a', () => Promise.resolve(1));
    await cache.get('b', () => Promise.resolve(2));
    await cache.get('a', () => Promise.resolve(99));
    await cache.get('c', () => Promise.resolve(3));
    expect(await cache.get('b', () => Promise.resolve(20))).toBe(20);
    expect(cache.size).toBe(2);
  });

  it('hashes objects independently of key order', () => {
    expect(stableHash({ a: 1, b: { c: 2, d: 3 } })).toBe(stableHash({ b: { d: 3, c: 2 }, a: 1 }));
    expect(stableHash({ a: 1 })).not.toBe(stableHash({ a: 2 }));
  });
});
