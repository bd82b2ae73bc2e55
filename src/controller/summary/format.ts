// How the summary names digests and artifacts, and cuts text to the CRD's limits: shared by the condition,
// event and status builders so that each says the same thing the same way.
import type { ArtifactCheck } from '../reconcile-state.ts';

export const shortDigest = (digest: string): string => digest.slice(0, 19);

/** Cuts a string to the CRD's maxLength for the field (the API server would reject the whole status). */
export const clip = (text: string, max: number): string =>
  text.length > max ? `${text.slice(0, max - 1)}…` : text;

/** registry/repository:tag of a check, as conditions and Events name it. */
export const describeCheck = (check: Pick<ArtifactCheck, 'url' | 'tag'>): string =>
  `${check.url.replace(/^oci:\/\//, '')}${check.tag ? `:${check.tag}` : ''}`;

/** The RFC 3339 second-precision time the status records. */
export const stampOf = (now: Date): string => now.toISOString().replace(/\.\d{3}Z$/, 'Z');
