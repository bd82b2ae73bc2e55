// The chart version `tagguard verify|scan --repo URL CHART [--version V]` judges: index.yaml read once,
// the version picked by helm's own rule (as `helm pull --repo` would), its archive fetched and re-hashed
// against the index digest. Names the chart without the repository URL's query, which may carry a token.
import { helmChartUrl } from '../controller/helm-repositories.ts';
import { deadlineError, withDeadline } from '../registry/deadline.ts';
import { RegistryError } from '../registry/errors.ts';
import { HelmRepositoryError } from '../registry/helm-repository/errors.ts';
import type {
  ChartArchive,
  HelmRepositoryClient,
} from '../registry/helm-repository/helm-repository-client.ts';
import type { ChartVersionEntry } from '../registry/helm-repository/index-reader.ts';
import { pickChartVersion } from '../sources/chart-version-selection.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';
import { ArgumentError, type HelmRepositoryRequest } from './helm-repository-options.ts';

export interface HelmChartTarget {
  /** `<scheme>://<host>/<path>/<chart>:<version>`: no query, no userinfo. */
  readonly reference: string;
  /** The archive's URL without its query (the index may point elsewhere, with a signed query). */
  readonly archiveUrl: string;
  readonly entry: ChartVersionEntry;
  /** `sha256:<hex>` of the archive, equal to the index digest. */
  readonly digest: string;
  readonly archive: ChartArchive;
}

/** A URL for messages: scheme, host, path; no userinfo, query or fragment. */
export const withoutQuery = (url: URL): string => `${url.protocol}//${url.host}${url.pathname}`;

/** The chart as messages name it before its version is known: the repository URL without query, then the chart. */
export const helmChartReference = (request: HelmRepositoryRequest): string =>
  helmChartUrl(request.repositoryUrl, request.chart);

/**
 * Reads the index, picks the version (helm's IndexFile.Get), fetches the archive (ChartDigestMismatch when
 * the bytes differ from the index digest), all within the operation deadline. Reports progress on `progress`.
 */
export const fetchHelmChart = async (
  client: HelmRepositoryClient,
  request: HelmRepositoryRequest,
  progress: (line: string) => void,
): Promise<HelmChartTarget> => {
  const shown = helmChartReference(request);
  return withDeadline(
    request.operationTimeoutMs,
    () => deadlineError('operation', client.url.host, `${shown}`, request.operationTimeoutMs),
    async () => {
      const { snapshot } = await client.fetchIndex(undefined, new Set([request.chart]));
      const versions = snapshot.index.chart(request.chart).map((e) => e.version);
      const version = pickChartVersion(versions, { semver: request.version, semverRule: 'helm' }, shown);
      const entry = snapshot.index.version(request.chart, version);
      const reference = `${shown}:${entry.version}`;
      const archiveUrl = withoutQuery(client.chartUrl(entry));
      progress(`fetching ${reference} from ${archiveUrl}\n`);
      const archive = await client.fetchChart(entry);
      return { reference, archiveUrl, entry, digest: `sha256:${archive.digest}`, archive };
    },
  );
};

/** The exit code and code of an expected failure of the --repo form; undefined for a bug. */
export const helmChartErrorExit = (error: unknown): { exit: ExitCode; code: string } | undefined => {
  if (error instanceof ArgumentError) return { exit: EXIT.usage, code: error.code };
  if (error instanceof HelmRepositoryError)
    return { exit: error.code === 'InvalidRepositoryUrl' ? EXIT.usage : EXIT.registry, code: error.code };
  // InvalidReference: a --version helm's semver cannot parse as a constraint.
  if (error instanceof RegistryError)
    return { exit: error.code === 'InvalidReference' ? EXIT.usage : EXIT.registry, code: error.code };
  return undefined;
};
