// Benchmark: polling an HTTP Helm repository of N chart versions (default 5,000) served by a real nginx.
// tagguard's client polled with and without ETag (bytes and time per poll, median / p95), the parse alone
// (time, heap and RSS growth; also on a 10x index), against `helm repo update` on the same repository side
// by side. The index is generated in helm's shape; a real `helm repo index` over 200 packaged charts checks
// that the generator writes byte for byte what helm writes. No absolute asserts.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ProcessSupervisor } from '../test/env/processes.ts';
import { startNginx } from '../test/env/nginx.ts';
import { createHelmWorkspace } from '../test/integration/registry/helm-repository/helm-repo-fixture.ts';
import {
  HelmRepositoryClient,
  type IndexSnapshot,
} from '../src/registry/helm-repository/helm-repository-client.ts';
import { defaultIndexLimits, readIndex } from '../src/registry/helm-repository/index-reader.ts';

// Child mode: parse one index file under a heap cap (`--max-old-space-size`); exit 0 if it fits.
if (process.argv[2] === '--parse-child') {
  const bytes = await readFile(process.argv[3] ?? '');
  const split = process.argv[4] === 'split';
  readIndex(bytes, {
    split,
    limits: { ...defaultIndexLimits, maxDocumentNodes: defaultIndexLimits.maxNodes },
  });
  process.exit(0);
}

const VERSIONS = Number(process.argv[2] ?? 5000);
const POLLS = Number(process.argv[3] ?? 20);
const SHAPE_CHARTS = Number(process.argv[4] ?? 200);
const VERSIONS_PER_CHART = 10;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const quantile = (values: readonly number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};
const round = (n: number, digits = 2): number => Number(n.toFixed(digits));
const mib = (bytes: number): number => round(bytes / 1024 / 1024, 1);

interface GeneratedVersion {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly digest: string;
  readonly created: string;
  readonly url: string;
}

/**
 * index.yaml as helm writes it (sigs.k8s.io/yaml over encoding/json: keys sorted, omitempty fields left
 * out, charts sorted by name, versions newest first, `created` quoted).
 */
const generateIndex = (versions: readonly GeneratedVersion[], generated: string): string => {
  const byChart = new Map<string, GeneratedVersion[]>();
  for (const v of versions) byChart.set(v.name, [...(byChart.get(v.name) ?? []), v]);
  const lines = ['apiVersion: v1', 'entries:'];
  for (const name of [...byChart.keys()].sort()) {
    lines.push(`  ${name}:`);
    for (const v of byChart.get(name) ?? []) {
      lines.push(
        '  - apiVersion: v2',
        `    created: "${v.created}"`,
        `    description: ${v.description}`,
        `    digest: ${v.digest}`,
        `    name: ${v.name}`,
        '    urls:',
        `    - ${v.url}`,
        `    version: ${v.version}`,
      );
    }
  }
  lines.push(`generated: "${generated}"`, '');
  return lines.join('\n');
};

const synthetic = (count: number): GeneratedVersion[] =>
  Array.from({ length: count }, (_, i) => {
    const chart = Math.floor(i / VERSIONS_PER_CHART);
    const name = `chart-${String(chart).padStart(5, '0')}`;
    // Newest first within a chart, as helm sorts.
    const version = `1.${VERSIONS_PER_CHART - 1 - (i % VERSIONS_PER_CHART)}.0`;
    return {
      name,
      version,
      description: 'a chart',
      digest: Buffer.from(`${name}-${version}`).toString('hex').padEnd(64, '0').slice(0, 64),
      created: new Date(Date.UTC(2026, 0, 1, 0, 0, 0) + i * 1000).toISOString().replace('Z', '000000Z'),
      url: `${name}-${version}.tgz`,
    };
  });

