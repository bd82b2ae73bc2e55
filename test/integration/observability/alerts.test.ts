// The shipped alerts, as Prometheus 3.16 (promtool, built by make testbin) reads them: spec.groups of the
// PrometheusRule written to a rule file, `promtool check rules`, then `promtool test rules` on
// config/prometheus/tests/alerts.test.yaml. And the tests can fail: each alert's `for:` one minute longer or shorter,
// or the mutation alert without its arm for a new counter series, is caught.
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../env/paths.ts';
import { ruleFileText, shippedAlerts, shippedRuleGroups, type RuleGroup } from '../../env/prometheus.ts';
import { runTool, ToolError } from '../../env/run-tool.ts';

const TESTS = join(projectRoot, 'config', 'prometheus', 'tests', 'alerts.test.yaml');

/** Runs promtool test rules against `groups`; resolves with its exit code and output. */
const promtoolTest = async (dir: string, groups: readonly RuleGroup[]) => {
  await writeFile(join(dir, 'tagguard.rules.yaml'), ruleFileText(groups));
  await copyFile(TESTS, join(dir, 'alerts.test.yaml'));
  try {
    const { stdout, stderr } = await runTool('promtool', ['test', 'rules', 'alerts.test.yaml'], { cwd: dir });
    return { code: 0, output: `${stdout}${stderr}` };
  } catch (error) {
    if (!(error instanceof ToolError)) throw error;
    return { code: error.exitCode, output: `${error.stdout}${error.stderr}` };
  }
};

/** The shipped groups with one rule changed. */
const changed = (alert: string, change: (rule: RuleGroup['rules'][number]) => RuleGroup['rules'][number]) =>
  shippedRuleGroups().map((group) => ({
    ...group,
    rules: group.rules.map((rule) => (rule.alert === alert ? change(rule) : rule)),
  }));

const shifted = (duration: string, minutes: number): string => {
  const match = /^(\d+)m$/.exec(duration);
  if (!match) throw new Error(`for: ${duration} is not in minutes`);
  return `${Number(match[1]) + minutes}m`;
};

describe('the alerts of config/prometheus/prometheus-rule.yaml under promtool', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tagguard-alerts-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('promtool check rules accepts the rule file made from spec.groups', async () => {
    const file = join(dir, 'check.rules.yaml');
    await writeFile(file, ruleFileText(shippedRuleGroups()));
    const { stdout } = await runTool('promtool', ['check', 'rules', file]);
    const alerts = shippedAlerts().length;
    expect(stdout).toContain(`SUCCESS: ${alerts} rules found`);
  });

  it('promtool test rules passes every case of config/prometheus/tests/alerts.test.yaml', async () => {
    const run = await promtoolTest(dir, shippedRuleGroups());
    expect(run.output).toContain('SUCCESS');
    expect(run.code, run.output).toBe(0);
  });

  it.each(
    shippedAlerts()
      .filter((rule) => rule.for !== undefined)
      .flatMap((rule) => [1, -1].map((minutes) => ({ alert: rule.alert, for: rule.for ?? '', minutes }))),
  )('$alert: for: $for moved by $minutes minute fails the tests', async ({ alert, minutes }) => {
    const run = await promtoolTest(
      dir,
      changed(alert, (rule) => ({ ...rule, for: shifted(rule.for ?? '', minutes) })),
    );
    expect(run.code, run.output).toBe(1);
    expect(run.output).toContain(`alertname: ${alert}`);
  });

  it('TagguardTagMutated as increase() alone (blind to a counter born at 1) fails the tests', async () => {
    const run = await promtoolTest(
      dir,
      changed('TagguardTagMutated', (rule) => ({ ...rule, expr: rule.expr.split(/\s+or\s+/)[0] ?? '' })),
    );
    expect(run.code, run.output).toBe(1);
    expect(run.output).toMatch(/its counter series is born at 1[^]*alertname: TagguardTagMutated/);
  });
});
