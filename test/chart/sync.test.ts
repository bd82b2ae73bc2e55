// charts/tagguard restates nothing it shares with the kustomize bases: its CRD, RBAC rules, alerts and
// dashboard are copies that scripts/sync-chart.sh (make chart) makes, and its README's values table is
// generated from values.yaml. These tests fail while a copy or the table is stale.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { load } from 'js-yaml';
import { documentedValues, renderTable, withTable } from '../../scripts/chart-values-table.ts';
import { projectRoot } from '../env/paths.ts';

const chart = join(projectRoot, 'charts', 'tagguard');
const read = (...parts: string[]): string => readFileSync(join(projectRoot, ...parts), 'utf8');

/** The copies scripts/sync-chart.sh makes, read from the script itself: `cp SOURCE DEST`. */
const copies = (): { source: string; dest: string }[] =>
  [...read('scripts', 'sync-chart.sh').matchAll(/^cp (\S+) "\$chart\/([^"]+)"$/gm)].map((m) => {
    const source = m[1] ?? '';
    const dest = m[2] ?? '';
    return { source, dest: dest.endsWith('/') ? `${dest}${source.split('/').at(-1)}` : dest };
  });

describe('charts/tagguard is in sync with crds/ and config/ (make chart)', () => {
  it('copies the CRD, both RBAC roles, the alerts and the dashboard', () => {
    expect(copies().map((c) => c.source)).toEqual([
      'crds/tagguard.dev_artifactverifications.yaml',
      'config/rbac/cluster-role.yaml',
      'config/rbac/leader-election-role.yaml',
      'config/prometheus/prometheus-rule.yaml',
      'config/grafana/tagguard.json',
    ]);
  });

  it.each(copies())('$dest is byte-identical to $source', ({ source, dest }) => {
    expect(read('charts', 'tagguard', dest), `${dest} is stale: run make chart`).toBe(read(source));
  });

  it('ships crds/ with exactly the CRD of the repository', () => {
    expect(readFileSync(join(chart, 'crds', 'tagguard.dev_artifactverifications.yaml'), 'utf8')).toBe(
      read('crds', 'tagguard.dev_artifactverifications.yaml'),
    );
  });

  it("has the operator's version as appVersion", () => {
    const chartYaml = load(read('charts', 'tagguard', 'Chart.yaml')) as {
      appVersion: string;
      version: string;
    };
    const packageJson = JSON.parse(read('package.json')) as { version: string };
    expect(chartYaml.appVersion).toBe(packageJson.version);
  });
});

describe('the values table of charts/tagguard/README.md', () => {
  const values = read('charts', 'tagguard', 'values.yaml');

  it('is the one generated from values.yaml', () => {
    const readme = read('charts', 'tagguard', 'README.md');
    expect(withTable(readme, values), 'charts/tagguard/README.md is stale: run make chart').toBe(readme);
    expect(readme).toContain(renderTable(documentedValues(values)));
  });

  it('documents every value: each leaf is documented itself or below a documented key', () => {
    const documented = documentedValues(values).map((row) => row.key);
    const leaves = (node: unknown, path: string[]): string[] =>
      node !== null && typeof node === 'object' && !Array.isArray(node) && Object.keys(node).length > 0
        ? Object.entries(node).flatMap(([key, child]) => leaves(child, [...path, key]))
        : [path.join('.')];
    for (const leaf of leaves(load(values), []))
      expect(
        documented.some((key) => leaf === key || leaf.startsWith(`${key}.`)),
        `${leaf} has no "# --" comment`,
      ).toBe(true);
  });

  it('reads types and defaults from the YAML, and refuses a comment that documents nothing', () => {
    const rows = documentedValues('a:\n  # -- the b\n  b: 3\n# -- list\nc: [x]\n# -- map\nd: {}\n');
    expect(rows).toEqual([
      { key: 'a.b', type: 'int', value: 3, description: 'the b' },
      { key: 'c', type: 'list', value: ['x'], description: 'list' },
      { key: 'd', type: 'object', value: {}, description: 'map' },
    ]);
    expect(() => documentedValues('a: 1\n# -- dangling\n')).toThrow(/documents no key/);
    expect(renderTable(rows)).toContain('| `a.b` | int | `3` | the b |');
  });
});
