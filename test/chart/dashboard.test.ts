// The Grafana dashboard (config/grafana/tagguard.json) queries only series the operator really exports: the
// metric names and labels of every PromQL expression are checked against a scrape of the real prom-client
// registry of createMetrics() (test/support/exported-metrics.ts; no hand-written list of names).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../env/paths.ts';
import { TARGET_LABELS, exportedSeries, metricNames, usedLabels } from '../support/exported-metrics.ts';

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

describe('config/grafana/tagguard.json', () => {
  let exported: Map<string, Set<string>>;
  beforeAll(async () => {
    exported = await exportedSeries();
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
