// Scans a Helm chart: safe unpacking, rendering with helm (or the static fallback), parsing, rules,
// exceptions and the failOn threshold.
import type { ScanSpec } from '../api/artifact-verification.ts';
import { loadChartArchive, type ChartFiles } from './archive/chart-archive.ts';
import { renderChart } from './helm/render-chart.ts';
import { staticTemplates } from './helm/static-templates.ts';
import { DEFAULT_RENDER_TIMEOUT_MS, defaultScanLimits, type ScanLimits } from './limits.ts';
import { newManifestBudget, parseManifests, parseManifestsLeniently, type KubeObject } from './manifests.ts';
import { applyExceptions, failsAt } from './rules/apply-policy.ts';
import { evaluateRules } from './rules/evaluate-rules.ts';
import type { ScanOptions, ScanResult } from './types.ts';

/** The chart name made into a valid release name ("My_Chart" → "my-chart"). */
const defaultReleaseName = (chartName: string): string =>
  chartName
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, 53)
    .replace(/^-+|-+$/g, '') || 'release';

export const scanLimits = (options: ScanOptions): ScanLimits => ({ ...defaultScanLimits, ...options.limits });

const objectsOf = async (
  chart: ChartFiles,
  spec: ScanSpec,
  options: ScanOptions,
  limits: ScanLimits,
): Promise<{ objects: KubeObject[]; rendered: boolean }> => {
  if (options.helmBinary === undefined) {
    // One budget for every template of the chart and its subcharts: the caps are per chart, not per file.
    const budget = newManifestBudget();
    const objects: KubeObject[] = [];
    for (const { path, text } of staticTemplates(chart))
      objects.push(...parseManifestsLeniently(text, limits, budget, path));
    return { objects, rendered: false };
  }
  const { manifests } = await renderChart(chart, {
    helmBinary: options.helmBinary,
    releaseName: options.releaseName ?? defaultReleaseName(chart.name),
    namespace: options.namespace ?? 'default',
    kubeVersion: options.kubeVersion,
    values: [spec.helm?.values ?? {}, options.values ?? {}],
    timeoutMs: options.timeoutMs ?? DEFAULT_RENDER_TIMEOUT_MS,
    limits,
    onRender: options.onRender,
    liveRenders: options.liveRenders,
  });
  return { objects: parseManifests(manifests, limits), rendered: true };
};

/** Scans an already loaded chart tree (a checked archive or directory). */
export const scanChartFiles = async (
  chart: ChartFiles,
  spec: ScanSpec,
  options: ScanOptions,
): Promise<ScanResult> => {
  const info = { artifactKind: 'helm-chart' as const, chart: { name: chart.name, version: chart.version } };
  if (spec.helm?.enabled === false) {
    return { rendered: false, findings: [], suppressed: 0, failed: false, reasons: [], ...info };
  }
  const { objects, rendered } = await objectsOf(chart, spec, options, scanLimits(options));
  const { kept, suppressed } = applyExceptions(evaluateRules(objects), spec.helm?.exceptions);
  const failed = failsAt(kept, spec.failOn);
  return {
    rendered,
    findings: kept,
    suppressed,
    failed,
    reasons: failed ? ['FindingsAtFailOn'] : [],
    ...info,
  };
};

/** Scans a packaged chart (.tgz bytes). Throws ScanError when the archive is refused or rendering fails. */
export const scanChart = async (archive: Buffer, spec: ScanSpec, options: ScanOptions): Promise<ScanResult> =>
  scanChartFiles(await loadChartArchive(archive, scanLimits(options)), spec, options);
