// Where an error in a reconcile comes from and which digest it is judged as: any error becomes a
// ReconcileError whose reason names its origin, and a failed resolution is attributed to a digest (the one
// last seen only for an outage). What an error then does to the targets is decided in verdict.ts.
import type { ArtifactVerificationStatus } from '../api/artifact-verification.ts';
import { Reason } from '../api/conditions.ts';
import { RegistryError } from '../registry/errors.ts';
import { HelmRepositoryError } from '../registry/helm-repository/errors.ts';
import { ScanError } from '../scan/errors.ts';
import { statusCode } from './cluster-access.ts';
import { lastDigestForTag } from './history.ts';
import { ReconcileError } from './reconcile-error.ts';

/** An artifact that could not be judged in this reconcile. */
export interface JudgementFailure {
  readonly url: string;
  readonly tag: string | undefined;
  /** The digest being judged, or the one last seen for the artifact when it could not be resolved. */
  readonly digest: string | undefined;
  readonly error: ReconcileError;
}

/**
 * The digest a failed resolution is judged as. Only an outage (timeout, 5xx, 429, connection refused or
 * reset) is attributed to the digest last seen, so that a trusted digest stays released while the registry
 * is away. Any other failure is an answer the registry gave about the tag now (a manifest too large, a body
 * that does not parse or hash, an unsupported type, refused credentials, a missing tag): content an attacker
 * with push access can shape so that only tagguard's lookup fails while the GitOps tool pulls the new
 * digest. Such a failure is judged as an unknown digest, which holds.
 */
export const digestOfFailedResolution = (
  status: ArtifactVerificationStatus | undefined,
  artifact: { readonly url: string; readonly tag?: string | undefined; readonly digest?: string | undefined },
  error: unknown,
): string | undefined => {
  if (artifact.digest !== undefined) return artifact.digest;
  return error instanceof RegistryError && error.transient ? lastSeenDigest(status, artifact) : undefined;
};

/** The digest the artifact pointed at when tagguard last saw it (for a resolution that failed now). */
export const lastSeenDigest = (
  status: ArtifactVerificationStatus | undefined,
  artifact: { readonly url: string; readonly tag?: string | undefined; readonly digest?: string | undefined },
): string | undefined => {
  if (artifact.digest !== undefined) return artifact.digest;
  if (artifact.tag !== undefined) return lastDigestForTag(status?.history, artifact.tag);
  return status?.artifact?.url === artifact.url ? status.artifact.digest : undefined;
};

/** An earlier reconcile trusted this digest (its history verdict, or the CR's trusted digest). */
export const alreadyTrusted = (
  status: ArtifactVerificationStatus | undefined,
  digest: string | undefined,
): boolean =>
  digest !== undefined &&
  (status?.trustedDigest === digest ||
    (status?.history ?? []).some((entry) => entry.digest === digest && entry.verdict === 'Trusted'));

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Any error as a ReconcileError typed by what should happen next, with the reason naming where it came
 * from: the registry, the Kubernetes API, the scanner, or tagguard itself (a bug is still a failed check).
 */
export const asReconcileError = (error: unknown, what: string): ReconcileError => {
  if (error instanceof ReconcileError) return error;
  if (error instanceof RegistryError) {
    const stalls = error.code === 'InvalidReference';
    return new ReconcileError(
      stalls ? 'Stalled' : 'Generic',
      stalls ? Reason.InvalidSpec : Reason.RegistryError,
      `${what}: ${error.code}: ${error.message}`,
      { cause: error },
    );
  }
  if (error instanceof HelmRepositoryError)
    // What an HTTP Helm repository served (its index, a chart's bytes): the repository's answer, retried.
    return new ReconcileError('Generic', Reason.RegistryError, `${what}: ${error.code}: ${error.message}`, {
      cause: error,
    });
  if (error instanceof ScanError)
    return new ReconcileError('Generic', Reason.ScanError, `${what}: ${error.code}: ${error.message}`, {
      cause: error,
    });
  if (statusCode(error) !== undefined)
    return new ReconcileError('Generic', Reason.KubernetesError, `${what}: ${messageOf(error)}`, {
      cause: error,
    });
  return new ReconcileError('Generic', Reason.InternalError, `${what}: ${messageOf(error)}`, {
    cause: error,
  });
};
