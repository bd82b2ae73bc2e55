import { describe, expect, it } from 'vitest';
import { applyMergePatch, mergePatchValue, setAt, type JsonDraft } from '../../src/enforce/merge-patch.ts';
import type { JsonValue } from '../../src/enforce/target-object.ts';

describe('setAt', () => {
  it('creates missing parents and keeps siblings', () => {
    const draft: JsonDraft = { metadata: { name: 'x' } };
    setAt(draft, ['metadata', 'annotations', 'a/b'], 'v');
    setAt(draft, ['spec', 'syncPolicy', 'automated'], null);
    expect(draft).toEqual({
      metadata: { name: 'x', annotations: { 'a/b': 'v' } },
      spec: { syncPolicy: { automated: null } },
    });
  });
});

describe('mergePatchValue', () => {
  const cases: [string, JsonValue | undefined, JsonValue][] = [
    ['an absent field', undefined, { prune: true, selfHeal: true }],
    ['a scalar', false, true],
    ['an object with extra keys', { prune: false, selfHeal: true, allowEmpty: true }, { prune: true }],
    ['nested objects', { retry: { limit: 5, backoff: { duration: '5s' } } }, { retry: { limit: 2 } }],
    ['an array (replaced whole)', { opts: ['a', 'b'] }, { opts: ['b'] }],
    ['an object replacing a scalar', 'x', { a: 1 }],
  ];

  it.each(cases)('turns %s exactly into the desired value', (_what, current, desired) => {
    expect(applyMergePatch(current, mergePatchValue(current, desired))).toEqual(desired);
  });

  it('nulls the keys that must go and leaves equal ones out', () => {
    expect(
      mergePatchValue({ prune: true, selfHeal: true, extra: 1 }, { prune: true, selfHeal: false }),
    ).toEqual({
      selfHeal: false,
      extra: null,
    });
  });
});
