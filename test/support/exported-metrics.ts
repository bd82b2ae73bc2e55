// The series the operator really exports, for tests of what queries them (the Grafana dashboard, the
// alerts and their promtool tests): a scrape of the real prom-client registry of createMetrics(), with
// every metric touched once, so no hand-written list of names can drift from src/observability/metrics.ts.
import { Counter, Gauge, Histogram } from 'prom-client';
import { createMetrics } from '../../src/observability/metrics.ts';

/** Exported series names and the labels each carries. */
export const exportedSeries = async (): Promise<Map<string, Set<string>>> => {
  const metrics = createMetrics({ objectMetrics: 'all' });
  for (const metric of metrics.registry.getMetricsAsArray()) {
    const names =
      'labelNames' in metric && Array.isArray(metric.labelNames) ? (metric.labelNames as string[]) : [];
    const labels = Object.fromEntries(names.map((name) => [name, 'x']));
    if (metric instanceof Histogram) metric.observe(labels, 0.3);
    else if (metric instanceof Counter || metric instanceof Gauge) metric.inc(labels, 1);
    else throw new Error(`metric of unknown kind: ${metric.name}`);
  }
  const exported = new Map<string, Set<string>>();
  for (const line of (await metrics.registry.metrics()).split('\n')) {
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? /.exec(line);
    if (!sample?.[1]) continue;
    const labels = exported.get(sample[1]) ?? new Set<string>();
    for (const pair of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) labels.add(pair[1] ?? '');
    exported.set(sample[1], labels);
  }
  return exported;
};

/** Labels Prometheus adds to every scraped series (a ServiceMonitor's target labels). */
export const TARGET_LABELS: readonly string[] = [
  'job',
  'instance',
  'pod',
  'service',
  'endpoint',
  'container',
];

/** The tagguard metric names a PromQL expression reads. */
export const metricNames = (expr: string): string[] =>
  [...expr.matchAll(/\b(tagguard_[a-zA-Z0-9_]+)/g)].map((m) => m[1] ?? '');

/** Label names an expression selects or groups by: matchers in {…} and by/without (…). */
export const usedLabels = (expr: string): string[] => {
  const labels: string[] = [];
  for (const selector of expr.matchAll(/\{([^}]*)\}/g))
    for (const matcher of (selector[1] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g))
      labels.push(matcher[1] ?? '');
  for (const grouping of expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g))
    labels.push(
      ...(grouping[1] ?? '')
        .split(',')
        .map((label) => label.trim())
        .filter(Boolean),
    );
  return labels;
};
