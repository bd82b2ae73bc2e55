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
