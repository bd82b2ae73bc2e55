import { describe, expect, it } from 'vitest';
import { lastDigestForTag, MAX_HISTORY, recordVerdict, tagHistory } from '../../src/controller/history.ts';

const d = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`;
const now = new Date('2026-11-23T10:00:00.000Z');

describe('digest history', () => {
  it('prepends a new digest and keeps firstSeen of a re-checked one', () => {
    const first = recordVerdict([], { digest: d(1), tag: '1.0.0', verdict: 'Trusted' }, now);
    const later = new Date('2026-11-23T11:00:00.000Z');
    const again = recordVerdict(
      first,
      { digest: d(1), tag: '1.0.0', verdict: 'Untrusted', reason: 'SignatureInvalid' },
      later,
    );
    expect(again).toHaveLength(1);
    expect(again[0]).toMatchObject({
      firstSeen: '2026-11-23T10:00:00Z',
      verdict: 'Untrusted',
      reason: 'SignatureInvalid',
    });
    const mutated = recordVerdict(again, { digest: d(2), tag: '1.0.0', verdict: 'Untrusted' }, later);
    expect(mutated.map((h) => h.digest)).toEqual([d(2), d(1)]);
  });

  it(`keeps at most ${MAX_HISTORY} entries, newest first`, () => {
    let history = recordVerdict([], { digest: d(0), tag: 't', verdict: 'Trusted' }, now);
    for (let i = 1; i < 30; i++)
      history = recordVerdict(history, { digest: d(i), tag: 't', verdict: 'Trusted' }, now);
    expect(history).toHaveLength(MAX_HISTORY);
    expect(history[0]?.digest).toBe(d(29));
  });

  it('tells the digest last seen for a tag, ignoring other tags', () => {
    const history = [
      { digest: d(3), tag: '2.0.0', firstSeen: 'x', verdict: 'Trusted' as const },
      { digest: d(2), tag: '1.0.0', firstSeen: 'x', verdict: 'Trusted' as const },
    ];
    expect(lastDigestForTag(history, '1.0.0')).toBe(d(2));
    expect(lastDigestForTag(history, '3.0.0')).toBeUndefined();
    expect(lastDigestForTag(undefined, '1.0.0')).toBeUndefined();
  });
});

describe('tagHistory', () => {
  const history = [
    { digest: d(2), tag: '1.0.0', firstSeen: 't2', verdict: 'Untrusted' as const },
    { digest: d(1), tag: '1.0.0', firstSeen: 't1', verdict: 'Trusted' as const },
  ];
  it.each([
    [
      'a first sighting',
      undefined,
      '1.0.0',
      d(1),
      { previousDigest: undefined, moved: false, firstSeen: true },
    ],
    [
      'the same digest again',
      history,
      '1.0.0',
      d(2),
      { previousDigest: d(1), moved: false, firstSeen: false },
    ],
    ['a re-push', history, '1.0.0', d(3), { previousDigest: d(2), moved: true, firstSeen: true }],
    [
      'back to an older digest',
      history,
      '1.0.0',
      d(1),
      { previousDigest: d(2), moved: true, firstSeen: false },
    ],
    ['a new tag', history, '2.0.0', d(3), { previousDigest: undefined, moved: false, firstSeen: true }],
    [
      'a digest reference (no tag)',
      history,
      undefined,
      d(3),
      { previousDigest: undefined, moved: false, firstSeen: true },
    ],
  ])('%s', (_what, entries, tag, digest, want) => {
    expect(tagHistory(entries, tag, digest)).toEqual(want);
  });
});
