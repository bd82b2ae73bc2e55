// Hostile registry behaviour: a real chart in olareg behind the fault proxy, read by `tagguard resolve`
// and `tagguard scan <ref>`. Errors, trickling and oversized bodies, lying digests, redirect games.
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { packageChart } from '../../env/charts.ts';
import { pushChart, type PushedArtifact } from '../../env/oci.ts';
import { startBlobHost, startFaultProxy, type FaultProxy, type Rule } from '../../support/fault-proxy.ts';
import type { CorpusCase, CorpusContext } from './corpus-case.ts';

interface Behind {
  readonly proxy: FaultProxy;
  readonly chart: PushedArtifact;
  /** host/repo:tag of the chart through the proxy. */
  readonly reference: string;
}

/** Pushes a chart to olareg and puts the fault proxy in front of it, with these rules. */
const behindProxy = async (ctx: CorpusContext, rules: (chart: PushedArtifact) => Rule[]): Promise<Behind> => {
  const dir = await mkdtemp(join(ctx.dir, 'chart-'));
  const chart = await pushChart(
    ctx.home,
    ctx.endpoint,
    `corpus-${Math.random().toString(36).slice(2, 8)}`,
    await packageChart(ctx.home, dir, { name: 'payment', version: '3.1.0' }),
  );
  const proxy = await startFaultProxy(ctx.registry);
  ctx.defer(() => proxy.close());
  proxy.rules.push(...rules(chart));
  const path = chart.repository.slice(chart.repository.indexOf('/'));
  return { proxy, chart, reference: `${proxy.host}${path}:${chart.tag}` };
};

const resolveThrough =
  (rules: (chart: PushedArtifact) => Rule[], extra: string[] = []) =>
  async (ctx: CorpusContext) => {
    const { reference } = await behindProxy(ctx, rules);
    return ['resolve', reference, '--insecure', '--output', 'json', ...extra];
  };

const scanThrough =
  (rules: (chart: PushedArtifact) => Rule[], extra: string[] = []) =>
  async (ctx: CorpusContext) => {
    const { reference } = await behindProxy(ctx, rules);
    return ['scan', reference, '--insecure', '--helm', 'none', '--output', 'json', ...extra];
  };

const registry = (
  name: string,
  prepare: CorpusCase['prepare'],
  exit: number,
  code: string,
  maxMs?: number,
): CorpusCase => ({ class: 'registry', name, prepare, exit, code, ...(maxMs ? { maxMs } : {}) });

const manifests = /\/manifests\//;
const blobs = /\/blobs\//;

export const registryCases: readonly CorpusCase[] = [
  registry(
    'every request answers 503',
    resolveThrough(() => [{ path: /./, fault: { kind: 'status', status: 503 } }]),
    3,
    'Unavailable',
  ),
  registry(
    'a manifest trickled one byte a second (request deadline 2 s)',
    scanThrough(
      () => [{ method: 'GET', path: manifests, fault: { kind: 'trickle', intervalMs: 1000, length: 4096 } }],
      ['--registry-request-timeout', '2s'],
    ),
    3,
    'Timeout',
  ),
  registry(
    'a 50 MB manifest',
    scanThrough(() => [
      { method: 'GET', path: manifests, fault: { kind: 'oversize-body', bytes: 50 * 1024 * 1024 } },
    ]),
    3,
    'TooLarge',
  ),
  registry(
    'HEAD and GET whose Docker-Content-Digest lies (the lie is fetched by digest: not found)',
    scanThrough(() => [
      { path: manifests, fault: { kind: 'lie-digest', digest: `sha256:${'0'.repeat(64)}` } },
    ]),
    3,
    'NotFound',
  ),
  registry(
    'a chart layer with one byte changed',
    scanThrough(() => [{ method: 'GET', path: blobs, fault: { kind: 'corrupt-body' } }]),
    3,
    'DigestMismatch',
  ),
  registry(
    'a redirect loop',
    (ctx) =>
      resolveThrough(() => [
        { path: manifests, fault: { kind: 'redirect', location: '/v2/loop/manifests/x' } },
      ])(ctx),
    3,
    'InvalidResponse',
  ),
  registry(
    'a redirect to a file: URL',
    resolveThrough(() => [{ path: manifests, fault: { kind: 'redirect', location: 'file:///etc/passwd' } }]),
    3,
    'InvalidResponse',
  ),
  registry(
    '429 asking to retry after a day',
    resolveThrough(() => [
      { path: manifests, fault: { kind: 'status', status: 429, headers: { 'retry-after': '86400' } } },
    ]),
    3,
    'RateLimited',
  ),
  registry(
    'the connection reset on every request',
    resolveThrough(() => [{ path: /./, fault: { kind: 'reset' } }]),
    3,
    'ConnectionFailed',
  ),
  registry(
    'a HEAD answer followed by a body',
    resolveThrough(() => [{ method: 'HEAD', path: manifests, fault: { kind: 'head-with-body' } }]),
    0,
    '',
  ),
  registry(
    'a manifest nested 100,000 deep, served from another host',
    async (ctx) => {
      const nested = Buffer.from(`${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`);
      const host = await startBlobHost(() => nested);
      ctx.defer(() => host.close());
      return resolveThrough(() => [
        { method: 'GET', path: manifests, fault: { kind: 'redirect', location: `http://${host.host}/m` } },
      ])(ctx).then((args) => args.map((a) => (a === 'resolve' ? 'scan' : a)).concat(['--helm', 'none']));
    },
    3,
    'DigestMismatch',
  ),
  registry(
    'a 401 from the registry naming a token realm that never answers',
    resolveThrough(() => [
      {
        path: manifests,
        fault: {
          kind: 'status',
          status: 401,
          headers: { 'www-authenticate': 'Bearer realm="http://127.0.0.1:1/token",service="x",scope="y"' },
        },
      },
    ]),
    3,
    'ConnectionFailed',
  ),
];
