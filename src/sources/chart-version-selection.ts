// The version of a chart in an HTTP(S) Helm repository's index that a GitOps tool would deploy for what its
// source says, by that tool's rule. Pure: the caller lists the index's versions (newest first, as helm sorts
// them); nothing matching is a HelmRepositoryError ChartNotFound, as when the version itself is missing; a
// choice the tool could make two ways is UnsupportedChartEntry.
import { HelmRepositoryError } from '../registry/helm-repository/errors.ts';
import { argoCdHelmChartVersion } from './argocd/helm-http-version.ts';
import { selectTag } from './flux/semver.ts';
import type { SemverRule } from './types.ts';

export interface ChartVersionSelection {
  /** An exact version string (the entry of exactly that string), or */
  readonly version?: string;
  /** a constraint. */
  readonly semver?: string;
  readonly semverRule?: SemverRule;
}

/**
 * Flux (source-controller `ChartRepository.GetChartVersion`): an entry whose version is exactly the text
 * asked for wins; otherwise the newest version (fluxcd/pkg/version: strict semver, optional "v") the
 * constraint admits ("" and "*" admit every stable version).
 */
const fluxVersion = (versions: readonly string[], asked: string): string | undefined => {
  if (asked !== '' && versions.includes(asked)) return asked;
  return selectTag(versions, asked === '' ? '*' : asked);
};

/**
 * `dropped`: the versions of the chart's entries helm drops on load, which Argo CD's own read of the index
 * still sees (src/sources/argocd/helm-http-version.ts); the Flux rule does not need them.
 */
export const pickChartVersion = (
  versions: readonly string[],
  selection: ChartVersionSelection,
  where: string,
  dropped: readonly string[] = [],
): string => {
  const asked = selection.version ?? selection.semver ?? '*';
  const rule = selection.semverRule ?? 'flux';
  let picked: string | undefined;
  if (rule === 'flux') picked = fluxVersion(versions, asked);
  else if (rule === 'argocd-helm') {
    // Argo CD: a version or a constraint, both in targetRevision; the rule decides which it is.
    const choice = argoCdHelmChartVersion(versions, asked, dropped);
    if ('error' in choice)
      throw new HelmRepositoryError(
        choice.error === 'ambiguous' ? 'UnsupportedChartEntry' : 'ChartNotFound',
        `${where}: ${choice.detail}`,
      );
    picked = choice.tag;
  } else
    throw new HelmRepositoryError(
      'ChartNotFound',
      `${where}: the ${rule} rule for chart versions of HTTP repositories is not supported`,
    );
  if (picked === undefined)
    throw new HelmRepositoryError('ChartNotFound', `${where}: no version satisfies ${asked.slice(0, 200)}`);
  return picked;
};
