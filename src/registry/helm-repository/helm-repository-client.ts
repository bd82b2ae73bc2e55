// A client for one HTTP(S) Helm repository (Flux HelmRepository spec.url, Argo CD repoURL): polls
// index.yaml cheaply (If-None-Match / If-Modified-Since, the parse reused while the bytes are the same),
// downloads a chart version's archive and checks it against the index digest, and fetches its .prov.
// Knows HTTP and helm's repository layout, nothing of Kubernetes.
import {
  readIndex,
  defaultIndexLimits,
  type ChartVersionEntry,
  type HelmIndex,
  type IndexLimits,
} from './index-reader.ts';
import { HelmRepositoryError } from './errors.ts';
import { indexUrl, parseRepositoryUrl, provenanceUrl, resolveReferenceUrl } from './repository-url.ts';
import { RepositoryHttp, type GetResponse, type RepositoryCredentials } from './repository-http.ts';

export interface HelmRepositoryOptions {
  /** Basic auth and TLS client certificate (Flux secretRef / certSecretRef, Argo CD repository Secret). */
  readonly credentials?: RepositoryCredentials;
  /** PEM of the CA that signs the repository's certificate. */
  readonly caPem?: string;
  /** Send the credentials to other hosts too (default false: only the repository's scheme, host and port). */
  readonly passCredentials?: boolean;
  /** Largest index.yaml (bytes). Default 64 MiB. */
  readonly maxIndexBytes?: number;
  /** Largest chart archive (bytes). Default 10 MiB, the scan's maxCompressedBytes. */
  readonly maxChartBytes?: number;
  /** Largest .prov (bytes). Default 64 KiB (docs/provenance.md). */
  readonly maxProvenanceBytes?: number;
  readonly indexLimits?: IndexLimits;
  /** Idle timeouts (connect, headers, a pause in a body). Default 30 s. */
  readonly timeoutMs?: number;
  /** Deadline of one GET, its redirects and whole body included. Default 120 s. */
  readonly requestTimeoutMs?: number;
  /** Default 10, as Go's http.Client that helm and Flux use. */
  readonly maxRedirects?: number;
  readonly userAgent?: string;
}

/** What one successful index read leaves for the next poll. */
export interface IndexSnapshot {
  readonly etag: string | undefined;
  readonly lastModified: string | undefined;
  /** sha256 hex of index.yaml as served. */
  readonly sha256: string;
  readonly size: number;
  readonly index: HelmIndex;
  /** The charts this snapshot's index kept (undefined: all). */
  readonly charts: ReadonlySet<string> | undefined;
}

export type IndexPoll =
  /** 304, or the same bytes as last time: nothing was parsed. */
  | { readonly changed: false; readonly snapshot: IndexSnapshot; readonly bytesTransferred: number }
  | { readonly changed: true; readonly snapshot: IndexSnapshot; readonly bytesTransferred: number };

export interface ChartArchive {
  readonly url: URL;
  readonly bytes: Buffer;
  /** sha256 hex of the bytes, equal to the index's digest. */
  readonly digest: string;
}

/** An archive's HTTP validators, for a conditional look at it later (revalidateChart). */
export interface ChartValidators {
  readonly etag?: string | undefined;
  readonly lastModified?: string | undefined;
}

export type ProvenanceFetch =
  | { readonly found: true; readonly url: URL; readonly bytes: Buffer }
  /** 404: the repository has no .prov for the chart (the caller's SignatureMissing). */
  | { readonly found: false; readonly url: URL };

export const DEFAULT_MAX_INDEX_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_CHART_BYTES = 10 * 1024 * 1024;
export const DEFAULT_MAX_PROVENANCE_BYTES = 64 * 1024;

const sameSet = (a: ReadonlySet<string> | undefined, b: ReadonlySet<string> | undefined): boolean =>
  a === undefined ? b === undefined : b !== undefined && a.size === b.size && [...a].every((x) => b.has(x));

/** name-version of an entry for messages, bounded (both come from the index). */
const label = (entry: ChartVersionEntry): string =>
  `${entry.name.slice(0, 100)}-${entry.version.slice(0, 100)}`;

/** Where an entry's first URL leads (helm and Flux download urls[0] only). */
const firstUrl = (entry: ChartVersionEntry, host: string): string =>
  entry.urls[0] ??
  (() => {
    throw new HelmRepositoryError('InvalidChartUrl', `${host}: chart ${label(entry)} has no URL`, { host });
  })();

export class HelmRepositoryClient {
  readonly url: URL;
  private readonly host: string;
  private readonly http: RepositoryHttp;
  private readonly options: HelmRepositoryOptions;

  constructor(repoUrl: string, options: HelmRepositoryOptions = {}) {
    this.url = parseRepositoryUrl(repoUrl);
    this.host = this.url.host;
    this.options = options;
    this.http = new RepositoryHttp({
      origin: this.url.origin,
      credentials: options.credentials ?? {},
      caPem: options.caPem,
      passCredentials: options.passCredentials ?? false,
      timeoutMs: options.timeoutMs ?? 30_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 120_000,
      maxRedirects: options.maxRedirects ?? 10,
      userAgent: options.userAgent ?? 'tagguard',
    });
  }

