// The chart version Argo CD v3.2–v3.5 deploys from an HTTP(S) Helm repository for a targetRevision: its
// repo-server's newHelmClientResolveRevision (a version passes as written; otherwise util/versions.MaxVersion
// over the index's versions), then the `helm pull --version <that> --repo` it runs (helm's IndexFile.Get).
import { compareVersions, readVersion, type SemVer } from '../flux/semver.ts';
import { argoCdMaxVersion, isArgoCdVersion, readConstraint, type ArgoCdSelection } from './semver.ts';

/**
 * helm 3.19 IndexFile.Get(chart, asked) over helm's loaded entries, newest first (SortEntries): the entry of
 * exactly this version string, else the first that the text read as a Masterminds constraint admits — so
 * `1.2` is `~1.2` and may pick 1.2.9. undefined where helm fails (nothing is pulled).
 */
export const helmIndexGet = (versions: readonly string[], asked: string): string | undefined => {
  if (asked !== '' && versions.includes(asked)) return asked;
  const admits = readConstraint(asked === '' ? '*' : asked);
  if (admits === undefined) return undefined;
  return versions.find((text) => {
    const version = readVersion(text, Infinity);
    return typeof version !== 'string' && admits(version);
  });
};

/** Masterminds Version.String(): what Argo CD before v3.2 handed to helm (`v1.2` → `1.2.0`). */
const canonical = (v: SemVer): string =>
  `${v.major}.${v.minor}.${v.patch}${v.prerelease !== '' ? `-${v.prerelease}` : ''}${v.metadata !== '' ? `+${v.metadata}` : ''}`;

/**
 * The index entry's version string `helm pull` fetches for `revision`. `versions`: the entries helm keeps,
 * newest first (the index reader refuses two of one semantic version); `dropped`: the versions of the
 * chart's entries helm drops on load (no name, a bad type), which Argo CD's own index read still lists to
 * MaxVersion. Argo takes the first of equal maxima in document order, which is not known here: when those
 * candidates would make helm fetch different entries, the choice is refused ('ambiguous') rather than guessed.
 */
export const argoCdHelmChartVersion = (
  versions: readonly string[],
  revision: string,
  dropped: readonly string[] = [],
): ArgoCdSelection | { readonly error: 'ambiguous'; readonly detail: string } => {
  let candidates: readonly string[];
  if (isArgoCdVersion(revision)) candidates = [revision];
  else {
    const tags = [...versions, ...dropped];
    const picked = argoCdMaxVersion(revision, tags);
    if ('error' in picked) return picked;
    const best = readVersion(picked.tag, Infinity);
    // Equal maxima in any order, each as written (MaxVersion's Original(), v3.2 on) and as String() (the
    // releases before): helm must fetch one and the same entry for all of them.
    candidates =
      typeof best === 'string'
        ? [picked.tag]
        : tags.flatMap((tag) => {
            const version = readVersion(tag, Infinity);
            return typeof version !== 'string' && compareVersions(version, best) === 0
              ? [tag, canonical(version)]
              : [];
          });
  }
  const fetched = new Set(
    candidates.map((asked) => helmIndexGet(versions, asked)).filter((v): v is string => v !== undefined),
  );
  const [only, ...others] = fetched;
  if (only === undefined)
    return { error: 'no-match', detail: `helm pull finds no version for "${candidates[0] ?? revision}"` };
  if (others.length > 0)
    return {
      error: 'ambiguous',
      detail: `Argo CD may pull ${[only, ...others].map((v) => v.slice(0, 64)).join(' or ')} for "${revision.slice(0, 100)}"`,
    };
  return { tag: only };
};
