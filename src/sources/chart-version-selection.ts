// The version of a chart in an HTTP(S) Helm repository's index that a GitOps tool (or helm itself) would
// deploy for what its source says, by that tool's rule. Pure: the caller lists the index's versions (newest
// first, as helm sorts them); nothing matching is a HelmRepositoryError ChartNotFound, as when the version
// itself is missing; a choice the tool could make two ways is UnsupportedChartEntry.
import { HelmRepositoryError } from '../registry/helm-repository/errors.ts';
import { argoCdHelmChartVersion } from './argocd/helm-http-version.ts';
import { parseConstraint, readVersion, selectTag, type ConstraintLimits } from './flux/semver.ts';
import type { SemverRule } from './types.ts';

/**
 * Whose rule: a GitOps tool's (SemverRule), or 'helm' — helm v3's own `repo.IndexFile.Get`, the rule of
 * `helm pull --repo URL chart --version V` (and of `tagguard verify|scan --repo`).
 */
export type ChartVersionRule = SemverRule | 'helm';

export interface ChartVersionSelection {
  /** An exact version string (the entry of exactly that string), or */
  readonly version?: string;
  /** a constraint. */
  readonly semver?: string;
  readonly semverRule?: ChartVersionRule;
}

/** Masterminds/semver v3.4.0, which helm 3.19 pins: no input limits (v3.5.0 added them). */
const MASTERMINDS_3_4_LIMITS: ConstraintLimits = {
  maxLength: Infinity,
  maxGroups: Infinity,
  maxVersionLength: Infinity,
};

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
 * helm v3.19 `repo.IndexFile.Get(name, version)`: the constraint is parsed first ("" is "*"; one helm
 * cannot parse is an error even when an entry is spelled exactly so); then an entry whose version is exactly
 * the text wins; otherwise the first entry, in the index's newest-first order, whose version Masterminds
 * v3.4.0 NewVersion accepts (coercing: "1.2", "v1") and the constraint admits. Unlike Flux, "1.2" counts as
 * a version, and "1.0.0" admits an entry "1.0.0+build" when no entry is exactly "1.0.0".
 */
const helmVersion = (versions: readonly string[], asked: string): string | undefined => {
  const admits = parseConstraint(asked === '' ? '*' : asked, MASTERMINDS_3_4_LIMITS);
  if (asked !== '' && versions.includes(asked)) return asked;
  for (const text of versions) {
    const version = readVersion(text, Infinity);
    if (typeof version !== 'string' && admits(version)) return text;
  }
  return undefined;
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
  const asked = selection.version ?? selection.semver ?? (selection.semverRule === 'helm' ? '' : '*');
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
  } else if (rule === 'helm') picked = helmVersion(versions, asked);
  else
    throw new HelmRepositoryError(
      'ChartNotFound',
      `${where}: the ${rule} rule for chart versions of HTTP repositories is not supported`,
    );
  if (picked === undefined)
    throw new HelmRepositoryError(
      'ChartNotFound',
      `${where}: no version satisfies ${asked === '' ? '(newest stable)' : asked.slice(0, 200)}`,
    );
  return picked;
};