const dir = await mkdtemp(join(tmpdir(), 'tagguard-bench-helmrepo-'));
const supervisor = new ProcessSupervisor(dir);
const ws = await createHelmWorkspace();
try {
  // 1. The generator against the real `helm repo index` over SHAPE_CHARTS packaged charts.
  const shapeDir = join(dir, 'shape');
  const shapeStarted = performance.now();
  for (let i = 0; i < SHAPE_CHARTS; i++) {
    const name = `chart-${String(Math.floor(i / 2)).padStart(5, '0')}`;
    await ws.packageChart(shapeDir, name, `1.${1 - (i % 2)}.0`);
  }
  await ws.index(shapeDir);
  const helmText = await readFile(join(shapeDir, 'index.yaml'), 'utf8');
  const helmIndex = readIndex(Buffer.from(helmText));
  const fromHelm = helmIndex.chartNames.flatMap((n) =>
    helmIndex.chart(n).map((e) => ({
      name: e.name,
      version: e.version,
      description: 'a chart',
      digest: e.digest ?? '',
      created: e.created ?? '',
      url: e.urls[0] ?? '',
    })),
  );
  const generatedAt = /^generated: "(.*)"$/m.exec(helmText)?.[1] ?? '';
  const sameShape = generateIndex(fromHelm, generatedAt) === helmText;
  if (!sameShape) throw new Error('the generator does not write what helm repo index writes');
  const shapeSeconds = (performance.now() - shapeStarted) / 1000;

  // 2. The repository of VERSIONS versions, served by nginx.
  const www = join(dir, 'www');
  await mkdir(www, { recursive: true });
  const text = generateIndex(synthetic(VERSIONS), '2026-01-01T00:00:00.000000000Z');
  await writeFile(join(www, 'index.yaml'), text);
  const indexBytes = Buffer.byteLength(text);
  const server = await startNginx(supervisor, dir, { name: 'nginx-bench', root: www });
  const bodyBytes = async (from: number): Promise<number[]> =>
    (await server.accessLog()).slice(from).map((e) => e.bytesSent);

  // 3. tagguard: full polls (no previous snapshot: GET 200 + parse), then conditional ones (304).
  const client = new HelmRepositoryClient(server.url);
  let snapshot: IndexSnapshot = (await client.fetchIndex()).snapshot; // warm-up, connection open
  const fullMs: number[] = [];
  let logAt = (await server.accessLog()).length;
  for (let i = 0; i < POLLS; i++) {
    const started = performance.now();
    snapshot = (await client.fetchIndex()).snapshot;
    fullMs.push(performance.now() - started);
  }
  const fullBytes = await bodyBytes(logAt);
  const etagMs: number[] = [];
  logAt = (await server.accessLog()).length;
  for (let i = 0; i < POLLS; i++) {
    const started = performance.now();
    const poll = await client.fetchIndex(snapshot);
    etagMs.push(performance.now() - started);
    if (poll.changed) throw new Error('an unchanged index was read as changed');
  }
  const etagBytes = await bodyBytes(logAt);
  await client.close();

  // 4. The parse alone: time (median of 5), the heap it leaves right after (garbage of the parser
  // included: the transient peak), and what the parsed index holds once collected.
  const parse = (bytes: Buffer, charts?: ReadonlySet<string>, split = true) => {
    // Parsed at once, the big index is past the default per-parse cap (that is the point of the split).
    const limits = split
      ? defaultIndexLimits
      : { ...defaultIndexLimits, maxDocumentNodes: defaultIndexLimits.maxNodes };
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      readIndex(bytes, { split, limits, ...(charts ? { charts } : {}) });
      times.push(performance.now() - started);
    }
    gc();
    const before = process.memoryUsage();
    const held = readIndex(bytes, { split, limits, ...(charts ? { charts } : {}) });
    const after = process.memoryUsage();
    gc();
    const collected = process.memoryUsage();
    void held.chartNames.length;
    return {
      medianMs: round(quantile(times, 0.5)),
      heapTransientMiB: mib(after.heapUsed - before.heapUsed),
      heapHeldMiB: mib(collected.heapUsed - before.heapUsed),
      rssGrowthMiB: mib(Math.max(after.rss, collected.rss) - before.rss),
    };
  };
  const indexBuffer = Buffer.from(text);
  const parseAll = parse(indexBuffer);
  const parseOne = parse(indexBuffer, new Set(['chart-00001']));
  const bigText = generateIndex(synthetic(VERSIONS * 10), '2026-01-01T00:00:00.000000000Z');
  const parseBig = parse(Buffer.from(bigText));
  // The same index parsed at once (the path of an index not in helm's layout), for the peak it costs.
  const parseBigWhole = parse(Buffer.from(bigText), undefined, false);

  // The smallest V8 heap (--max-old-space-size, MiB) a fresh process parses the big index in: the peak
  // the parse needs, which no sampling from inside a synchronous parse can see.
  const bigFile = join(dir, 'big-index.yaml');
  await writeFile(bigFile, bigText);
  const smallestHeap = (mode: 'split' | 'whole'): number | undefined =>
    [16, 24, 32, 48, 64, 96, 128, 192, 256, 384].find(
      (mb) =>
        spawnSync(
          process.execPath,
          [`--max-old-space-size=${mb}`, process.argv[1] ?? '', '--parse-child', bigFile, mode],
          {
            stdio: 'ignore',
          },
        ).status === 0,
    );
  const bigHeapSplitMiB = smallestHeap('split');
  const bigHeapWholeMiB = smallestHeap('whole');

  // 5. helm repo update on the same repository (a process per poll, as Flux or a person runs it).
  await ws.helm(['repo', 'add', 'bench', server.url]);
  const helmMs: number[] = [];
  logAt = (await server.accessLog()).length;
  for (let i = 0; i < POLLS; i++) {
    const started = performance.now();
    await ws.helm(['repo', 'update', 'bench']);
    helmMs.push(performance.now() - started);
  }
  const helmBytes = await bodyBytes(logAt);

  const stats = (values: readonly number[]) => ({
    median: round(quantile(values, 0.5)),
    p95: round(quantile(values, 0.95)),
  });
  const result = {
    benchmark: 'helm-index-poll',
    versions: VERSIONS,
    polls: POLLS,
    indexBytes,
    generatorMatchesHelmRepoIndex: sameShape,
    shapeCharts: SHAPE_CHARTS,
    shapeCheckSeconds: round(shapeSeconds, 1),
    tagguardFullPollMs: stats(fullMs),
    tagguardFullPollBodyBytes: stats(fullBytes),
    tagguardEtagPollMs: stats(etagMs),
    tagguardEtagPollBodyBytes: stats(etagBytes),
    helmRepoUpdateMs: stats(helmMs),
    helmRepoUpdateBodyBytes: stats(helmBytes),
    parseAllMs: parseAll.medianMs,
    parseAllHeapTransientMiB: parseAll.heapTransientMiB,
    parseAllHeapHeldMiB: parseAll.heapHeldMiB,
    parseAllRssGrowthMiB: parseAll.rssGrowthMiB,
    parseOneChartMs: parseOne.medianMs,
    parseOneChartHeapHeldMiB: parseOne.heapHeldMiB,
    bigIndexVersions: VERSIONS * 10,
    bigIndexBytes: Buffer.byteLength(bigText),
    parseBigMs: parseBig.medianMs,
    parseBigHeapTransientMiB: parseBig.heapTransientMiB,
    parseBigHeapHeldMiB: parseBig.heapHeldMiB,
    parseBigRssGrowthMiB: parseBig.rssGrowthMiB,
    parseBigSmallestHeapMiB: bigHeapSplitMiB,
    parseBigWholeSmallestHeapMiB: bigHeapWholeMiB,
    parseBigWholeMs: parseBigWhole.medianMs,
    parseBigWholeHeapTransientMiB: parseBigWhole.heapTransientMiB,
    parseBigWholeRssGrowthMiB: parseBigWhole.rssGrowthMiB,
  };
  process.stdout.write(
    `helm-index-poll: ${VERSIONS} versions (${mib(indexBytes)} MiB index); per poll (median / p95 of ${POLLS}): ` +
      `tagguard without ETag ${result.tagguardFullPollMs.median} / ${result.tagguardFullPollMs.p95} ms and ${result.tagguardFullPollBodyBytes.median} body bytes, ` +
      `with ETag ${result.tagguardEtagPollMs.median} / ${result.tagguardEtagPollMs.p95} ms and ${result.tagguardEtagPollBodyBytes.median} bytes, ` +
      `helm repo update ${result.helmRepoUpdateMs.median} / ${result.helmRepoUpdateMs.p95} ms and ${result.helmRepoUpdateBodyBytes.median} bytes; ` +
      `parse ${result.parseAllMs} ms (one chart kept: ${result.parseOneChartMs} ms), heap +${result.parseAllHeapTransientMiB} MiB right after, ${result.parseAllHeapHeldMiB} MiB held; ` +
      `${result.bigIndexVersions} versions (${mib(result.bigIndexBytes)} MiB): parse ${result.parseBigMs} ms, ` +
      `heap +${result.parseBigHeapTransientMiB} MiB right after, ${result.parseBigHeapHeldMiB} MiB held, RSS +${result.parseBigRssGrowthMiB} MiB ` +
      `fits a ${result.parseBigSmallestHeapMiB} MiB heap (parsed at once instead of chart by chart: ${result.parseBigWholeMs} ms, ` +
      `needs a ${result.parseBigWholeSmallestHeapMiB} MiB heap); ` +
      `generator = helm repo index over ${SHAPE_CHARTS} charts: ${sameShape}\n`,
  );
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await supervisor.stopAll();
  await ws.remove();
  await rm(dir, { recursive: true, force: true });
}
