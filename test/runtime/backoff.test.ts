import { describe, expect, it } from 'vitest';
import { backoffCeiling, backoffDelay } from '../../src/runtime/backoff.ts';

describe('backoffDelay', () => {
  const policy = { baseDelayMs: 100, maxDelayMs: 300_000 };

  it('doubles the ceiling per consecutive failure up to the cap', () => {
    expect([1, 2, 3, 4].map((n) => backoffCeiling(n, policy))).toEqual([100, 200, 400, 800]);
    expect(backoffCeiling(12, policy)).toBe(204_800);
    expect(backoffCeiling(13, policy)).toBe(300_000);
    expect(backoffCeiling(5_000, policy)).toBe(300_000);
  });

  it('stays within [ceiling/2, ceiling] for any random value, including out-of-range ones', () => {
    for (const n of [1, 5, 20]) {
      const ceiling = backoffCeiling(n, policy);
      for (const r of [0, 0.25, 0.5, 0.75, 0.9999, -1, 2]) {
        const delay = backoffDelay(n, { ...policy, random: () => r });
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
    }
    expect(backoffDelay(3, { ...policy, random: () => 0.5 })).toBe(300);
  });
});
