// The label selector grammar of --watch-label-selector (config/label-selector.ts). The same tables are
// sent to the real API server in test/integration/runtime/label-selector-server.test.ts.
import { describe, expect, it } from 'vitest';
import { matchesLabels, parseLabelSelector } from '../../src/config/label-selector.ts';
import { INVALID_SELECTORS, LABEL_SETS, VALID_SELECTORS } from './label-selector-cases.ts';

describe('parseLabelSelector', () => {
  it.each(VALID_SELECTORS)('accepts %j', (text) => {
    expect(parseLabelSelector(text).text).toBe(text);
  });

  it.each(INVALID_SELECTORS)('refuses %j with a coded error', (text) => {
    expect(() => parseLabelSelector(text)).toThrow(expect.objectContaining({ code: 'InvalidSelector' }));
  });

  it('reads each operator', () => {
    expect(
      parseLabelSelector(
        'sharding.tagguard.dev/key=shard1,!legacy,tier in (a, b),env notin (dev),v>3,w<10,x!=y,z',
      ).requirements,
    ).toEqual([
      { key: 'sharding.tagguard.dev/key', op: 'in', values: ['shard1'] },
      { key: 'legacy', op: '!exists' },
      { key: 'tier', op: 'in', values: ['a', 'b'] },
      { key: 'env', op: 'notin', values: ['dev'] },
      { key: 'v', op: 'gt', value: 3 },
      { key: 'w', op: 'lt', value: 10 },
      { key: 'x', op: 'notin', values: ['y'] },
      { key: 'z', op: 'exists' },
    ]);
  });
});

describe('matchesLabels', () => {
  it('matches as the API server does', () => {
    const shard1 = parseLabelSelector('sharding.tagguard.dev/key=shard1');
    const unsharded = parseLabelSelector('!sharding.tagguard.dev/key');
    expect(matchesLabels(shard1, { 'sharding.tagguard.dev/key': 'shard1' })).toBe(true);
    expect(matchesLabels(shard1, { 'sharding.tagguard.dev/key': 'shard2' })).toBe(false);
    expect(matchesLabels(shard1, undefined)).toBe(false);
    expect(matchesLabels(unsharded, undefined)).toBe(true);
    expect(matchesLabels(unsharded, { 'sharding.tagguard.dev/key': 'shard1' })).toBe(false);
    expect(matchesLabels(parseLabelSelector(''), undefined)).toBe(true);
    expect(matchesLabels(parseLabelSelector('a!=b'), {})).toBe(true);
    expect(matchesLabels(parseLabelSelector('v>3'), { v: 'x' })).toBe(false);
  });

  it.each(VALID_SELECTORS)('%j selects the label sets it should (checked against the API server too)', (text) => {
    const selector = parseLabelSelector(text);
    expect(LABEL_SETS.map((labels) => matchesLabels(selector, labels))).toMatchSnapshot();
  });
});
