// The chart version picked from an HTTP repository's index: helm's own rule (repo.IndexFile.Get, as
// `helm pull --repo --version` uses it) beside Flux's. Versions are listed newest first, as the index reader
// returns them.
import { describe, expect, it } from 'vitest';
import { pickChartVersion } from '../../src/sources/chart-version-selection.ts';
import { isHelmRepositoryError } from '../../src/registry/helm-repository/errors.ts';
import { isRegistryError } from '../../src/registry/errors.ts';

const helm = (versions: readonly string[], asked: string): string =>
  pickChartVersion(versions, { semver: asked, semverRule: 'helm' }, 'https://charts.example.com/payment');
const flux = (versions: readonly string[], asked: string): string =>
  pickChartVersion(versions, { semver: asked }, 'https://charts.example.com/payment');

const thrown = (work: () => unknown): unknown => {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
};

describe("pickChartVersion, helm's rule", () => {
  const versions = ['2.0.0-rc.1', '1.4.0', '1.3.2', '1.3.0', '1.0.0+build.7', '0.9.0'];

  it('without a version picks the newest stable version, skipping prereleases', () => {
    expect(helm(versions, '')).toBe('1.4.0');
  });

  it('an exact version string wins, a prerelease too', () => {
    expect(helm(versions, '1.3.0')).toBe('1.3.0');
    expect(helm(versions, '2.0.0-rc.1')).toBe('2.0.0-rc.1');
  });

  it('a constraint picks the newest version it admits', () => {
    expect(helm(versions, '~1.3')).toBe('1.3.2');
    expect(helm(versions, '^1.0.0')).toBe('1.4.0');
    expect(helm(versions, '<1.0.0')).toBe('0.9.0');
    expect(helm(versions, '>0.0.0-0')).toBe('2.0.0-rc.1');
  });

  it('a version with no exact entry is a constraint: "1.0.0" admits "1.0.0+build.7"', () => {
    expect(helm(versions, '1.0.0')).toBe('1.0.0+build.7');
  });

  it('counts "1.2" as a version (Masterminds coerces it) where Flux does not', () => {
    const short = ['1.2', '1.1.0'];
    expect(helm(short, '^1.0.0')).toBe('1.2');
    expect(flux(short, '^1.0.0')).toBe('1.1.0');
  });

  it('a constraint helm cannot parse is an error, before any exact match', () => {
    const error = thrown(() => helm(['1.0.0', 'not-a-constraint'], 'not-a-constraint'));
    expect(isRegistryError(error, 'InvalidReference')).toBe(true);
  });

  it('nothing admitted is ChartNotFound', () => {
    const error = thrown(() => helm(versions, '>=3.0.0'));
    expect(isHelmRepositoryError(error, 'ChartNotFound')).toBe(true);
    const onlyPre = thrown(() => helm(['1.0.0-alpha.1'], ''));
    expect(isHelmRepositoryError(onlyPre, 'ChartNotFound')).toBe(true);
    expect((onlyPre as Error).message).toContain('newest stable');
  });

  it('has no length limits (Masterminds v3.4.0, which helm 3.19 pins)', () => {
    // 40 alternatives and over 512 bytes: Masterminds v3.5.0 (Flux) refuses both.
    const long = [...Array.from({ length: 40 }, (_, i) => `=9.9.${i}-${'x'.repeat(10)}`), '>=0.1.0'].join(
      ' || ',
    );
    expect(long.length).toBeGreaterThan(512);
    expect(isRegistryError(thrown(() => flux(['0.2.0'], long)))).toBe(true);
    expect(helm(['0.2.0'], long)).toBe('0.2.0');
  });
});
