// What the reconciler reads of an ArtifactVerification's spec, with the defaults: the interval, the action,
// and how to hold its targets. The CR's key names it as the holder of its holds.
import { DEFAULT_ACTION, type ArtifactVerification, type HoldAction } from '../api/artifact-verification.ts';
import type { HoldOptions } from '../enforce/types.ts';
import { parseDuration } from './duration.ts';

const DEFAULT_INTERVAL_MS = 60_000;
const MIN_INTERVAL_MS = 10_000;

export const objectKey = (object: ArtifactVerification): string =>
  `${object.metadata.namespace ?? ''}/${object.metadata.name}`;

export const intervalOf = (object: ArtifactVerification): number => {
  const parsed = object.spec.interval ? parseDuration(object.spec.interval) : undefined;
  return Math.max(parsed ?? DEFAULT_INTERVAL_MS, MIN_INTERVAL_MS);
};

export const actionOf = (object: ArtifactVerification): HoldAction => object.spec.action ?? DEFAULT_ACTION;

/**
 * How to hold. Pin keeps targets at the trusted digest, unless that digest is itself judged untrusted now
 * (a revoked certificate, a stricter policy): then there is nothing to pin to and Pin falls back to Suspend.
 */
export const holdOptions = (
  object: ArtifactVerification,
  distrusted: readonly string[] = [],
): Omit<HoldOptions, 'expectHeld'> => {
  const trusted = object.status?.trustedDigest;
  return {
    action: actionOf(object) === 'Pin' ? 'Pin' : 'Suspend',
    argocdMethod: object.spec.argocd?.suspendMethod ?? 'DisableAutoSync',
    ...(trusted && !distrusted.includes(trusted) ? { pinDigest: trusted } : {}),
  };
};
