// Scans an OCI artifact by digest: decides what it is from its manifest (Helm chart config media type,
// WASM layers, or generic), reads the layers it needs through the registry client (by digest, re-hashed),
// and runs the chart scan, the WASM checks and the SBOM lookup the policy asks for. An artifact that is
// neither is untrusted (UnknownArtifactType) unless the policy sets scan.allowUnknownArtifacts: a scan that
// looked at nothing must not read as a clean one.
import type { ScanSpec } from '../api/artifact-verification.ts';
import type { RegistryClient } from '../registry/client.ts';
import type { Descriptor } from '../registry/manifest.ts';
import type { DigestReference, OciReference } from '../registry/reference.ts';
import { ScanError } from './errors.ts';
import { checkSbom, type SbomResult } from './sbom/check-sbom.ts';
import { scanChart, scanLimits } from './scan-chart.ts';
import { checkWasmModule, WASM_LAYER_MEDIA_TYPES, type WasmModuleResult } from './wasm/check-wasm.ts';
import type { ArtifactKind, ScanFailureReason, ScanOptions, ScanResult } from './types.ts';

export const HELM_CHART_CONFIG = 'application/vnd.cncf.helm.config.v1+json';
/**
 * Artifact types whose content tagguard does not scan but knows (Flux's `flux push artifact`): their trust
 * rests on signatures, and they are not refused as unknown.
 */
export const KNOWN_UNSCANNED_CONFIGS: ReadonlySet<string> = new Set([
  'application/vnd.cncf.flux.config.v1+json',
]);
export const HELM_CHART_LAYERS: ReadonlySet<string> = new Set([
  'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
  'application/tar+gzip',
]);

const emptyResult = (artifactKind: ArtifactKind): ScanResult => ({
  rendered: false,
  findings: [],
  suppressed: 0,
  failed: false,
  reasons: [],
  artifactKind,
});

const scanChartLayer = async (
  client: RegistryClient,
  reference: OciReference,
  layers: readonly Descriptor[],
  spec: ScanSpec,
  options: ScanOptions,
): Promise<ScanResult> => {
  const chartLayers = layers.filter((l) => HELM_CHART_LAYERS.has(l.mediaType));
  const layer = chartLayers[0];
  if (layer === undefined)
    throw new ScanError('InvalidArchive', 'Helm chart manifest has no chart content layer');
  // helm's Pull keeps whichever chart layer its concurrent copy hands over last (observed both ways):
  // the layer scanned here need not be the one installed. One chart layer, or no verdict of trust.
  if (chartLayers.length > 1)
    throw new ScanError(
      'AmbiguousArchive',
      `Helm chart manifest has ${chartLayers.length} chart content layers; helm could install any of them`,
    );
  const { maxCompressedBytes } = scanLimits(options);
  if (layer.size > maxCompressedBytes) {
    throw new ScanError(
      'ArchiveTooLarge',
      `chart layer of ${layer.size} bytes is larger than the limit of ${maxCompressedBytes}`,
    );
  }
  return scanChart(await client.getBlob(reference, layer), spec, options);
};

/** WASM layers read from one artifact. */
export const MAX_WASM_LAYERS = 64;

const scanWasmLayers = async (
  client: RegistryClient,
  reference: OciReference,
  layers: readonly Descriptor[],
  spec: ScanSpec,
): Promise<WasmModuleResult[]> => {
  // A manifest of 4 MiB can list thousands of layers: a bounded number, fetched under one deadline.
  if (layers.length > MAX_WASM_LAYERS)
    throw new ScanError('TooManyEntries', `more than ${MAX_WASM_LAYERS} WASM layers in the artifact`);
  return client.operation(
    reference.registry,
    `WASM layers of ${reference.registry}/${reference.repository}`,
    async () => {
      const modules: WasmModuleResult[] = [];
      for (const layer of layers) {
        const bytes = await client.getBlob(reference, layer);
        modules.push(await checkWasmModule(layer.digest, bytes, spec.wasm?.allowedImports));
      }
      return modules;
    },
  );
};

export const scanArtifact = async (
  client: RegistryClient,
  reference: DigestReference,
  spec: ScanSpec,
  options: ScanOptions,
): Promise<ScanResult> => {
  const { digest } = reference;
  const { manifest } = await client.getManifest(reference, digest);
  const layers = manifest.kind === 'manifest' ? manifest.layers : [];
  const wasmLayers = layers.filter((l) => WASM_LAYER_MEDIA_TYPES.has(l.mediaType));
  const isChart = manifest.kind === 'manifest' && manifest.config.mediaType === HELM_CHART_CONFIG;
  const kind: ArtifactKind = isChart ? 'helm-chart' : wasmLayers.length > 0 ? 'wasm' : 'generic';

  const renderChart = isChart && spec.helm?.enabled !== false;
  const base = renderChart
    ? await scanChartLayer(client, reference, layers, spec, options)
    : emptyResult(kind);
  const modules =
    wasmLayers.length > 0 ? await scanWasmLayers(client, reference, wasmLayers, spec) : undefined;
  const sbom: SbomResult | undefined =
    spec.sbom !== undefined ? await checkSbom(client, reference, digest) : undefined;

  const reasons: ScanFailureReason[] = [...base.reasons];
  if (sbom && !sbom.found && spec.sbom?.required === true) reasons.push('SbomMissing');
  if (modules?.some((m) => !m.valid)) reasons.push('WasmInvalid');
  if (modules?.some((m) => m.disallowed.length > 0)) reasons.push('WasmImportNotAllowed');
  const known = manifest.kind === 'manifest' && KNOWN_UNSCANNED_CONFIGS.has(manifest.config.mediaType);
  if (kind === 'generic' && !known && spec.allowUnknownArtifacts !== true)
    reasons.push('UnknownArtifactType');
  return {
    ...base,
    artifactKind: kind,
    failed: reasons.length > 0,
    reasons,
    ...(sbom ? { sbom } : {}),
    ...(modules ? { wasm: { modules } } : {}),
  };
};

/**
 * Scans a chart archive fetched from an HTTP(S) Helm repository (already re-hashed against the index
 * digest by the caller): the chart scan, and the SBOM the policy may require, which such a repository
 * cannot carry (no referrers): `SbomMissing` when required.
 */
export const scanChartArchive = async (
  archive: Buffer,
  spec: ScanSpec,
  options: ScanOptions,
): Promise<ScanResult> => {
  const { maxCompressedBytes } = scanLimits(options);
  if (archive.length > maxCompressedBytes)
    throw new ScanError(
      'ArchiveTooLarge',
      `chart archive of ${archive.length} bytes is larger than the limit of ${maxCompressedBytes}`,
    );
  const base =
    spec.helm?.enabled !== false ? await scanChart(archive, spec, options) : emptyResult('helm-chart');
  const sbom: SbomResult | undefined =
    spec.sbom !== undefined
      ? { found: false, reason: 'an HTTP Helm repository serves no SBOM for a chart' }
      : undefined;
  const reasons: ScanFailureReason[] = [...base.reasons];
  if (spec.sbom?.required === true) reasons.push('SbomMissing');
  return {
    ...base,
    artifactKind: 'helm-chart',
    failed: reasons.length > 0,
    reasons,
    ...(sbom ? { sbom } : {}),
  };
};
