// The digest history of an ArtifactVerification (newest first, at most 20) and what it tells about a tag:
// the digest last seen for a tag is what makes a new one a mutation rather than a first sighting.
import type { HistoryEntry, Verdict } from '../api/artifact-verification.ts';

export const MAX_HISTORY = 20;

/** The digest most recently recorded for this tag, if any. */
export const lastDigestForTag = (
  history: readonly HistoryEntry[] | undefined,
  tag: string | undefined,
): string | undefined => history?.find((entry) => entry.tag === tag)?.digest;

/**
 * What the history says of a digest just resolved for a tag: the tag moved (it pointed at another digest
 * last), the digest is seen for the first time, and the digest the tag had before (kept while the current
 * one is not trusted, so TagMutated stays True across re-checks, not only in the reconcile that saw the move).
 */
export const tagHistory = (
  history: readonly HistoryEntry[] | undefined,
  tag: string | undefined,
  digest: string,
): { previousDigest: string | undefined; moved: boolean; firstSeen: boolean } => {
  const last = lastDigestForTag(history, tag);
  const before = history?.find((h) => h.tag === tag && h.digest !== digest)?.digest;
  return {
    previousDigest: tag !== undefined ? before : undefined,
    moved: last !== undefined && last !== digest,
    firstSeen: !(history?.some((h) => h.digest === digest && h.tag === tag) ?? false),
  };
};

/**
 * Records the verdict for a digest: updates the newest entry when it is the same digest and tag (a
 * re-check), otherwise prepends a new entry. firstSeen of an existing entry never moves.
 */
export const recordVerdict = (
  history: readonly HistoryEntry[] | undefined,
  entry: { digest: string; tag?: string; verdict: Verdict; reason?: string },
  now: Date,
): HistoryEntry[] => {
  const current = history ?? [];
  const head = current[0];
  const { reason, tag } = entry;
  if (head && head.digest === entry.digest && head.tag === tag) {
    const updated: HistoryEntry = {
      digest: head.digest,
      ...(tag !== undefined ? { tag } : {}),
      firstSeen: head.firstSeen,
      verdict: entry.verdict,
      ...(reason !== undefined ? { reason } : {}),
    };
    return [updated, ...current.slice(1)];
  }
  const added: HistoryEntry = {
    digest: entry.digest,
    ...(tag !== undefined ? { tag } : {}),
    firstSeen: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    verdict: entry.verdict,
    ...(reason !== undefined ? { reason } : {}),
  };
  return [added, ...current].slice(0, MAX_HISTORY);
};
