import { describe, expect, it } from 'vitest';
import {
  HELD_BY_ANNOTATION,
  PRE_HOLD_ANNOTATION,
  formatHolders,
  formatPreHold,
  parseHolders,
  parsePreHold,
  readHoldRecord,
} from '../../src/enforce/hold-record.ts';
import { helmRelease } from './fixtures.ts';

describe('the held-by list', () => {
  it('is read trimmed, without empty entries, sorted and deduplicated', () => {
    expect(parseHolders(' b/two, a/one,,b/two ,')).toEqual(['a/one', 'b/two']);
    expect(parseHolders(undefined)).toEqual([]);
    expect(parseHolders('')).toEqual([]);
  });

  it('is written sorted and deduplicated, comma-separated', () => {
    expect(formatHolders(['z/av', 'a/av', 'z/av'])).toBe('a/av,z/av');
  });
});

describe('the pre-hold record', () => {
  it('accepts the keys tagguard writes, with null for an absent field', () => {
    expect(parsePreHold('{"spec.suspend":null}')).toEqual({ 'spec.suspend': null });
    expect(parsePreHold('{"spec.syncPolicy.automated":{"prune":true},"spec.ref.digest":"sha256:1"}')).toEqual(
      { 'spec.syncPolicy.automated': { prune: true }, 'spec.ref.digest': 'sha256:1' },
    );
  });

  it.each([
    ['not JSON', '{spec.suspend: true'],
    ['an array', '[]'],
    ['empty', '{}'],
    ['an unknown field', '{"spec.suspend":false,"spec.interval":"1m"}'],
  ])('rejects a record that is %s', (_what, text) => {
    expect(parsePreHold(text)).toBeUndefined();
  });

  it('is written with sorted keys, so equal records are equal strings', () => {
    expect(formatPreHold({ 'spec.suspend': false, 'spec.ref.digest': null })).toBe(
      '{"spec.ref.digest":null,"spec.suspend":false}',
    );
  });

  it('is read from the target together with its holders, and flagged when unreadable', () => {
    const held = helmRelease(true, {
      annotations: { [HELD_BY_ANNOTATION]: 'apps/av', [PRE_HOLD_ANNOTATION]: '{"spec.suspend":false}' },
    });
    expect(readHoldRecord(held)).toEqual({
      holders: ['apps/av'],
      preHold: { 'spec.suspend': false },
      preHoldInvalid: false,
    });
    const broken = helmRelease(true, { annotations: { [PRE_HOLD_ANNOTATION]: 'oops' } });
    expect(readHoldRecord(broken)).toEqual({ holders: [], preHold: undefined, preHoldInvalid: true });
  });
});
