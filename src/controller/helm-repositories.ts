// Clients for the HTTP(S) Helm repositories the controller watches, one per repository URL and
// credentials, each with its last index snapshot: every chart of a repository resolves from one poll of
// index.yaml per interval (concurrent resolves share the GET in flight; the ETag makes an unchanged index a
// 304). A chart version's digest is the index's sha256 of its archive, whose bytes are looked at on every
// resolve (a conditional GET): other bytes than the digest names fail the resolution (ChartDigestMismatch).
import { createHash } from 'node:crypto';
import {
  HelmRepositoryClient,
  type ChartArchive,
  type ChartValidators,
  type IndexSnapshot,
} from '../registry/helm-repository/helm-repository-client.ts';
import { HelmRepositoryError, isHelmRepositoryError } from '../registry/helm-repository/errors.ts';
import type { ChartVersionEntry } from '../registry/helm-repository/index-reader.ts';
import type { ResolvedHelmChart } from '../registry/resolved-artifact.ts';
import { pickChartVersion } from '../sources/chart-version-selection.ts';
import type { HelmRepositoryAuth } from '../sources/credentials.ts';
import type { SemverRule } from '../sources/types.ts';
import { TICK_JITTER, type Resolution } from './digest-poller.ts';

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

/** What the last look at one archive (chart URL + index digest) found. */
interface ArchiveState {
  validators: ChartValidators;
  /** When the validators were read (racy validators are not used). */
  readAt: number;
  /** The archive served other bytes than the index names: every resolution of this digest fails with it. */
  mismatch?: HelmRepositoryError;
}

/** Least age at which an index is fetched again (concurrent resolves of a reconcile share one GET). */
const SHARED_POLL_MS = 1_000;
const MAX_REPOSITORIES = 256;
const MAX_ARCHIVES = 4096;

/**
 * How old an index may be for a tick of a key polled every `intervalMs`: just under the shortest time
 * between two of its ticks (TICK_JITTER), so N charts of one repository, each ticking on its own timer,
 * share one index GET per interval instead of N, and no key ever reads an index older than its interval.
 */
export const indexMaxAge = (intervalMs: number): number =>
  Math.max(SHARED_POLL_MS, Math.floor(intervalMs * (1 - TICK_JITTER)) - SHARED_POLL_MS);

/**
 * Web servers derive validators from the file's mtime in whole seconds (nginx's ETag is mtime-size): a
 * file rewritten with the same size in the second it was last read keeps its ETag and Last-Modified, and
 * a conditional GET would answer 304 for other bytes for ever (Flux, which sends no validators, gets the
 * new ones). Validators read within RACY_MS of the file's Last-Modified are not used (the "racy git"
 * rule): the next look is unconditional, its bytes re-hashed. RACY_MS covers that second plus some skew
 * between the server's clock and ours.
 */
const RACY_MS = 5_000;

const racy = (lastModified: string | undefined, readAt: number): boolean => {
  if (lastModified === undefined) return true;
  const modified = Date.parse(lastModified);
  return Number.isNaN(modified) || Math.abs(readAt - modified) < RACY_MS;
};

/** The snapshot with its validators only when they can be trusted to change with the bytes. */
const trustworthy = (snapshot: IndexSnapshot | undefined, fetchedAt: number): IndexSnapshot | undefined =>
  snapshot === undefined || !racy(snapshot.lastModified, fetchedAt)
    ? snapshot
    : { ...snapshot, etag: undefined, lastModified: undefined };

export type IndexPollResult = 'changed' | 'unchanged' | 'error';

export class HelmRepositories {
  private readonly repositories = new Map<string, Repository>();
  private readonly archives = new Map<string, ArchiveState>();
  private readonly now: () => number;
  private readonly onIndexPoll: ((host: string, result: IndexPollResult, bytes: number) => void) | undefined;

