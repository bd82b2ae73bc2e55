// What can be wrong with a Helm repository's content (its index.yaml, a chart's bytes), as codes. HTTP
// failures on the way (status, TLS, timeouts, caps on bytes) stay RegistryErrors with their codes; these are
// the ones about what the repository served. Messages name the host and chart, never a credential.
import { BaseError } from '../../errors.ts';

export type HelmRepositoryErrorCode =
  /** The repository URL is not an absolute http(s) URL tagguard can read the way helm does. */
  | 'InvalidRepositoryUrl'
  /** index.yaml does not parse, is not an index (no apiVersion, no entries map), or is empty. */
  | 'InvalidIndex'
  /**
   * index.yaml holds a construct helm could read differently from tagguard (duplicate keys, anchors,
   * aliases, merge keys, tags, several documents, a key in another case, an unknown field): refused whole.
   */
  | 'UnsupportedIndex'
  /** More YAML nodes than the index cap allows (the byte cap is a RegistryError TooLarge). */
  | 'IndexTooLarge'
  /**
   * One chart's entries are ambiguous (two entries of one version, a name that differs from the map key, a
   * field of another type than a string): that chart is refused, the others stay readable.
   */
  | 'UnsupportedChartEntry'
  /** The chart name is not in the index, or not with that version. */
  | 'ChartNotFound'
  /** The chart's first URL cannot be resolved the way helm resolves it. */
  | 'InvalidChartUrl'
  /** The index has no (or no well-formed) sha256 digest for the chart version: nothing to check bytes against. */
  | 'ChartDigestMissing'
  /** The archive served hashes to another SHA-256 than the index's digest. */
  | 'ChartDigestMismatch';

export class HelmRepositoryError extends BaseError<HelmRepositoryErrorCode> {
  /** The repository's host (host:port), when known. */
  readonly host: string | undefined;

  constructor(
    code: HelmRepositoryErrorCode,
    message: string,
    details: { host?: string; cause?: unknown } = {},
  ) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.host = details.host;
  }
}

export const isHelmRepositoryError = (
  error: unknown,
  code?: HelmRepositoryErrorCode,
): error is HelmRepositoryError =>
  error instanceof HelmRepositoryError && (code === undefined || error.code === code);
