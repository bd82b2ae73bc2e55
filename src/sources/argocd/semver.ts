// The tag Argo CD v3.5 deploys for an OCI source's targetRevision, from the repository's tag list: Argo's
// util/versions.MaxVersion on Masterminds/semver v3.4.0 (no length limits, unlike Flux's v3.5.0), wrapped
// as its repo-server does for a Helm-OCI chart (helm pull --version) and for a native oci:// source (the
// literal tag first). No I/O; test/integration/sources/semver-oracle.test.ts checks it against Argo's code.
import {
  compareVersions,
  parseConstraint,
  readVersion,
  type ConstraintLimits,
  type SemVer,
} from '../flux/semver.ts';

/** Masterminds v3.4.0, the version Argo CD v3.2 to v3.5 pins: no input limits. */
const MASTERMINDS_3_4_LIMITS: ConstraintLimits = {
  maxLength: Infinity,
  maxGroups: Infinity,
  maxVersionLength: Infinity,
};

/** How the source reaches the registry: Helm-OCI (`chart` + repoURL without scheme) or native `oci://`. */
export type ArgoCdSourceKind = 'helm' | 'oci';

/**
 * Why Argo CD does not deploy anything:
 * - constraint: targetRevision is neither a version nor a semver constraint, and no tag equals it
 * - invalid-tag: a listed tag looks like a version but Masterminds refuses it (`1.0.0-01`, a number beyond
 *   uint64); Argo fails the whole resolution instead of skipping it
 * - no-match: no tag satisfies the constraint
 * - not-found: (native OCI) the revision is a plain tag or a version, and no such tag exists
 * - unpullable: the choice cannot be pulled (native OCI: a tag with `_` became `+`, not a valid reference;
 *   Helm-OCI: a tag that is no version, which `helm pull --version` refuses)
 */
export type ArgoCdSelectionError = 'constraint' | 'invalid-tag' | 'no-match' | 'not-found' | 'unpullable';

export type ArgoCdSelection =
  { readonly tag: string } | { readonly error: ArgoCdSelectionError; readonly detail: string };

/** Argo CD's versions.IsVersion: Masterminds v3.4.0 NewVersion accepts it ("1.2", "v1", "1.0.0+b"). */
export const isArgoCdVersion = (text: string): boolean => typeof readVersion(text, Infinity) !== 'string';

/** Masterminds v3.4.0 NewConstraint (Argo CD's and helm 3.19's): the check, or undefined where Go fails. */
export const readConstraint = (text: string): ((version: SemVer) => boolean) | undefined => {
  try {
    return parseConstraint(text, MASTERMINDS_3_4_LIMITS);
  } catch {
    return undefined;
  }
};

/** Argo CD's versions.IsConstraint: not a version, and Masterminds v3.4.0 NewConstraint accepts it. */
export const isArgoCdConstraint = (text: string): boolean =>
  !isArgoCdVersion(text) && readConstraint(text) !== undefined;

/**
 * util/versions.MaxVersion(revision, tags, ""): a version is returned as written; a non-constraint only if
 * some tag equals it; for a constraint, the highest matching tag (the first listed among equal versions).
 */
export const argoCdMaxVersion = (revision: string, tags: readonly string[]): ArgoCdSelection => {
  if (isArgoCdVersion(revision)) return { tag: revision };
  const matches = readConstraint(revision);
  if (!matches) {
    if (tags.includes(revision)) return { tag: revision };
    return { error: 'constraint', detail: `"${revision}" is neither a version nor a semver constraint` };
  }
  let best: SemVer | undefined;
  for (const tag of tags) {
    const version = readVersion(tag, Infinity);
    if (version === 'InvalidSemVer') continue;
    if (version === 'Malformed')
      return { error: 'invalid-tag', detail: `tag "${tag}" is a malformed semantic version` };
    if (matches(version) && (!best || compareVersions(version, best) > 0)) best = version;
  }
  if (!best) return { error: 'no-match', detail: `no tag satisfies "${revision}"` };
  return { tag: best.original };
};

// By convention Helm pushes version 1.0.0+b as tag 1.0.0_b; Argo CD lists tags with `_` turned into `+`.
const plusForUnderscore = (tag: string): string => tag.replace(/_/g, '+');

// oras-go's tag grammar (registry.Reference.ValidateReferenceAsTag), which Argo's native OCI client
// applies before asking the registry.
const OCI_TAG = /^\w[\w.-]{0,127}$/;

/**
 * The registry tag Argo CD deploys for a targetRevision (not a digest), given the repository's tags in
 * listing order. Helm-OCI: reposerver newHelmClientResolveRevision (a version is pulled as written, `+` as
 * `_`; anything else goes through MaxVersion over the listed tags, then `helm pull --version`). Native OCI:
 * oci nativeOCIClient.resolveRevision (an existing tag equal to the revision wins; then, for a constraint
 * only, MaxVersion over the listed tags, whose choice must be a valid tag).
 */
export const selectArgoCdTag = (
  tags: readonly string[],
  revision: string,
  kind: ArgoCdSourceKind,
): ArgoCdSelection => {
  if (kind === 'helm') {
    if (isArgoCdVersion(revision)) return { tag: revision.replace(/\+/g, '_') };
    const picked = argoCdMaxVersion(revision, tags.map(plusForUnderscore));
    if ('error' in picked) return picked;
    if (!isArgoCdVersion(picked.tag))
      return { error: 'unpullable', detail: `helm pull --version needs a version, not "${picked.tag}"` };
    return { tag: picked.tag.replace(/\+/g, '_') };
  }
  if (OCI_TAG.test(revision) && tags.includes(revision)) return { tag: revision };
  if (!isArgoCdConstraint(revision)) return { error: 'not-found', detail: `no tag "${revision}"` };
  const picked = argoCdMaxVersion(revision, tags.map(plusForUnderscore));
  if ('error' in picked) return picked;
  if (!OCI_TAG.test(picked.tag) || !tags.includes(picked.tag))
    return { error: 'unpullable', detail: `"${picked.tag}" is not a valid OCI tag` };
  return { tag: picked.tag };
};
