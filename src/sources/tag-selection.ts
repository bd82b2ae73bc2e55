// The tag a GitOps tool would deploy for a semver constraint, from a repository's tag list, by that tool's
// own rule (Flux's OCIRepository or Argo CD's Helm-OCI / native oci:// source). Pure: the caller lists the
// tags; a constraint nothing satisfies is a RegistryError NotFound, as when the tag itself is missing.
import { RegistryError } from '../registry/errors.ts';
import { compileRe2 } from '../re2-pattern.ts';
import { selectTag } from './flux/semver.ts';
import { selectArgoCdTag } from './argocd/semver.ts';
import type { SemverRule } from './types.ts';

/** A semver constraint as the source states it. */
export interface SemverSelection {
  readonly semver: string;
  /** Whose rule picks the tag; absent is Flux's. */
  readonly semverRule?: SemverRule;
  /** Flux `ref.semverFilter` (RE2): tags it does not match are not candidates. */
  readonly semverFilter?: string;
}

/** The tag the GitOps tool would deploy; `url` only names the repository in errors. */
export const pickSemverTag = (tags: readonly string[], selection: SemverSelection, url: string): string => {
  const { semver } = selection;
  const rule = selection.semverRule ?? 'flux';
  if (rule === 'flux') {
    const filter = selection.semverFilter !== undefined ? compileRe2(selection.semverFilter) : undefined;
    const picked = selectTag(tags, semver, filter && { test: (tag) => filter.matchesAnywhere(tag) });
    if (!picked) throw new RegistryError('NotFound', `no tag of ${url} satisfies ${semver}`);
    return picked;
  }
  const argo = selectArgoCdTag(tags, semver, rule === 'argocd-helm' ? 'helm' : 'oci');
  if ('tag' in argo) return argo.tag;
  const code = argo.error === 'no-match' || argo.error === 'not-found' ? 'NotFound' : 'InvalidReference';
  throw new RegistryError(code, `Argo CD deploys no tag of ${url} for ${semver}: ${argo.detail}`);
};
