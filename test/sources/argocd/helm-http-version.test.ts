import { describe, expect, it } from 'vitest';
import { argoCdHelmChartVersion, helmIndexGet } from '../../../src/sources/argocd/helm-http-version.ts';
import { pickChartVersion } from '../../../src/sources/chart-version-selection.ts';
import { HelmRepositoryError } from '../../../src/registry/helm-repository/errors.ts';

// As the index reader hands them over: helm's kept entries, newest first, no two of one semantic version.
const INDEX = ['2.0.0-rc.1', '1.3.0', '1.2.9', 'v1.2.3', '1.2.0', '1.0.0+build.1'];

describe('helmIndexGet (helm 3.19 IndexFile.Get)', () => {
  it.each([
    ['1.2.9', '1.2.9'], // exact string
    ['v1.2.3', 'v1.2.3'],
    ['1.2.3', 'v1.2.3'], // no exact string: "=1.2.3" admits v1.2.3
    ['1.2', '1.2.9'], // a lax version is ~1.2: the newest 1.2.x
    ['1', '1.3.0'],
    ['1.0.0', '1.0.0+build.1'], // metadata is ignored by the constraint
    ['2.0.0', undefined], // a prerelease is not admitted by a release constraint
    ['1.4.0', undefined],
    ['', '1.3.0'], // helm reads no version as "*"
  ])('%s → %s', (asked, expected) => {
    expect(helmIndexGet(INDEX, asked)).toBe(expected);
  });
});

describe('argoCdHelmChartVersion (Argo CD reposerver + helm pull)', () => {
  it.each([
    ['1.2', '1.2.9'], // a version goes to helm as written
    ['>=1.0.0 <1.2.5', 'v1.2.3'], // MaxVersion's Original(), fetched exactly
    ['1.2.x', '1.2.9'],
    ['*', '1.3.0'],
    ['>=2.0.0-0', '2.0.0-rc.1'],
  ])('%s → %s', (revision, expected) => {
    expect(argoCdHelmChartVersion(INDEX, revision)).toEqual({ tag: expected });
  });

  it('fails where Argo CD or helm pulls nothing', () => {
    expect(argoCdHelmChartVersion(INDEX, '>=5')).toMatchObject({ error: 'no-match' });
    expect(argoCdHelmChartVersion(INDEX, '9.9.9')).toMatchObject({ error: 'no-match' });
    expect(argoCdHelmChartVersion(INDEX, 'latest')).toMatchObject({ error: 'constraint' });
  });

  it('takes the entries helm drops into account, as Argo CD lists them to MaxVersion', () => {
    // Argo picks "1.2" (an entry helm drops), helm then reads it as ~1.2 and pulls 1.2.9 — not 1.2.0.
    expect(argoCdHelmChartVersion(['1.2.9', '1.1.0'], '<1.2.5', ['1.2'])).toEqual({ tag: '1.2.9' });
    expect(argoCdHelmChartVersion(['1.2.9', '1.1.0'], '<1.2.5')).toEqual({ tag: '1.1.0' });
    // A dropped entry equal to a kept one: either order makes helm fetch the kept entry.
    expect(argoCdHelmChartVersion(['1.2.0'], '<2', ['v1.2.0'])).toEqual({ tag: '1.2.0' });
  });

  it('refuses equal maxima that would make helm pull different entries', () => {
    // MaxVersion's equal maxima 1.2.0 and "1.2" (dropped by helm): whichever comes first in the index,
    // which tagguard does not know, helm pulls 1.2.0 (exact) or ~1.2 → 1.2.1.
    expect(argoCdHelmChartVersion(['1.2.1', '1.2.0'], '<1.2.1', ['1.2'])).toMatchObject({
      error: 'ambiguous',
    });
  });
});

describe('pickChartVersion argocd-helm', () => {
  it('returns the entry helm fetches, ChartNotFound or UnsupportedChartEntry', () => {
    expect(pickChartVersion(INDEX, { version: '1.2', semverRule: 'argocd-helm' }, 'x')).toBe('1.2.9');
    expect(pickChartVersion(INDEX, { semver: '<1.2.5', semverRule: 'argocd-helm' }, 'x')).toBe('v1.2.3');
    const code = (run: () => unknown): string | undefined => {
      try {
        run();
      } catch (error) {
        return error instanceof HelmRepositoryError ? error.code : 'other';
      }
      return undefined;
    };
    expect(code(() => pickChartVersion(INDEX, { semver: '>=5', semverRule: 'argocd-helm' }, 'x'))).toBe(
      'ChartNotFound',
    );
    expect(
      code(() =>
        pickChartVersion(['1.2.1', '1.2.0'], { semver: '<1.2.1', semverRule: 'argocd-helm' }, 'x', ['1.2']),
      ),
    ).toBe('UnsupportedChartEntry');
    // Flux unchanged: exact string first, else the newest strict match.
    expect(pickChartVersion(INDEX, { semver: '1.2.x' }, 'x')).toBe('1.2.9');
  });
});
