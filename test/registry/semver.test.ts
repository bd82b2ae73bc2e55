import { describe, expect, it } from 'vitest';
import { compareVersions, parseConstraint, parseVersion, selectTag } from '../../src/registry/semver.ts';

const TAGS = [
  '0.9.0',
  '1.0.0',
  'v1.2.0',
  '1.2.3',
  '1.2.10',
  '1.3.0-rc.1',
  '1.3.0',
  '2.0.0-beta.2',
  '2.0.0',
  '2.1',
  'latest',
  'sha256-abc.sig',
];

describe('selectTag (what Flux would pick)', () => {
  it.each([
    ['*', '2.1'],
    ['1.x', '1.3.0'],
    ['1.2.x', '1.2.10'],
    ['~1.2.0', '1.2.10'],
    ['^1.2.0', '1.3.0'],
    ['>=1.0.0 <2.0.0', '1.3.0'],
    ['>=1.0.0, <1.3.0', '1.2.10'],
    ['1.0.0 - 1.2.3', '1.2.3'],
    ['<1.0.0 || >=2.0.0 <2.1.0', '2.0.0'],
    ['>1.2', '2.1'],
    ['<=1.2', '1.2.10'],
    ['!=2.1.0', '2.0.0'],
    ['^0.9', '0.9.0'],
    ['>= 2.0.0-0', '2.1'],
    ['2.0.0-beta.2', '2.0.0-beta.2'],
    ['>=1.3.0-rc.0 <1.3.0', '1.3.0-rc.1'],
    ['>=3.0.0', undefined],
  ])('constraint %s picks %s', (constraint, expected) => {
    expect(selectTag(TAGS, constraint)).toBe(expected);
  });

  it('leaves prereleases out unless the constraint names one', () => {
    expect(selectTag(['1.0.0', '1.1.0-rc.1'], '>=1.0.0')).toBe('1.0.0');
    expect(selectTag(['1.0.0', '1.1.0-rc.1'], '>=1.0.0-0')).toBe('1.1.0-rc.1');
  });

  it('applies the tag filter before the constraint', () => {
    expect(selectTag(['1.0.0-prod', '1.1.0-dev', '1.2.0-prod'], '>=1.0.0-0', /-prod$/)).toBe('1.2.0-prod');
  });

  it('rejects a malformed constraint with a clear error', () => {
    expect(() => parseConstraint('>=banana')).toThrow(
      /invalid semver constraint ">=banana": cannot read ">=banana"/,
    );
    expect(() => parseConstraint('')).toThrow(/empty/);
  });
});

describe('versions', () => {
  it('parses lenient versions and orders prereleases below releases', () => {
    expect(parseVersion('v2')).toEqual({ major: 2, minor: 0, patch: 0, prerelease: [] });
    expect(parseVersion('1.2.3+build.7')).toEqual({ major: 1, minor: 2, patch: 3, prerelease: [] });
    expect(parseVersion('latest')).toBeUndefined();
    const order = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
    ];
    const parsed = order.map((t) => parseVersion(t)!);
    for (let i = 1; i < parsed.length; i++)
      expect(compareVersions(parsed[i - 1]!, parsed[i]!)).toBeLessThan(0);
  });
});
