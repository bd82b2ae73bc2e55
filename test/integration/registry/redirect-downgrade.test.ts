// Redirects and token realms must never downgrade from HTTPS to plain HTTP. A real registry (olareg) sits
// behind the fault proxy, which sits behind a TLS terminator with the test CA's serving certificate, so the
// client talks HTTPS to a registry whose answers (a blob redirect, a Bearer challenge) point at plain HTTP.
// The client must refuse before sending anything there, credentials least of all.
import { readFile } from 'node:fs/promises';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { RegistryClient } from '../../../src/registry/client.ts';
import { RegistryTransport } from '../../../src/registry/transport.ts';
import type { Descriptor } from '../../../src/registry/manifest.ts';
import { parseReference, type OciReference } from '../../../src/registry/reference.ts';
import { packageChart } from '../../env/charts.ts';
import { pushChart, type PushedArtifact } from '../../env/oci.ts';
import { createToolHome } from '../../env/tool-home.ts';
import {
  startBlobHost,
  startFaultProxy,
  type FaultProxy,
  type HttpTestServer,
} from '../../support/fault-proxy.ts';

const env = inject('testEnv');
const CREDENTIALS = { username: 'downgrade-user', password: 'downgrade-secret-value' };
const BASIC = `Basic ${Buffer.from(`${CREDENTIALS.username}:${CREDENTIALS.password}`).toString('base64')}`;

/** A TCP-level TLS terminator: HTTPS on its port, plain bytes to `upstreamHost`. */
const startTlsFront = async (upstreamHost: string): Promise<{ host: string; close(): Promise<void> }> => {
  const pki = join(env.runDir, 'registry-pki');
  const [cert, key] = await Promise.all([
    readFile(join(pki, 'registry.crt')),
    readFile(join(pki, 'registry.key')),
  ]);
  const [upHost = '', upPort = ''] = upstreamHost.split(':');
  const server: TlsServer = createTlsServer({ cert, key }, (socket) => {
    const upstream = connect(Number(upPort), upHost);
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { host, close: () => new Promise<void>((r) => server.close(() => r())) };
};

describe('no downgrade from HTTPS to plain HTTP', () => {
  let proxy: FaultProxy;
  let front: { host: string; close(): Promise<void> };
  let elsewhere: HttpTestServer;
  let chart: PushedArtifact;
  let layer: Descriptor;
  let layerBytes: Buffer;
  let ref: OciReference;
  let client: RegistryClient;
  let caPem: string;

  const newClient = (): RegistryClient =>
    new RegistryClient(
      new RegistryTransport({
        credentials: new Map([[front.host, { kind: 'basic', ...CREDENTIALS }]]),
        hostOptions: () => ({ caPem }),
        maxRetries: 0,
      }),
    );

  beforeAll(async () => {
    caPem = await readFile(env.registryCaFile, 'utf8');
    const home = await createToolHome(env);
    const upstream = env.registries.referrers;
    chart = await pushChart(
      home,
      upstream,
      'downgrade',
      await packageChart(home, home.dir, { version: '3.0.0' }),
    );
    proxy = await startFaultProxy(upstream.host);
    front = await startTlsFront(proxy.host);
    ref = parseReference(`${front.host}/downgrade/payment:3.0.0`);
    const setup = newClient();
    const manifest = await setup.getManifest(ref, chart.digest);
    if (manifest.manifest.kind !== 'manifest' || !manifest.manifest.layers[0])
      throw new Error('chart has no layer');
    layer = manifest.manifest.layers[0];
    layerBytes = await setup.getBlob(ref, layer);
    await setup.close();
    elsewhere = await startBlobHost((path) => (path === `/blob/${layer.digest}` ? layerBytes : undefined));
  });

  afterAll(async () => {
    await client?.close();
    await elsewhere?.close();
    await front?.close();
    await proxy?.close();
  });

  beforeEach(async () => {
    await client?.close();
    client = newClient();
    proxy.rules.length = 0;
    proxy.seen.length = 0;
    elsewhere.seen.length = 0;
  });

  /** The first blob request is challenged for Basic credentials; the authenticated one is redirected. */
  const redirectBlobTo = (location: string): void => {
    proxy.rules.push(
      { path: /blobs\//, fault: { kind: 'require-basic', ...CREDENTIALS }, times: 1 },
      { method: 'GET', path: /blobs\//, fault: { kind: 'redirect', location } },
    );
  };

  it('follows an HTTPS redirect on the same host, with the credentials (the control case)', async () => {
    // Rules match in order: the redirected request is checked for the credentials, not redirected again.
    proxy.rules.push({
      method: 'GET',
      path: /redirected=1/,
      fault: { kind: 'require-basic', ...CREDENTIALS },
    });
    redirectBlobTo(`https://${front.host}/v2/downgrade/payment/blobs/${layer.digest}?redirected=1`);
    const downloaded = await client.getBlob(ref, layer);
    expect(downloaded.equals(layerBytes)).toBe(true);
    expect(proxy.seen.find((s) => s.path.includes('redirected=1'))?.authorization).toBe(BASIC);
  });

  it('refuses a blob redirect from HTTPS to plain HTTP on another host, which receives nothing', async () => {
    redirectBlobTo(`http://${elsewhere.host}/blob/${layer.digest}`);
    const error = await client.getBlob(ref, layer).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'InvalidResponse', host: front.host });
    expect(String(error)).toMatch(/refusing redirect from https: to http:/);
    // The registry did see the credentials (over TLS); the plain-HTTP host saw no request at all.
    expect(proxy.seen.some((s) => s.path.includes('/blobs/') && s.authorization === BASIC)).toBe(true);
    expect(elsewhere.seen).toEqual([]);
  });

  it('refuses a redirect to plain HTTP on the same host and port', async () => {
    redirectBlobTo(`http://${front.host}/v2/downgrade/payment/blobs/${layer.digest}?plain=1`);
    await expect(client.getBlob(ref, layer)).rejects.toMatchObject({ code: 'InvalidResponse' });
    expect(proxy.seen.filter((s) => s.path.includes('plain=1'))).toEqual([]);
  });

  it('refuses a Bearer token realm on plain HTTP at another host, which receives nothing', async () => {
    proxy.rules.push({
      method: 'HEAD',
      path: /manifests\//,
      fault: {
        kind: 'status',
        status: 401,
        headers: { 'www-authenticate': `Bearer realm="http://${elsewhere.host}/token",service="registry"` },
      },
      times: 1,
    });
    const error = await client.resolve(ref).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'Unauthorized' });
    expect(String(error)).toMatch(/refusing token realm .* over plain HTTP/);
    expect(elsewhere.seen).toEqual([]);
  });
});
