// Where `helm push` keeps a chart in an OCI registry (a config of Chart.yaml as JSON, the archive layer and,
// when the archive was signed, its `.prov` as a layer) and the facts tagguard reads of one chart manifest
// for provenance verification. Types and constants only: verify/ reads these shapes without registry I/O.

/** helm.sh/helm/v3 pkg/registry ConfigMediaType: the chart's metadata (Chart.yaml) as JSON. */
export const HELM_CONFIG_MEDIA_TYPE = 'application/vnd.cncf.helm.config.v1+json';
/** ChartLayerMediaType and LegacyChartLayerMediaType: helm reads either as the chart archive. */
export const HELM_CHART_LAYER_MEDIA_TYPES: ReadonlySet<string> = new Set([
  'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
  'application/tar+gzip',
]);
/** ProvLayerMediaType: the `<chart>-<version>.tgz.prov` that lay beside the archive at `helm push`. */
export const HELM_PROVENANCE_LAYER_MEDIA_TYPE = 'application/vnd.cncf.helm.chart.provenance.v1.prov';

/**
 * A provenance layer larger than this is not read (and judged ProvenanceTooLarge): the same as
 * MAX_PROVENANCE_BYTES of src/verify/provenance/parse-provenance.ts (a unit test holds the two equal).
 */
export const MAX_STORED_PROVENANCE_BYTES = 64 * 1024;
/** A chart config is Chart.yaml as JSON, a few KiB; helm's own pull reads it whole, tagguard at most this. */
export const MAX_CHART_CONFIG_BYTES = 256 * 1024;

/** One layer as the manifest lists it. */
export interface StoredLayer {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
}

/** What one manifest holds of a Helm chart: read, not judged (src/verify/provenance/oci-chart.ts judges). */
export interface StoredChart {
  /** The manifest's own kind: an index is no chart helm pulls. */
  readonly kind: 'manifest' | 'index';
  readonly configMediaType?: string;
  /** The config blob (re-hashed), when it is a Helm config of at most MAX_CHART_CONFIG_BYTES. */
  readonly config?: Buffer;
  /** Set (to the declared size) when the config was not read: larger than MAX_CHART_CONFIG_BYTES. */
  readonly configTooLarge?: number;
  /** Every layer of a chart media type (helm would take one of them). */
  readonly chartLayers: readonly StoredLayer[];
  /** How many layers of the provenance media type the manifest lists. */
  readonly provenanceLayers: number;
  /** The one provenance layer's bytes (re-hashed), when there is exactly one and it is small enough. */
  readonly provenance?: Buffer;
  /** Set (to the declared size) when the one provenance layer was not read: larger than the cap. */
  readonly provenanceTooLarge?: number;
}
