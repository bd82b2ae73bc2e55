// The promtool tests of the alerts (config/prometheus/tests/alerts.test.yaml) are complete and speak the
// operator's language: every shipped alert has firing and not-firing cases and a case at its boundary, and
// every input series (and every alert expression) uses metric and label names the operator really exports.
// test/integration/observability/alerts.test.ts runs promtool on them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { load } from 'js-yaml';
import { projectRoot } from '../env/paths.ts';
import { shippedAlerts } from '../env/prometheus.ts';
import { TARGET_LABELS, exportedSeries, metricNames, usedLabels } from '../support/exported-metrics.ts';

interface AlertCase {
  readonly eval_time: string;
  readonly alertname: string;
  readonly exp_alerts?: readonly unknown[] | null;
}
interface RuleTest {
  readonly name?: string;
  readonly interval?: string;
  readonly input_series?: readonly { readonly series: string; readonly values: string }[];
  readonly alert_rule_test?: readonly AlertCase[];
}
interface RuleTestFile {
  readonly rule_files: readonly string[];
  readonly evaluation_interval?: string;
  readonly tests: readonly RuleTest[];
}

const testFile = load(
  readFileSync(join(projectRoot, 'config', 'prometheus', 'tests', 'alerts.test.yaml'), 'utf8'),
) as RuleTestFile;

const seconds = (duration: string): number => {
  const match = /^(\d+)(s|m|h)$/.exec(duration);
  if (!match) throw new Error(`duration ${duration} is not <n>s|m|h`);
  return Number(match[1]) * { s: 1, m: 60, h: 3600 }[match[2] as 's' | 'm' | 'h'];
};

/** A series selector of promtool's input: name{label="value",…}. */
const parseSeries = (selector: string): { name: string; labels: string[] } => {
  const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?$/.exec(selector);
  if (!match?.[1]) throw new Error(`not a series selector: ${selector}`);
  return {
    name: match[1],
    labels: [...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)].map((m) => m[1] ?? ''),
  };
};

/** Every evaluation of one alert in one test, in time order, with whether it expects the alert to fire. */
const evaluations = (test: RuleTest, alert: string): { at: number; fires: boolean }[] =>
  (test.alert_rule_test ?? [])
    .filter((c) => c.alertname === alert)
    .map((c) => ({ at: seconds(c.eval_time), fires: (c.exp_alerts ?? []).length > 0 }))
    .sort((a, b) => a.at - b.at);

const testInterval = (test: RuleTest): number =>
  seconds(test.interval ?? testFile.evaluation_interval ?? '1m');

describe('config/prometheus/tests/alerts.test.yaml', () => {
  const alerts = shippedAlerts();
  let exported: Map<string, Set<string>>;
  beforeAll(async () => {
    exported = await exportedSeries();
  });

  it('reads the rule file the integration test writes from the PrometheusRule', () => {
    expect(testFile.rule_files).toEqual(['tagguard.rules.yaml']);
  });

  it('the PrometheusRule ships the alerts issue 19 names (the checks below would pass vacuously otherwise)', () => {
    expect(alerts.map((a) => a.alert)).toEqual(
      expect.arrayContaining(['TagguardTagMutated', 'TagguardTargetsHeld', 'TagguardArtifactUntrusted']),
    );
    expect(testFile.tests.length).toBeGreaterThanOrEqual(alerts.length);
  });

  it.each(shippedAlerts().map((a) => a.alert))(
    '%s has a case where it fires and one where it does not',
    (alert) => {
      const all = testFile.tests.flatMap((test) => evaluations(test, alert));
      expect(
        all.some((e) => e.fires),
        `${alert}: no case expects it to fire`,
      ).toBe(true);
      expect(
        all.some((e) => !e.fires),
        `${alert}: no case expects it not to fire`,
      ).toBe(true);
    },
  );

  it.each(shippedAlerts().map((a) => a.alert))(
    '%s is tested at its boundary: silent at one evaluation, firing at the next (or the reverse)',
    (alert) => {
      const rule = alerts.find((a) => a.alert === alert);
      const boundaries = testFile.tests.flatMap((test) => {
        const evals = evaluations(test, alert);
        const step = testInterval(test);
        return evals.slice(1).flatMap((e, i) => {
          const before = evals[i];
          if (before === undefined || e.at - before.at !== step || e.fires === before.fires) return [];
          return [{ onset: e.fires }];
        });
      });
      // An alert with `for:` must be seen silent one interval before it fires (the `for:` boundary).
      if (rule?.for !== undefined)
        expect(
          boundaries.some((b) => b.onset),
          `${alert}: no onset boundary of for: ${rule.for}`,
        ).toBe(true);
      else expect(boundaries, `${alert}: no boundary case`).not.toHaveLength(0);
    },
  );

  it('names no alert the PrometheusRule lacks', () => {
    const names = new Set(alerts.map((a) => a.alert));
    for (const test of testFile.tests)
      for (const c of test.alert_rule_test ?? [])
        expect(names.has(c.alertname), `${test.name}: ${c.alertname}`).toBe(true);
  });

  it('feeds only series the operator exports: metric names, and labels it or the scrape sets', () => {
    const series = testFile.tests.flatMap((test) => (test.input_series ?? []).map((s) => s.series));
    expect(series.length).toBeGreaterThan(0);
    for (const selector of series) {
      const { name, labels } = parseSeries(selector);
      const own = exported.get(name);
      expect(own, `${selector}: ${name} is not exported`).toBeDefined();
      for (const label of labels)
        expect(own?.has(label) === true || TARGET_LABELS.includes(label), `${selector}: label ${label}`).toBe(
          true,
        );
    }
  });

  it('every alert expression reads only exported metrics and labels', () => {
    for (const { alert, expr } of alerts) {
      const names = metricNames(expr);
      expect(names, `${alert}: ${expr}`).not.toHaveLength(0);
      for (const name of names) expect(exported.has(name), `${alert}: ${name} is not exported`).toBe(true);
      const allowed = new Set([...TARGET_LABELS, ...names.flatMap((n) => [...(exported.get(n) ?? [])])]);
      for (const label of usedLabels(expr)) expect(allowed.has(label), `${alert}: label ${label}`).toBe(true);
    }
  });
});