  constructor(
    options: {
      now?: () => number;
      /** Each GET of an index.yaml: whether it changed (or failed) and the body bytes read (0 for a 304). */
      onIndexPoll?: (host: string, result: IndexPollResult, bytes: number) => void;
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

  /** The index as of at most `maxAgeMs` ago (at least SHARED_POLL_MS), one GET for concurrent callers. */
  private index(repository: Repository, host: string, maxAgeMs: number): Promise<IndexSnapshot> {
    if (repository.inFlight) return repository.inFlight;
    if (repository.snapshot && this.now() - repository.fetchedAt < Math.max(SHARED_POLL_MS, maxAgeMs))
      return Promise.resolve(repository.snapshot);
    const poll = repository.client
      .fetchIndex(trustworthy(repository.snapshot, repository.fetchedAt))
      .then(
        (result) => {
          repository.snapshot = result.snapshot;
          repository.fetchedAt = this.now();
          this.onIndexPoll?.(host, result.changed ? 'changed' : 'unchanged', result.bytesTransferred);
          return result.snapshot;
        },
        (error: unknown) => {
          this.onIndexPoll?.(host, 'error', 0);
          throw error;
        },
      )
      .finally(() => {
        delete repository.inFlight;
      });
    repository.inFlight = poll;
    return poll;
  }

  /**
   * The version the source's tool would deploy now and its archive digest, from the repository's index
   * (reused while younger than `indexMaxAgeMs`; 0: fetched now). The archive is looked at too, conditional
   * on its last validators: the index digest alone would not show an archive swapped under an unchanged
   * index (Flux downloads the archive and does not compare it with the index digest), and a digest judged
   * once is not fetched again by the checks.
   */
  async resolve(access: HelmChartAccess, indexMaxAgeMs = 0): Promise<Omit<Resolution, 'at'>> {
    const repository = this.repository(access);
    const polledBefore = repository.fetchedAt;
    let picked: { version: string; entry: ChartVersionEntry };
    try {
      picked = this.pick(access, await this.index(repository, access.host, indexMaxAgeMs));
    } catch (error) {
      // An index shared with the repository's other charts may predate this chart or version (published
      // since, and asked for by a CR created since): read it again before failing. Costs one conditional
      // GET per failing resolve, which the work queue's backoff spaces out.
      const reused = repository.fetchedAt === polledBefore && polledBefore !== 0;
      if (!reused || !isHelmRepositoryError(error, 'ChartNotFound')) throw error;
      picked = this.pick(access, await this.index(repository, access.host, 0));
    }
    const { version, entry } = picked;
    await this.revalidate(access, repository.client, entry);
    return { digest: `sha256:${entry.digest}`, tag: version, mediaType: HELM_ARCHIVE_MEDIA_TYPE, entry };
  }

  /** The version the source's tool would pick from `snapshot` and its entry, which must have a digest. */
  private pick(
    access: HelmChartAccess,
    { index }: IndexSnapshot,
  ): { version: string; entry: ChartVersionEntry } {
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
    return { version, entry };
  }

  private archiveKey(
    access: HelmChartAccess,
    client: HelmRepositoryClient,
    entry: ChartVersionEntry,
  ): string {
    return `${access.credentialId} ${client.chartUrl(entry).href} ${entry.digest ?? ''}`;
  }

  /** One conditional GET of the archive; other bytes are recorded (resolved() fails with them) and thrown. */
  private async revalidate(
    access: HelmChartAccess,
    client: HelmRepositoryClient,
    entry: ChartVersionEntry,
  ): Promise<void> {
    const key = this.archiveKey(access, client, entry);
    const state = this.archives.get(key);
    try {
      const usable =
        state !== undefined &&
        state.mismatch === undefined &&
        !racy(state.validators.lastModified, state.readAt);
      const readAt = this.now();
      const validators = await client.revalidateChart(entry, usable ? state.validators : undefined);
      this.archives.delete(key);
      this.archives.set(key, { validators, readAt });
      if (this.archives.size > MAX_ARCHIVES) {
        const oldest = this.archives.keys().next().value;
        if (oldest !== undefined) this.archives.delete(oldest);
      }
    } catch (error) {
      if (isHelmRepositoryError(error, 'ChartDigestMismatch'))
        this.archives.set(key, { validators: {}, readAt: this.now(), mismatch: error });
      throw error;
    }
  }

  /**
   * The resolved chart: the index entry its digest was read from, and the repository's client. Fails with
   * the archive's mismatch when the last look found other bytes than the digest names: a reconcile reading
   * the poller's last resolution must not judge the index's digest while the repository serves others.
   */
  resolved(access: HelmChartAccess, resolution: Pick<Resolution, 'digest' | 'entry'>): ResolvedHelmChart {
    const { entry, digest } = resolution;
    if (entry === undefined || `sha256:${entry.digest}` !== digest)
      throw new HelmRepositoryError('ChartDigestMissing', `${access.url}: no index entry for ${digest}`, {
        host: access.host,
      });
    const { client } = this.repository(access);
    const mismatch = this.archives.get(this.archiveKey(access, client, entry))?.mismatch;
    if (mismatch !== undefined) throw mismatch;
    let archive: Promise<ChartArchive> | undefined;
    return {
      kind: 'helm-http',
      repository: client,
      entry,
      archive: () => (archive ??= client.fetchChart(entry)),
      reference: { registry: access.host, repository: new URL(access.url).pathname.slice(1), digest },
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.repositories.values()].map((r) => r.client.close()));
    this.repositories.clear();
  }
}
