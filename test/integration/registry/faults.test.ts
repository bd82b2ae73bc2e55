// The registry client behind a fault-injecting proxy in front of a real registry (olareg): retries
// and their limits, Retry-After, resets, timeouts, corrupted and oversized bodies, a lying
// Docker-Content-Digest, and redirects to another host that must never receive the credentials.
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { RegistryClient } from '../../../src/registry/client.ts';
import { RegistryTransport, type RegistryRequestEvent } from '../../../src/registry/transport.ts';
import type { Descriptor } from '../../../src/registry/manifest.ts';
import { parseReference, type OciReference } from '../../../src/registry/reference.ts';
import { packageChart } from '../../env/charts.ts';
import { pushChart, type PushedArtifact } from '../../env/oci.ts';
import { createToolHome } from '../../env/tool-home.ts';
import { startBlobHost, startFaultProxy, type FaultProxy } from '../../support/fault-proxy.ts';

const env = inject('testEnv');
const CREDENTIALS = { username: 'proxy-user', password: 'proxy-secret-value' };

describe('registry client under faults', () => {
  let proxy: FaultProxy;
  let chart: PushedArtifact;
  let layer: Descriptor;
  let ref: OciReference;
  let sleeps: number[];
  let events: RegistryRequestEvent[];
  let client: RegistryClient;

  const newClient = (timeoutMs = 5_000): RegistryClient => {
    const transport = new RegistryTransport({
      credentials: new Map([[proxy.host, { kind: 'basic', ...CREDENTIALS }]]),
      hostOptions: () => ({ plainHttp: true }),
      maxRetries: 3,
      timeoutMs,
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
      onRequest: (e) => events.push(e),
    });
    return new RegistryClient(transport);
  };

  beforeAll(async () => {
    const home = await createToolHome(env);
    const upstream = env.registries.referrers;
    chart = await pushChart(
      home,
      upstream,
      'faults',
      await packageChart(home, home.dir, { version: '7.0.0' }),
    );
    proxy = await startFaultProxy(upstream.host);
    ref = parseReference(`${proxy.host}/faults/payment:7.0.0`);
    sleeps = [];
    events = [];
    const setup = newClient();
    const manifest = await setup.getManifest(ref, chart.digest);
    if (manifest.manifest.kind !== 'manifest' || !manifest.manifest.layers[0])
      throw new Error('chart has no layer');
    layer = manifest.manifest.layers[0];
    await setup.close();
  });

  afterAll(async () => {
    await client.close();
    await proxy.close();
  });

  beforeEach(async () => {
    await client?.close();
    proxy.rules.length = 0;
    proxy.seen.length = 0;
    sleeps = [];
    events = [];
    client = newClient();
  });

  it('retries 503 with backoff and then succeeds', async () => {
    proxy.rules.push({
      method: 'HEAD',
      path: /manifests\/7\.0\.0$/,
      fault: { kind: 'status', status: 503 },
      times: 2,
    });
    expect((await client.resolve(ref)).digest).toBe(chart.digest);
    expect(events.filter((e) => e.method === 'HEAD').map((e) => e.code)).toEqual(['503', '503', '200']);
    expect(sleeps).toHaveLength(2);
    expect(sleeps[1]).toBeGreaterThanOrEqual(sleeps[0] ?? 0);
  });

  it('gives up after the retry budget with Unavailable', async () => {
    proxy.rules.push({ method: 'HEAD', path: /manifests/, fault: { kind: 'status', status: 503 } });
    await expect(client.resolve(ref)).rejects.toMatchObject({
      code: 'Unavailable',
      status: 503,
      host: proxy.host,
    });
    expect(events.filter((e) => e.method === 'HEAD')).toHaveLength(4);
  });

  it('waits exactly as long as Retry-After asks on 429', async () => {
    proxy.rules.push({
      method: 'HEAD',
      path: /manifests/,
      fault: { kind: 'status', status: 429, headers: { 'retry-after': '7' } },
      times: 1,
    });
    expect((await client.resolve(ref)).digest).toBe(chart.digest);
    expect(sleeps).toEqual([7000]);
  });

  it('returns RateLimited instead of waiting for an unreasonable Retry-After', async () => {
    proxy.rules.push({
      path: /manifests/,
      fault: { kind: 'status', status: 429, headers: { 'retry-after': '3600' } },
    });
    await expect(client.resolve(ref)).rejects.toMatchObject({ code: 'RateLimited', retryAfterMs: 3_600_000 });
    expect(sleeps).toEqual([]);
  });

  it('retries a connection reset', async () => {
    proxy.rules.push({ method: 'HEAD', path: /manifests/, fault: { kind: 'reset' }, times: 1 });
    expect((await client.resolve(ref)).digest).toBe(chart.digest);
    expect(events.map((e) => e.code)).toContain('ConnectionFailed');
  });

  it('survives a registry that sends a body with its HEAD answer (the connection is kept alive)', async () => {
    proxy.rules.push({
      method: 'HEAD',
      path: /manifests\/7\.0\.0$/,
      fault: { kind: 'head-with-body' },
      times: 1,
    });
    expect((await client.resolve(ref)).digest).toBe(chart.digest);
    // The junk after the answer breaks that connection only: the next resolution is answered on a new one
    // (or retried), never from the junk and never after waiting for a timeout.
    expect((await client.resolve(ref)).digest).toBe(chart.digest);
    expect(events.map((e) => e.code)).not.toContain('Timeout');
    expect(proxy.seen.filter((s) => s.method === 'HEAD')).toHaveLength(2);
  });

  it('times out a registry that does not answer, then retries', async () => {
    await client.close();
    client = newClient(300);
    proxy.rules.push({ method: 'HEAD', path: /manifests/, fault: { kind: 'delay', ms: 1500 }, times: 1 });
    expect((await client.resolve(ref)).digest).toBe(chart.digest);
    expect(events.map((e) => e.code)).toContain('Timeout');
  });

  it('rejects a manifest whose bytes do not hash to the digest asked for, without retrying', async () => {
    proxy.rules.push({ method: 'GET', path: /manifests\/sha256:/, fault: { kind: 'corrupt-body' } });
    await expect(client.getManifest(ref, chart.digest)).rejects.toMatchObject({ code: 'DigestMismatch' });
    expect(proxy.seen.filter((s) => s.method === 'GET' && s.path.includes('/manifests/'))).toHaveLength(1);
  });

  it('rejects a blob larger than its descriptor says', async () => {
    proxy.rules.push({
      method: 'GET',
      path: /blobs\//,
      fault: { kind: 'oversize-body', bytes: layer.size + 4096 },
    });
    await expect(client.getBlob(ref, layer)).rejects.toMatchObject({ code: 'TooLarge' });
  });

  it('ignores a lying Docker-Content-Digest: content is verified by hashing', async () => {
    const lie = `sha256:${'e'.repeat(64)}`;
    proxy.rules.push({ path: /manifests\//, fault: { kind: 'lie-digest', digest: lie } });
    const fetched = await client.getManifest(ref, chart.digest);
    expect(fetched.digest).toBe(chart.digest);
    // A reference pinned to a digest is not talked out of it by a HEAD that claims another one.
    const pinned = await client.resolve({ ...ref, digest: chart.digest });
    expect(pinned.digest).toBe(chart.digest);
  });

  it('follows a blob redirect to another host without sending it the credentials', async () => {
    const blob = await client.getBlob(ref, layer);
    const elsewhere = await startBlobHost((path) => (path === `/blob/${layer.digest}` ? blob : undefined));
    try {
      // Rules match in order: the first blob request is challenged for Basic credentials; the
      // authenticated retry is redirected to the other host.
      proxy.rules.push(
        { path: /blobs\//, fault: { kind: 'require-basic', ...CREDENTIALS }, times: 1 },
        {
          method: 'GET',
          path: /blobs\//,
          fault: { kind: 'redirect', location: `http://${elsewhere.host}/blob/${layer.digest}` },
        },
      );
      const downloaded = await newClient().getBlob(ref, layer);
      expect(downloaded.equals(blob)).toBe(true);
      expect(elsewhere.seen).toHaveLength(1);
      expect(elsewhere.seen[0]?.authorization).toBeUndefined();
      expect(
        proxy.seen.some((s) => s.path.includes('/blobs/') && s.authorization?.startsWith('Basic ')),
      ).toBe(true);
    } finally {
      await elsewhere.close();
    }
  });

  it('stops after a bounded number of redirects', async () => {
    proxy.rules.push({
      method: 'GET',
      path: /blobs\//,
      fault: { kind: 'redirect', location: `http://${proxy.host}/v2/faults/payment/blobs/${layer.digest}` },
    });
    await expect(client.getBlob(ref, layer)).rejects.toThrow(/more than 5 redirects/);
  });
});
