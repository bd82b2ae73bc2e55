// The Grafana dashboard (config/grafana/tagguard.json) queries only series the operator really exports: the
// metric names and labels of every PromQL expression are checked against a scrape of the real prom-client
// registry of createMetrics(), with every metric touched once (no hand-written list of names).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Counter, Gauge, Histogram } from 'prom-client';
import { createMetrics } from '../../src/observability/metrics.ts';
import { projectRoot } from '../env/paths.ts';

interface Target {
  readonly expr?: string;
}
interface Panel {
  readonly title?: string;
  readonly type: string;
  readonly targets?: readonly Target[];
  readonly panels?: readonly Panel[];
}
interface Dashboard {
  readonly uid: string;
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly { readonly name: string; readonly query?: unknown }[] };
}

const dashboard = JSON.parse(
  readFileSync(join(projectRoot, 'config', 'grafana', 'tagguard.json'), 'utf8'),
) as Dashboard;

const allPanels = (panels: readonly Panel[]): Panel[] =>
  panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);

const expressions = (): { title: string; expr: string }[] => [
  ...allPanels(dashboard.panels).flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ title: panel.title ?? '', expr: target.expr ?? '' })),
  ),
  ...dashboard.templating.list.flatMap((variable) => {
    const query = variable.query;
    const text =
      typeof query === 'object' && query !== null && 'query' in query && typeof query.query === 'string'
        ? query.query
        : undefined;
    return text?.includes('tagguard_') ? [{ title: `$${variable.name}`, expr: text }] : [];
  }),
];

/** Exported series names and the labels each carries, from a scrape of the real registry. */
const scrape = async (): Promise<Map<string, Set<string>>> => {
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

// Labels Prometheus adds to every scraped series (the ServiceMonitor's target labels).
const TARGET_LABELS = ['job', 'instance', 'pod', 'service', 'endpoint', 'container'];

const metricNames = (expr: string): string[] =>
  [...expr.matchAll(/\b(tagguard_[a-zA-Z0-9_]+)/g)].map((m) => m[1] ?? '');

/** Label names an expression selects or groups by: matchers in {…} and by/without (…). */
const usedLabels = (expr: string): string[] => {
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

describe('config/grafana/tagguard.json', () => {
  let exported: Map<string, Set<string>>;
  beforeAll(async () => {
    exported = await scrape();
  });

  it('the scrape of createMetrics() is not empty (the check below would pass vacuously otherwise)', () => {
    expect(exported.has('tagguard_artifact_verifications')).toBe(true);
    expect(exported.has('tagguard_verification_duration_seconds_bucket')).toBe(true);
    expect(exported.get('tagguard_digest_resolutions_total')).toEqual(new Set(['registry', 'result']));
  });

  it('every query names only metrics the operator exports', () => {
    const queries = expressions();
    expect(queries.length).toBeGreaterThan(15);
    for (const { title, expr } of queries) {
      const names = metricNames(expr);
      expect(names, `${title}: ${expr} names no tagguard metric`).not.toHaveLength(0);
      for (const name of names) expect(exported.has(name), `${title}: ${name} is not exported`).toBe(true);
    }
  });

  it('every label a query selects or groups by is carried by one of its metrics (or is a target label)', () => {
    for (const { title, expr } of expressions()) {
      const allowed = new Set([
        ...TARGET_LABELS,
        ...metricNames(expr).flatMap((name) => [...(exported.get(name) ?? [])]),
      ]);
      for (const label of usedLabels(expr))
        expect(allowed.has(label), `${title}: label ${label} of ${expr}`).toBe(true);
    }
  });

  it('covers what issue 19 asks of it: trust, holds, mutations, latency, registry errors, webhook', () => {
    const all = expressions()
      .map((q) => q.expr)
      .join('\n');
    for (const needed of [
      /tagguard_artifact_verifications\{[^}]*state="trusted"/,
      /tagguard_artifact_verifications\{[^}]*state="untrusted"/,
      /tagguard_artifact_trusted/,
      /tagguard_held_targets/,
      /increase\(tagguard_tag_mutations_total/,
      /histogram_quantile\([^,]+, sum by \(le\) \(rate\(tagguard_verification_duration_seconds_bucket/,
      /histogram_quantile\([^,]+, sum by \(le, result\) \(rate\(tagguard_reconcile_duration_seconds_bucket/,
      /sum by \(registry\) \(rate\(tagguard_digest_resolutions_total\{[^}]*result="error"/,
      /tagguard_webhook_requests_total/,
    ])
      expect(all).toMatch(needed);
  });

  it('has unique panel ids and a stable uid for links', () => {
    const ids = allPanels(dashboard.panels).map((panel) => (panel as { id?: number }).id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(dashboard.uid).toBe('tagguard');
  });
});
