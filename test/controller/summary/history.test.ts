import { describe, expect, it } from 'vitest';
import { buildHistory } from '../../../src/controller/summary/history.ts';
import { check, d, now } from './fixtures.ts';

describe('buildHistory', () => {
  const trusted = {
    trustedDigest: d(1),
    history: [{ digest: d(1), tag: '3.1.0', firstSeen: '2026-11-20T00:00:00Z', verdict: 'Trusted' as const }],
  };

  it('records a new digest first with its verdict and reason', () => {
    const history = buildHistory(trusted, [check({ verdict: 'Untrusted', reason: 'SignatureMissing' })], now);
    expect(history).toEqual([
      {
        digest: d(2),
        tag: '3.1.0',
        firstSeen: '2026-11-23T10:00:00Z',
        verdict: 'Untrusted',
        reason: 'SignatureMissing',
      },
      trusted.history[0],
    ]);
  });

  it('an error on the trusted digest is an outage: the history keeps Trusted', () => {
    expect(buildHistory(trusted, [check({ digest: d(1), verdict: 'Error' })], now)).toEqual(trusted.history);
  });

  it('a check without a verdict is not recorded', () => {
    expect(buildHistory(undefined, [check({})], now)).toEqual([]);
  });
});
