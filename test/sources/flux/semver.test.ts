import { describe, expect, it } from 'vitest';
import {
  compareVersions,
  parseConstraint,
  parseVersion,
  selectTag,
} from '../../../src/sources/flux/semver.ts';

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
  '2.1', // two parts: not a version for Flux (fluxcd/pkg/version.ParseVersion), so never picked
  'latest',
  'sha256-abc.sig',
];

describe('selectTag (what Flux would pick)', () => {
  it.each([
    ['*', '2.0.0'],
    ['1.x', '1.3.0'],
    ['1.2.x', '1.2.10'],
    ['~1.2.0', '1.2.10'],
    ['^1.2.0', '1.3.0'],
    ['>=1.0.0 <2.0.0', '1.3.0'],
    ['>=1.0.0, <1.3.0', '1.2.10'],
    ['1.0.0 - 1.2.3', '1.2.3'],
    ['<1.0.0 || >=2.0.0 <2.1.0', '2.0.0'],
    ['>1.2', '2.0.0'],
    ['<=1.2', '1.2.10'],
    ['!=2.1.0', '2.0.0'],
    ['^0.9', '0.9.0'],
    ['>= 2.0.0-0', '2.0.0'],
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
    expect(parseVersion('v2')).toMatchObject({ major: 2n, minor: 0n, patch: 0n, prerelease: '' });
    expect(parseVersion('1.2.3+build.7')).toMatchObject({
      major: 1n,
      minor: 2n,
      patch: 3n,
      metadata: 'build.7',
    });
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

describe('Masterminds and Flux quirks', () => {
  it('takes a tag as a version only with three dot-separated parts, as fluxcd/pkg/version does', () => {
    expect(selectTag(['1.2', 'v3', '1.0.0'], '*')).toBe('1.0.0');
    // "1.2-rc.1.0" has three parts for Flux's split, and Masterminds reads it as 1.2.0-rc.1.0.
    expect(selectTag(['1.2-rc.1.0'], '>=1.0.0-0')).toBe('1.2-rc.1.0');
  });

  it('compares in uint64 and rejects numbers beyond it', () => {
    expect(selectTag(['9007199254740993.0.0', '9007199254740992.0.0'], '*')).toBe('9007199254740993.0.0');
    expect(parseVersion('18446744073709551616.0.0')).toBeUndefined();
    expect(parseVersion('18446744073709551615.0.0')).toBeDefined();
  });

  it('keeps the wildcard operators as Masterminds has them', () => {
    expect(selectTag(['0.0.0', '0.0.7', '0.5.0', '1.0.0'], '<=*')).toBe('0.0.7');
    expect(selectTag(['0.0.0'], '>*')).toBeUndefined();
    expect(selectTag(['1.9.0', '2.0.0'], '!=2.x')).toBe('1.9.0');
  });

  it('rejects a numeric prerelease identifier with a leading zero', () => {
    expect(parseVersion('1.0.0-01')).toBeUndefined();
    expect(parseVersion('1.0.0-0a')).toBeDefined();
  });

  it('picks the first listed of equal versions', () => {
    expect(selectTag(['v1.0.0', '1.0.0+b', '1.0.0'], '1.x')).toBe('v1.0.0');
  });

  it('rejects a long constraint that does not parse without backtracking for ever', () => {
    // The Go regular expression, run by a backtracking engine, takes exponential time on this.
    expect(() => parseConstraint(`${'1, '.repeat(150)}!`)).toThrow(/invalid semver constraint/);
  });
});
