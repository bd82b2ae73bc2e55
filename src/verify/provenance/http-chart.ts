// A chart of an HTTP(S) Helm repository → the chart and provenance to judge: the archive is the bytes
// fetched (their SHA-256, already equal to the index digest), the chart is the index entry's name and
// version, and the `.prov` is the file beside the archive as helm requests it. Pure.
import type { ChartProvenance } from '../types.ts';

export interface HttpChartFiles {
  /** The index entry's chart name and version: the `.prov` must be for exactly these. */
  readonly name: string;
  readonly version: string;
  /** sha256 hex of the archive bytes tagguard fetched. */
  readonly archiveSha256: string;
  /** The `.prov` bytes, or undefined when the repository has none (404). */
  readonly provenance: Uint8Array | undefined;
}

export const httpChartProvenance = (files: HttpChartFiles): ChartProvenance => ({
  kind: 'chart',
  archiveDigest: `sha256:${files.archiveSha256}`,
  expected: { name: files.name, version: files.version },
  ...(files.provenance !== undefined ? { provenance: files.provenance } : {}),
});
