// Clients for the HTTP(S) Helm repositories the controller watches, one per repository URL and
// credentials, each with its last index snapshot: every chart of a repository resolves from one poll of
// index.yaml (concurrent resolves share the GET in flight; the ETag makes an unchanged index a 304). A
// chart version's digest is the index's sha256 of its archive; the checks fetch and re-hash the archive.
import { createHash } from 'node:crypto';
import {
  HelmRepositoryClient,
  type ArchiveSnapshot,
  type IndexSnapshot,
} from '../registry/helm-repository/helm-repository-client.ts';
import { HelmRepositoryError } from '../registry/helm-repository/errors.ts';
import type { ChartVersionEntry } from '../registry/helm-repository/index-reader.ts';
import type { ResolvedHelmChart } from '../registry/resolved-artifact.ts';
import { pickChartVersion } from '../sources/chart-version-selection.ts';
import type { HelmRepositoryAuth } from '../sources/credentials.ts';
import type { SemverRule } from '../sources/types.ts';
import type { Resolution } from './digest-poller.ts';

/** The media type the status records for a chart of an HTTP repository (its archive). */
export const HELM_ARCHIVE_MEDIA_TYPE = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';

/** One chart of an HTTP(S) Helm repository to watch, with what reaches it (Secrets already read). */
export interface HelmChartAccess {
  readonly kind: 'helm-http';
  /** `<scheme>://<host>/<path>/<chart>` without the repository URL's query: for status, keys and messages. */
  readonly url: string;
  /** As the source wrote it (a query kept: helm sends it with every request). */
  readonly repositoryUrl: string;
  /** host[:port] of the repository, the metrics' `registry` label. */
  readonly host: string;
  readonly chart: string;
  readonly version?: string;
  readonly semver?: string;
  readonly semverRule?: SemverRule;
  readonly auth: HelmRepositoryAuth;
  readonly passCredentials: boolean;
  /** Identifies repository URL, credentials and TLS settings without revealing them (a hash). */
  readonly credentialId: string;
}

