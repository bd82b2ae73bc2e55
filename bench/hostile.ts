// Benchmark: what hostile inputs cost. Every chart of the hostile corpus (test/integration/hostile) is
// scanned by `tagguard scan` with the pinned helm and rendered by `helm template` alone, side by side in
// fresh process groups; reports, per class of input, tagguard's peak resident memory (process and helm
// together) and time beside helm's, and the ratio of the peaks. No absolute asserts.
// Usage: node bench/hostile.ts [runs]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot, toolPath } from '../test/env/paths.ts';
import { archiveCases } from '../test/integration/hostile/archive-cases.ts';
import type { CorpusCase } from '../test/integration/hostile/corpus-case.ts';
import { templateCases, yamlCases } from '../test/integration/hostile/input-cases.ts';
import { runMeasured, type MeasuredRun } from '../test/support/measured-process.ts';

const RUNS = Number(process.argv[2] ?? 1);
const helm = toolPath('helm');
const node = join(projectRoot, 'node_modules', '.bin', 'node');

/** helm template's arguments for the same chart and values as a `tagguard scan` command line. */
const helmArgs = (args: readonly string[]): string[] | undefined => {
  if (args[0] !== 'scan' || !args[1]?.endsWith('.tgz')) return undefined;
  const out = ['template', 'release', args[1]];
  for (let i = 2; i < args.length; i++) {
    if (args[i] === '--values' || args[i] === '--timeout-ms') {
      if (args[i] === '--values') out.push('--values', args[i + 1] ?? '');
      i++;
    }
  }
  return out;
};

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(0).padStart(5);

const cases: readonly CorpusCase[] = [...archiveCases, ...templateCases, ...yamlCases];
const root = await mkdtemp(join(tmpdir(), 'tagguard-bench-hostile-'));
const rows: { klass: string; name: string; tg: MeasuredRun[]; helm: MeasuredRun[] }[] = [];
try {
  for (const c of cases) {
    const dir = await mkdtemp(join(root, 'case-'));
    // Only charts and YAML are benchmarked: no registry, and nothing to clean up after a case.
    const args = await c.prepare({
      dir,
      helm,
      registry: '',
      endpoint: { name: 'none', kind: 'olareg', host: '', plainHttp: true, referrersApi: false },
      home: { dir, env: { HOME: dir } },
      defer: () => undefined,
    });
    const forHelm = helmArgs(args);
    if (!forHelm || args.includes('none')) continue;
    const row = { klass: c.class, name: c.name, tg: [] as MeasuredRun[], helm: [] as MeasuredRun[] };
    const env = { HOME: dir, PATH: '/usr/bin:/bin' };
    for (let i = 0; i < RUNS; i++) {
      row.tg.push(
        await runMeasured(node, [join(projectRoot, 'src/cli/main.ts'), ...args], {
          env,
          cwd: dir,
          timeoutMs: 120_000,
        }),
      );
      row.helm.push(await runMeasured(helm, forHelm, { env, cwd: dir, timeoutMs: 120_000 }));
    }
    rows.push(row);
    await rm(dir, { recursive: true, force: true });
  }
} finally {
  await rm(root, { recursive: true, force: true });
}

console.log(`hostile inputs: tagguard scan (node + helm) against helm template alone, median of ${RUNS}`);
console.log('class     | tagguard MiB | helm MiB | peak ratio | tagguard s | helm s | input');
for (const r of rows) {
  const tgPeak = median(r.tg.map((x) => x.peakRssBytes));
  const helmPeak = median(r.helm.map((x) => x.peakRssBytes));
  const ratio = helmPeak > 0 ? (tgPeak / helmPeak).toFixed(2) : '–';
  const tgS = (median(r.tg.map((x) => x.elapsedMs)) / 1000).toFixed(2);
  const helmS = (median(r.helm.map((x) => x.elapsedMs)) / 1000).toFixed(2);
  const helmExit = r.helm[0]?.timedOut ? 'killed' : `exit ${String(r.helm[0]?.exitCode)}`;
  console.log(
    `${r.klass.padEnd(9)} | ${mib(tgPeak)}        | ${mib(helmPeak)}    | ${ratio.padStart(10)} | ${tgS.padStart(10)} | ${helmS.padStart(6)} | ${r.name} (helm ${helmExit})`,
  );
}
const worst = Math.max(...rows.map((r) => median(r.tg.map((x) => x.peakRssBytes))));
console.log(`highest tagguard peak: ${mib(worst).trim()} MiB (bound in the corpus test: 300 MiB)`);
