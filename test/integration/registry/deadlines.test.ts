// Overall deadlines besides the idle timeouts, against olareg behind the fault proxy: a body trickled one
// byte at a time never lets the idle timeout fire, so only the request deadline cuts it; a slow operation
// of several requests (each within its own deadline) is cut by the operation deadline, retries included.
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { RegistryClient } from '../../../src/registry/client.ts';
import { RegistryTransport, type TransportConfig } from '../../../src/registry/transport.ts';
import { parseReference, type OciReference } from '../../../src/registry/reference.ts';
import { packageChart } from '../../env/charts.ts';
import { pushChart, type PushedArtifact } from '../../env/oci.ts';
import { createToolHome } from '../../env/tool-home.ts';
import { startFaultProxy, type FaultProxy } from '../../support/fault-proxy.ts';

const env = inject('testEnv');

describe('request and operation deadlines', () => {
  let proxy: FaultProxy;
  let chart: PushedArtifact;
  let ref: OciReference;
  let client: RegistryClient | undefined;

  const newClient = (config: Partial<TransportConfig>): RegistryClient => {
    client = new RegistryClient(
      new RegistryTransport({
        hostOptions: () => ({ plainHttp: true }),
        // Idle timeouts far above the trickle interval: they must not be what ends a request here.
        timeoutMs: 10_000,
        retryBaseMs: 10,
        retryMaxMs: 20,
        ...config,
      }),
      { tagsPageSize: 1 },
    );
    return client;
  };

  beforeAll(async () => {
    const home = await createToolHome(env);
    const upstream = env.registries.referrers;
    for (const version of ['1.0.0', '1.1.0', '1.2.0']) {
      chart = await pushChart(home, upstream, 'deadlines', await packageChart(home, home.dir, { version }));
    }
    proxy = await startFaultProxy(upstream.host);
    ref = parseReference(`${proxy.host}/deadlines/payment:1.2.0`);
  });

  afterAll(async () => {
    await client?.close();
    await proxy?.close();
  });

  beforeEach(async () => {
    await client?.close();
    client = undefined;
    proxy.rules.length = 0;
    proxy.seen.length = 0;
  });

  it('cuts a body trickled at one byte per second at the request deadline', async () => {
    const c = newClient({ requestTimeoutMs: 2_500, maxRetries: 0 });
    proxy.rules.push({
      method: 'GET',
      path: /manifests\//,
      fault: { kind: 'trickle', intervalMs: 1_000, length: 1_000_000 },
    });
    const started = performance.now();
    const error = await c.getManifest(ref, chart.digest).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(error).toMatchObject({ code: 'Timeout', deadline: 'request', host: proxy.host });
    expect(String(error)).toMatch(/request deadline of 2500ms \(--registry-request-timeout\)/);
    expect(elapsed).toBeGreaterThanOrEqual(2_400);
    expect(elapsed).toBeLessThan(4_500);
    // The server saw its connection end at the deadline, after a couple of bytes.
    await expect.poll(() => proxy.seen[0]?.endedAfterMs).toBeGreaterThan(2_000);
    expect(proxy.seen[0]?.endedAfterMs).toBeLessThan(4_500);
    expect(proxy.seen[0]?.bytesSent).toBeGreaterThanOrEqual(1);
    expect(proxy.seen[0]?.bytesSent).toBeLessThanOrEqual(4);
  });

  it('retries a request cut at its deadline, and the operation deadline ends the retries', async () => {
    const c = newClient({ requestTimeoutMs: 600, operationTimeoutMs: 2_000, maxRetries: 10 });
    proxy.rules.push({
      method: 'GET',
      path: /manifests\//,
      fault: { kind: 'trickle', intervalMs: 100, length: 1_000_000 },
    });
    const started = performance.now();
    const error = await c.getManifest(ref, chart.digest).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(error).toMatchObject({ code: 'Timeout', deadline: 'operation', host: proxy.host });
    expect(String(error)).toMatch(/manifest .* operation deadline of 2s \(--registry-operation-timeout\)/);
    expect(elapsed).toBeGreaterThanOrEqual(1_900);
    expect(elapsed).toBeLessThan(3_500);
    expect(proxy.seen.length).toBeGreaterThanOrEqual(2);
    expect(proxy.seen.length).toBeLessThanOrEqual(4);
  });

  it('cuts a slow paginated tag listing at the operation deadline although each page is in time', async () => {
    const c = newClient({ requestTimeoutMs: 5_000, operationTimeoutMs: 1_500, maxRetries: 0 });
    // Control: without delays the three pages list in time.
    expect((await c.listTags(ref)).sort()).toEqual(['1.0.0', '1.1.0', '1.2.0']);
    proxy.seen.length = 0;
    proxy.rules.push({ path: /tags\/list/, fault: { kind: 'delay', ms: 700 } });
    const error = await c.listTags(ref).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'Timeout', deadline: 'operation' });
    expect(String(error)).toMatch(/tag list of .*deadlines\/payment/);
    expect(proxy.seen.filter((s) => s.path.includes('/tags/list')).length).toBe(3);
  });

  it('groups a manifest and its blobs under one operation deadline', async () => {
    const c = newClient({ requestTimeoutMs: 5_000, operationTimeoutMs: 1_200, maxRetries: 0 });
    proxy.rules.push({ path: /(manifests|blobs)\//, fault: { kind: 'delay', ms: 500 } });
    const error = await c
      .operation(proxy.host, 'chart fetch', async () => {
        const manifest = await c.getManifest(ref, chart.digest);
        if (manifest.manifest.kind !== 'manifest') throw new Error('not a manifest');
        for (const layer of [manifest.manifest.config, ...manifest.manifest.layers])
          await c.getBlob(ref, layer);
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'Timeout', deadline: 'operation' });
    expect(String(error)).toMatch(/chart fetch did not finish within the operation deadline of 1200ms/);
  });
});