  close(): Promise<void> {
    return this.http.close();
  }

  /**
   * GET index.yaml, conditional on the previous snapshot. Unchanged (304, or bytes with the previous
   * SHA-256) returns the previous parse; otherwise the index is parsed, keeping only `charts` if given.
   */
  async fetchIndex(previous?: IndexSnapshot, charts?: ReadonlySet<string>): Promise<IndexPoll> {
    const reusable = previous !== undefined && sameSet(previous.charts, charts);
    const headers: Record<string, string> = {};
    if (reusable && previous.etag !== undefined) headers['if-none-match'] = previous.etag;
    if (reusable && previous.lastModified !== undefined) headers['if-modified-since'] = previous.lastModified;
    const res = await this.http.get({
      url: indexUrl(this.url),
      maxBytes: this.options.maxIndexBytes ?? DEFAULT_MAX_INDEX_BYTES,
      what: 'index.yaml',
      headers,
      bodiless: reusable ? [304] : [],
    });
    if (res.status === 304 && reusable) return { changed: false, snapshot: previous, bytesTransferred: 0 };
    const meta = { etag: res.header('etag'), lastModified: res.header('last-modified') };
    if (reusable && res.sha256 === previous.sha256)
      return { changed: false, snapshot: { ...previous, ...meta }, bytesTransferred: res.bytes.length };
    const index = readIndex(res.bytes, {
      limits: this.options.indexLimits ?? defaultIndexLimits,
      host: this.host,
      ...(charts !== undefined ? { charts } : {}),
    });
    return {
      changed: true,
      snapshot: { ...meta, sha256: res.sha256, size: res.bytes.length, index, charts },
      bytesTransferred: res.bytes.length,
    };
  }

  /** The URL helm and Flux download for the entry: urls[0] resolved against the repository URL. */
  chartUrl(entry: ChartVersionEntry): URL {
    return resolveReferenceUrl(this.url, firstUrl(entry, this.host));
  }

  /**
   * Downloads the archive and checks its SHA-256 against the index digest: a missing or malformed digest
   * is ChartDigestMissing (nothing to bind the bytes to), another hash ChartDigestMismatch.
   */
  async fetchChart(entry: ChartVersionEntry): Promise<ChartArchive> {
    const { url, res } = await this.getArchive(entry, {});
    return { url, bytes: res.bytes, digest: res.sha256 };
  }

  /**
   * Whether the archive still holds the index's digest, conditional on the validators of the last look (a
   * 304 is trusted as "the same bytes"; a 200 is re-hashed): other bytes are ChartDigestMismatch, as in
   * fetchChart. Returns the validators for the next look. Costs a few hundred bytes while unchanged.
   */
  async revalidateChart(entry: ChartVersionEntry, previous?: ChartValidators): Promise<ChartValidators> {
    const conditional: Record<string, string> = {};
    if (previous?.etag !== undefined) conditional['if-none-match'] = previous.etag;
    if (previous?.lastModified !== undefined) conditional['if-modified-since'] = previous.lastModified;
    const { res } = await this.getArchive(entry, conditional);
    if (res.status === 304) return previous ?? {};
    return { etag: res.header('etag'), lastModified: res.header('last-modified') };
  }

  /**
   * One GET of the entry's archive (a 304 only when `conditional` asks for one), its bytes checked against
   * the index digest as they are.
   */
  private async getArchive(
    entry: ChartVersionEntry,
    conditional: Record<string, string>,
  ): Promise<{ url: URL; res: GetResponse }> {
    if (entry.digest === undefined)
      throw new HelmRepositoryError(
        'ChartDigestMissing',
        `${this.host}: the index has no sha256 digest for chart ${label(entry)}`,
        { host: this.host },
      );
    const url = this.chartUrl(entry);
    const res = await this.http.get({
      url,
      maxBytes: this.options.maxChartBytes ?? DEFAULT_MAX_CHART_BYTES,
      what: `${label(entry)}.tgz`,
      headers: { accept: 'application/gzip,application/octet-stream', ...conditional },
      bodiless: Object.keys(conditional).length > 0 ? [304] : [],
    });
    if (res.status !== 304 && res.sha256 !== entry.digest) throw this.mismatch(entry, res.sha256);
    return { url, res };
  }

  private mismatch(entry: ChartVersionEntry, sha256: string): HelmRepositoryError {
    return new HelmRepositoryError(
      'ChartDigestMismatch',
      `${this.host}: chart ${label(entry)} served bytes with sha256 ${sha256}, the index says ${entry.digest ?? ''}`,
      { host: this.host },
    );
  }

  /** The chart's .prov (helm: the chart URL plus ".prov"); a 404 is `found: false`, not an error. */
  async fetchProvenance(entry: ChartVersionEntry): Promise<ProvenanceFetch> {
    const url = provenanceUrl(this.chartUrl(entry));
    const res = await this.http.get({
      url,
      maxBytes: this.options.maxProvenanceBytes ?? DEFAULT_MAX_PROVENANCE_BYTES,
      what: `${label(entry)}.tgz.prov`,
      bodiless: [404],
    });
    return res.status === 404 ? { found: false, url } : { found: true, url, bytes: res.bytes };
  }
}