/** What the status shows for a chart: the repository URL without its query, then the chart name. */
export const helmChartUrl = (repositoryUrl: string, chart: string): string => {
  const url = new URL(repositoryUrl);
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}/${chart}`;
};

export const helmAccessId = (
  repositoryUrl: string,
  auth: HelmRepositoryAuth,
  passCredentials: boolean,
): string =>
  createHash('sha256')
    .update(JSON.stringify({ repositoryUrl, auth, passCredentials }))
    .digest('hex')
    .slice(0, 16);

export const helmChartPollKey = (access: HelmChartAccess): string =>
  [
    access.url,
    access.version !== undefined
      ? `version:${access.version}`
      : `semver:${access.semver ?? '*'}${access.semverRule && access.semverRule !== 'flux' ? ` (${access.semverRule})` : ''}`,
    'helm',
    access.credentialId,
  ].join(' ');

interface Repository {
  readonly client: HelmRepositoryClient;
  snapshot?: IndexSnapshot;
  fetchedAt: number;
  inFlight?: Promise<IndexSnapshot>;
}

/** An index fetched this recently answers the resolves of other charts without another GET. */
const SHARED_POLL_MS = 1_000;
const MAX_REPOSITORIES = 256;
const MAX_ARCHIVES = 20_000;

export class HelmRepositories {
  private readonly repositories = new Map<string, Repository>();
  /** The last look at each watched chart version's archive (its validators and hash). */
  private readonly archives = new Map<string, ArchiveSnapshot>();
  private readonly now: () => number;
  private readonly onIndexPoll: ((host: string, changed: boolean, bytes: number) => void) | undefined;

  constructor(
    options: {
      now?: () => number;
      /** Each GET of an index.yaml: whether it changed and the bytes read (0 for a 304). */
      onIndexPoll?: (host: string, changed: boolean, bytes: number) => void;
    } = {},
  ) {
    this.now = options.now ?? Date.now;
    this.onIndexPoll = options.onIndexPoll;
  }

  private repository(access: HelmChartAccess): Repository {
    let repository = this.repositories.get(access.credentialId);
    if (repository === undefined) {
      const { caPem, ...credentials } = access.auth;
      repository = {
        client: new HelmRepositoryClient(access.repositoryUrl, {
          credentials,
          ...(caPem !== undefined ? { caPem } : {}),
          passCredentials: access.passCredentials,
        }),
        fetchedAt: 0,
      };
      if (this.repositories.size >= MAX_REPOSITORIES) {
        const [oldestKey, oldest] = this.repositories.entries().next().value ?? [];
        if (oldestKey !== undefined) this.repositories.delete(oldestKey);
        void oldest?.client.close();
      }
      this.repositories.set(access.credentialId, repository);
    }
    return repository;
  }

  /** The index as of at most SHARED_POLL_MS ago (or `fresh`: fetched now), one GET for concurrent callers. */
  private index(repository: Repository, host: string): Promise<IndexSnapshot> {
    if (repository.inFlight) return repository.inFlight;
    if (repository.snapshot && this.now() - repository.fetchedAt < SHARED_POLL_MS)
      return Promise.resolve(repository.snapshot);
    const poll = repository.client
      .fetchIndex(repository.snapshot)
      .then((result) => {
        repository.snapshot = result.snapshot;
        repository.fetchedAt = this.now();
        this.onIndexPoll?.(host, result.changed, result.bytesTransferred);
        return result.snapshot;
      })
      .finally(() => {
        delete repository.inFlight;
      });
    repository.inFlight = poll;
    return poll;
  }

  /** The version the source's tool would deploy now and its archive digest, from the repository's index. */
  async resolve(access: HelmChartAccess): Promise<Omit<Resolution, 'at'>> {
    const repository = this.repository(access);
    const { index } = await this.index(repository, access.host);
    const versions = index.chart(access.chart).map((entry) => entry.version);
    // The entries helm drops count for Argo CD's own pick (src/sources/argocd/helm-http-version.ts).
    const version = pickChartVersion(versions, access, `${access.url}`, index.droppedVersions(access.chart));
    const entry = index.version(access.chart, version);
    if (entry.digest === undefined)
      throw new HelmRepositoryError(
        'ChartDigestMissing',
        `${access.host}: the index has no sha256 digest for ${access.chart} ${version.slice(0, 100)}`,
        { host: access.host },
      );
    await this.checkServedBytes(repository, access, entry);
    return { digest: `sha256:${entry.digest}`, tag: version, mediaType: HELM_ARCHIVE_MEDIA_TYPE, entry };
  }

  /**
   * The archive still hashes to the index digest: source-controller downloads `urls[0]` at its next cache
   * miss without comparing it with the index, so an archive replaced under an unchanged index is a
   * mutation too. A conditional GET (304 when unchanged); a server without validators costs the archive's
   * bytes per poll. Other bytes than the index names fail the resolution (ChartDigestMismatch), which holds.
   */
  private async checkServedBytes(
    repository: Repository,
    access: HelmChartAccess,
    entry: ChartVersionEntry,
  ): Promise<void> {
    const key = `${access.credentialId} ${entry.name} ${entry.version}`;
    const previous = this.archives.get(key);
    const now = await repository.client.probeChart(entry, previous);
    this.archives.delete(key);
    if (this.archives.size >= MAX_ARCHIVES) {
      const oldest = this.archives.keys().next().value;
      if (oldest !== undefined) this.archives.delete(oldest);
    }
    this.archives.set(key, now);
    if (now.sha256 !== entry.digest)
      throw new HelmRepositoryError(
        'ChartDigestMismatch',
        `${access.host}: ${entry.name.slice(0, 100)} ${entry.version.slice(0, 100)} is served as bytes with sha256 ${now.sha256}, the index says ${entry.digest ?? ''}`,
        { host: access.host },
      );
  }

  /** The resolved chart: the index entry its digest was read from, and the repository's client. */
  resolved(access: HelmChartAccess, resolution: Pick<Resolution, 'digest' | 'entry'>): ResolvedHelmChart {
    const { entry, digest } = resolution;
    if (entry === undefined || `sha256:${entry.digest}` !== digest)
      throw new HelmRepositoryError('ChartDigestMissing', `${access.url}: no index entry for ${digest}`, {
        host: access.host,
      });
    return {
      kind: 'helm-http',
      repository: this.repository(access).client,
      entry,
      reference: { registry: access.host, repository: new URL(access.url).pathname.slice(1), digest },
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.repositories.values()].map((r) => r.client.close()));
    this.repositories.clear();
  }
}
