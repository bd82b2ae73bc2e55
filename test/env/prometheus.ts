// The shipped alerts as Prometheus reads them, for promtool and for a real Prometheus (the testbin build):
// spec.groups of config/prometheus/prometheus-rule.yaml (a PrometheusRule) written out as a plain rule
// file, and a Prometheus server scraping one target with those rules, asked for its firing alerts.
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dump, load } from 'js-yaml';
import { projectRoot, toolPath } from './paths.ts';
import { freePort } from './ports.ts';
import { waitFor, type ProcessSupervisor } from './processes.ts';
import { probe } from './https-get.ts';

export const PROMETHEUS_RULE_PATH = join(projectRoot, 'config', 'prometheus', 'prometheus-rule.yaml');

export interface AlertingRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly AlertingRule[];
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** spec.groups of the PrometheusRule, checked to be alerting rules only (the file ships no recording rules). */
export const shippedRuleGroups = (text = readFileSync(PROMETHEUS_RULE_PATH, 'utf8')): RuleGroup[] => {
  const object = load(text);
  if (!isRecord(object) || object.kind !== 'PrometheusRule' || !isRecord(object.spec))
    throw new Error(`${PROMETHEUS_RULE_PATH} is not a PrometheusRule`);
  const groups = object.spec.groups;
  if (!Array.isArray(groups) || groups.length === 0)
    throw new Error(`${PROMETHEUS_RULE_PATH} has no spec.groups`);
  for (const group of groups as unknown[]) {
    if (!isRecord(group) || typeof group.name !== 'string' || !Array.isArray(group.rules))
      throw new Error(`${PROMETHEUS_RULE_PATH}: a group without name or rules`);
    for (const rule of group.rules as unknown[])
      if (!isRecord(rule) || typeof rule.alert !== 'string' || typeof rule.expr !== 'string')
        throw new Error(`${PROMETHEUS_RULE_PATH}: group ${group.name} has a rule that is not an alert`);
  }
  return groups as RuleGroup[];
};

export const shippedAlerts = (groups = shippedRuleGroups()): AlertingRule[] =>
  groups.flatMap((group) => group.rules);

/**
 * The rule file Prometheus and promtool read. `forOverride` replaces every `for:` (the demo cannot wait
 * 15 minutes); nothing else of a rule is changed.
 */
export const ruleFileText = (groups: readonly RuleGroup[], options: { forOverride?: string } = {}): string =>
  dump(
    {
      groups: groups.map((group) => ({
        ...group,
        rules: group.rules.map((rule) =>
          options.forOverride !== undefined && rule.for !== undefined
            ? { ...rule, for: options.forOverride }
            : rule,
        ),
      })),
    },
    { lineWidth: -1 },
  );

export interface FiringAlert {
  readonly name: string;
  readonly state: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: string;
}

export interface PrometheusServer {
  readonly url: string;
  /** Alerts pending or firing now (/api/v1/alerts). */
  alerts(): Promise<FiringAlert[]>;
}

export interface PrometheusOptions {
  /** Where its config, rules and TSDB go (a temporary directory of the caller). */
  readonly dir: string;
  /** host:port serving /metrics. */
  readonly target: string;
  readonly rules: string;
  /** Scrape and rule evaluation interval. */
  readonly interval: string;
}

/** Starts the testbin Prometheus on a free loopback port and waits for /-/ready. */
export const startPrometheus = async (
  supervisor: ProcessSupervisor,
  options: PrometheusOptions,
): Promise<PrometheusServer> => {
  await mkdir(join(options.dir, 'data'), { recursive: true });
  const rulesFile = join(options.dir, 'tagguard.rules.yaml');
  const configFile = join(options.dir, 'prometheus.yaml');
  await writeFile(rulesFile, options.rules);
  // honor_labels as the chart's ServiceMonitor: the namespace label of a series is the CR's.
  await writeFile(
    configFile,
    dump({
      global: { scrape_interval: options.interval, evaluation_interval: options.interval },
      rule_files: [rulesFile],
      scrape_configs: [
        { job_name: 'tagguard', honor_labels: true, static_configs: [{ targets: [options.target] }] },
      ],
    }),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const handle = supervisor.start('prometheus', toolPath('prometheus'), [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(options.dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ]);
  await waitFor(
    'prometheus /-/ready',
    async () => ((await probe(`${url}/-/ready`)).status === 200 ? true : undefined),
    { timeoutMs: 30_000, intervalMs: 200, process: handle },
  );
  const alerts = async (): Promise<FiringAlert[]> => {
    const response = await fetch(`${url}/api/v1/alerts`);
    if (!response.ok) throw new Error(`prometheus /api/v1/alerts answered ${response.status}`);
    const body = (await response.json()) as {
      data?: { alerts?: { labels?: Record<string, string>; state?: string; value?: string }[] };
    };
    return (body.data?.alerts ?? []).map((alert) => ({
      name: alert.labels?.alertname ?? '',
      state: alert.state ?? '',
      labels: alert.labels ?? {},
      value: alert.value ?? '',
    }));
  };
  return { url, alerts };
};
