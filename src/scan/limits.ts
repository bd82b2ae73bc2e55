// The hard caps every scan runs under. Chosen so that a real chart (hundreds of templates, vendored
// subcharts) passes with room to spare and a hostile one stops early, well inside 300 MB of memory.

export interface ScanLimits {
  /** Largest compressed archive (bytes). */
  readonly maxCompressedBytes: number;
  /** Largest sum of uncompressed tar bytes, nested subchart archives included. */
  readonly maxTotalBytes: number;
  /** Largest single file inside the chart. */
  readonly maxFileBytes: number;
  /** Most tar entries, nested subchart archives included. */
  readonly maxEntries: number;
  /** Most path segments of one entry. */
  readonly maxPathDepth: number;
  /** Longest entry path (bytes). */
  readonly maxPathLength: number;
  /** Largest uncompressed/compressed ratio, enforced once more than `ratioGraceBytes` came out. */
  readonly maxCompressionRatio: number;
  readonly ratioGraceBytes: number;
  /** How deep packaged subcharts (charts/*.tgz) may nest. */
  readonly maxChartNesting: number;
  /** Largest helm template output (bytes). */
  readonly maxRenderedBytes: number;
  /** helm's resident memory cap (bytes); the process group is killed above it. */
  readonly maxRenderMemoryBytes: number;
  /** Most YAML aliases per document (anchor bombs). */
  readonly maxYamlAliases: number;
  /** Largest single YAML document of the render or of a template (bytes). */
  readonly maxYamlDocumentBytes: number;
  /** Most YAML nodes per document, aliases expanded. */
  readonly maxYamlNodes: number;
  /** Most YAML nodes of a whole render or of all static templates of a chart, aliases expanded. */
  readonly maxTotalYamlNodes: number;
  /** Deepest YAML nesting. */
  readonly maxYamlDepth: number;
  /** Most Kubernetes objects of a render, or of all static templates of a chart and its subcharts. */
  readonly maxObjects: number;
}

export const defaultScanLimits: ScanLimits = {
  maxCompressedBytes: 10 * 1024 * 1024,
  maxTotalBytes: 64 * 1024 * 1024,
  maxFileBytes: 5 * 1024 * 1024,
  maxEntries: 10_000,
  maxPathDepth: 24,
  maxPathLength: 1024,
  maxCompressionRatio: 100,
  ratioGraceBytes: 1024 * 1024,
  maxChartNesting: 5,
  maxRenderedBytes: 32 * 1024 * 1024,
  // helm and tagguard together stay under 300 MB: helm's share is what is left beside a ~100 MB tagguard.
  maxRenderMemoryBytes: 160 * 1024 * 1024,
  maxYamlAliases: 25,
  maxYamlDocumentBytes: 4 * 1024 * 1024,
  maxYamlNodes: 250_000,
  maxTotalYamlNodes: 1_000_000,
  maxYamlDepth: 64,
  maxObjects: 20_000,
};

export const DEFAULT_RENDER_TIMEOUT_MS = 30_000;
