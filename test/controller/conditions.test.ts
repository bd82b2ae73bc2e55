import { describe, expect, it } from 'vitest';
import { setCondition } from '../../src/controller/conditions.ts';

describe('setCondition', () => {
  const t0 = new Date('2026-11-23T10:00:00.000Z');
  const t1 = new Date('2026-11-23T10:05:00.000Z');

  it('moves lastTransitionTime only when the status flips, and records the generation', () => {
    const a = setCondition([], { type: 'Ready', status: 'False', reason: 'Untrusted', message: 'm' }, 1, t0);
    const b = setCondition(
      a,
      { type: 'Ready', status: 'False', reason: 'SignatureMissing', message: 'n' },
      2,
      t1,
    );
    expect(b[0]).toMatchObject({
      reason: 'SignatureMissing',
      observedGeneration: 2,
      lastTransitionTime: '2026-11-23T10:00:00Z',
    });
    const c = setCondition(b, { type: 'Ready', status: 'True', reason: 'Trusted', message: 'ok' }, 2, t1);
    expect(c[0]?.lastTransitionTime).toBe('2026-11-23T10:05:00Z');
    expect(c).toHaveLength(1);
  });

  it('caps long messages', () => {
    const [c] = setCondition(
      [],
      { type: 'Ready', status: 'False', reason: 'X', message: 'x'.repeat(5000) },
      1,
      t0,
    );
    expect(c?.message.length).toBeLessThanOrEqual(1024);
  });
});
