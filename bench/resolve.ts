// Benchmark: tag → digest resolution of N distinct tags on a local registry with the OCI referrers API
// (olareg), tagguard's client in one warm process against `oras resolve` run on the same tags, side by
// side. Reports throughput per tag, the ratio, and HTTP requests per resolution. No absolute asserts.
// The operator is a long-running process, so the ratio is taken on a warm client (the median of ROUNDS
// passes over the N tags, after the first pass, which is reported too: it includes V8's warm-up).
import { subscribe } from 'node:diagnostics_channel';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ProcessSupervisor } from '../test/env/processes.ts';
import { startOlareg } from '../test/env/registries.ts';
import { runTool } from '../test/env/run-tool.ts';
import { pushArtifact } from '../test/env/oci.ts';
import { RegistryClient } from '../src/registry/client.ts';
import { RegistryTransport } from '../src/registry/transport.ts';
import { parseReference } from '../src/registry/reference.ts';

const TAGS = Number(process.argv[2] ?? 500);
const ORAS_SAMPLE = Math.min(TAGS, Number(process.argv[3] ?? 100));
const ROUNDS = 5;

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

const dir = await mkdtemp(join(tmpdir(), 'tagguard-bench-'));
const supervisor = new ProcessSupervisor(dir);
try {
  const registry = await startOlareg(supervisor, dir, { name: 'olareg-bench' });
  const home = { dir, env: { HOME: dir } };
  const artifact = await pushArtifact(home, registry, 'bench/app', 'base', 'payload');
  const tags = Array.from({ length: TAGS }, (_, i) => `t${i}`);
  for (let i = 0; i < tags.length; i += 100) {
    await runTool('oras', ['tag', '--plain-http', artifact.byDigest, ...tags.slice(i, i + 100)], {
      env: home.env,
    });
  }

  let requests = 0;
  const client = new RegistryClient(
    new RegistryTransport({ hostOptions: () => ({ plainHttp: true }), onRequest: () => requests++ }),
  );
  await client.resolve(parseReference(`${registry.host}/bench/app:base`)); // open a connection
  let connections = 0;
  subscribe('undici:client:connected', () => connections++);
  const passMs: number[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    requests = 0;
    const started = performance.now();
    const digests = await Promise.all(
      tags.map((tag) => client.resolve(parseReference(`${registry.host}/bench/app:${tag}`))),
    );
    passMs.push(performance.now() - started);
    if (digests.some((d) => d.digest !== artifact.digest))
      throw new Error('tagguard resolved a wrong digest');
  }
  await client.close();
  const [firstMs = Number.NaN, ...warm] = passMs;
  const oursMs = median(warm);

  const oras = performance.now();
  for (const tag of tags.slice(0, ORAS_SAMPLE)) {
    const { stdout } = await runTool(
      'oras',
      ['resolve', '--plain-http', `${registry.host}/bench/app:${tag}`],
      { env: home.env },
    );
    if (stdout.trim() !== artifact.digest) throw new Error('oras resolved a wrong digest');
  }
  const orasMs = performance.now() - oras;

  const oursPerTag = oursMs / TAGS;
  const orasPerTag = orasMs / ORAS_SAMPLE;
  const result = {
    benchmark: 'resolve',
    tags: TAGS,
    orasSample: ORAS_SAMPLE,
    tagguardMsPerTag: Number(oursPerTag.toFixed(3)),
    tagguardFirstPassMsPerTag: Number((firstMs / TAGS).toFixed(3)),
    orasMsPerTag: Number(orasPerTag.toFixed(3)),
    ratio: Number((orasPerTag / oursPerTag).toFixed(1)),
    firstPassRatio: Number((orasPerTag / (firstMs / TAGS)).toFixed(1)),
    requestsPerResolution: Number((requests / TAGS).toFixed(2)),
    connectionsOpened: connections,
  };
  process.stdout.write(
    `resolve: tagguard ${result.tagguardMsPerTag} ms/tag over ${TAGS} tags (median of ${ROUNDS} warm passes; ` +
      `first pass ${result.tagguardFirstPassMsPerTag}), oras resolve ${result.orasMsPerTag} ms/tag over ${ORAS_SAMPLE}; ` +
      `tagguard is ${result.ratio}x faster per tag (first pass ${result.firstPassRatio}x); ` +
      `${result.requestsPerResolution} requests per resolution, ${connections} connections opened in ` +
      `${ROUNDS + 1} passes\n`,
  );
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await supervisor.stopAll();
}
