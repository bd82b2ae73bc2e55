// An artifact resolved to one digest, with the client that reaches it. The reconciler builds it once per
// artifact and reconcile and hands it down to the checks: none looks the client up again, and the digest
// travels inside the reference only. Two kinds: an OCI artifact (registry client + digest reference) and
// a chart of an HTTP(S) Helm repository (repository client + the index entry whose digest was resolved).
import type { RegistryClient } from './client.ts';
import type { ChartArchive, HelmRepositoryClient } from './helm-repository/helm-repository-client.ts';
import type { ChartVersionEntry } from './helm-repository/index-reader.ts';
import type { DigestReference } from './reference.ts';

export interface ResolvedOciArtifact {
  readonly kind?: 'oci';
  readonly client: RegistryClient;
  readonly reference: DigestReference;
}

export interface ResolvedHelmChart {
  readonly kind: 'helm-http';
  readonly repository: HelmRepositoryClient;
  /** The index entry resolved: its digest is `reference.digest` without the `sha256:` prefix. */
  readonly entry: ChartVersionEntry;
  /**
   * The archive (re-hashed against the index digest), fetched at most once per resolved chart: the
   * verification and the scan of one check share it, and neither fetches it when both are cached.
   */
  readonly archive: () => Promise<ChartArchive>;
  /**
   * For keys and messages: registry = the repository's host, repository = its path and the chart name,
   * digest = `sha256:` + the index's digest of the archive.
   */
  readonly reference: DigestReference;
}

export type ResolvedArtifact = ResolvedOciArtifact | ResolvedHelmChart;
