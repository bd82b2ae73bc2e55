// Credentials are bound to the registry's origin (scheme, host, port) at every hop. Real registries over
// TLS sit behind the fault proxy: olareg with Basic authentication enforced by the proxy, and distribution
// with distribution's token server (Bearer). The proxy redirects to other origins — a host that answers
// with its own Bearer challenge, an S3-style storage host with a presigned URL, the same registry under
// another name that would accept the token — and every other host records what it received: never the
// Basic credentials, never a token, never a request to its token endpoint.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { RegistryClient } from '../../../src/registry/client.ts';
import { RegistryTransport, type RegistryRequestEvent } from '../../../src/registry/transport.ts';
import type { Descriptor } from '../../../src/registry/manifest.ts';
import { parseReference, type OciReference } from '../../../src/registry/reference.ts';
import { packageChart } from '../../env/charts.ts';
import { pushChart, type PushedArtifact } from '../../env/oci.ts';
import { ProcessSupervisor } from '../../env/processes.ts';
import { startTokenAuthRegistry, type TokenAuthRegistry } from '../../env/token-auth.ts';
import { createToolHome } from '../../env/tool-home.ts';
import {
  startBlobHost,
  startChallengingHost,
  startFaultProxy,
  startTlsFront,
  type FaultProxy,
  type HttpTestServer,
} from '../../support/fault-proxy.ts';

const env = inject('testEnv');
const CREDENTIALS = { username: 'binding-user', password: 'binding-Secret-4711' };
const BASIC = `Basic ${Buffer.from(`${CREDENTIALS.username}:${CREDENTIALS.password}`).toString('base64')}`;
const PRESIGNED = 'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20261204&X-Amz-Signature=abc123';

type Front = { host: string; close(): Promise<void> };

/** No secret in the error, its message, its fields or any cause. */
const expectNoSecret = (error: unknown, ...secrets: string[]): void => {
  const texts: string[] = [];
  for (let e: unknown = error; e !== undefined && e !== null; e = (e as { cause?: unknown }).cause) {
    const err = e as { message?: string; stack?: string };
    texts.push(err.message ?? '', err.stack ?? '', JSON.stringify(e));
  }
  for (const secret of secrets) for (const text of texts) expect(text).not.toContain(secret);
};

const serving = async () => {
  const pki = join(env.runDir, 'registry-pki');
  const [cert, key] = await Promise.all([
    readFile(join(pki, 'registry.crt')),
    readFile(join(pki, 'registry.key')),
  ]);
  return { cert, key };
};

describe('credentials stay with the registry origin (olareg over TLS, Basic)', () => {
  let proxy: FaultProxy;
  let front: Front;
  let challenger: HttpTestServer;
  let challengerFront: Front;
  let storage: HttpTestServer;
  let storageFront: Front;
  let plainRealm: HttpTestServer;
  let chart: PushedArtifact;
  let layer: Descriptor;
  let layerBytes: Buffer;
  let ref: OciReference;
  let caPem: string;
  let client: RegistryClient;
  let events: RegistryRequestEvent[];

  const newClient = (): RegistryClient =>
    new RegistryClient(
      new RegistryTransport({
        credentials: new Map([[front.host, { kind: 'basic', ...CREDENTIALS }]]),
        hostOptions: (host) => (host === front.host ? { caPem } : {}),
        maxRetries: 0,
        onRequest: (e) => events.push(e),
      }),
    );

  beforeAll(async () => {
    caPem = await readFile(env.registryCaFile, 'utf8');
    const tls = await serving();
    const home = await createToolHome(env);
    const upstream = env.registries.referrers;
    chart = await pushChart(
      home,
      upstream,
      'binding',
      await packageChart(home, home.dir, { version: '3.0.0' }),
    );
    proxy = await startFaultProxy(upstream.host);
    front = await startTlsFront(proxy.host, tls);
    // Other hosts are reached as "localhost", a name the serving certificate also carries.
    challenger = await startChallengingHost(() => `https://${challengerFront.host}`);
    challengerFront = await startTlsFront(challenger.host, tls, 'localhost');
    plainRealm = await startChallengingHost(() => `http://${plainRealm.host}`);
    ref = parseReference(`${front.host}/binding/payment:3.0.0`);
    events = [];
    const setup = newClient();
    const manifest = await setup.getManifest(ref, chart.digest);
    if (manifest.manifest.kind !== 'manifest' || !manifest.manifest.layers[0])
      throw new Error('chart has no layer');
    layer = manifest.manifest.layers[0];
    layerBytes = await setup.getBlob(ref, layer);
    await setup.close();
    storage = await startBlobHost((path) =>
      path.startsWith(`/bucket/${layer.digest}?`) ? layerBytes : undefined,
    );
    storageFront = await startTlsFront(storage.host, tls, 'localhost');
  });

  afterAll(async () => {
    await client?.close();
    for (const server of [front, challengerFront, storageFront, proxy, challenger, storage, plainRealm])
      await server?.close();
  });

  beforeEach(async () => {
    await client?.close();
    events = [];
    client = newClient();
    proxy.rules.length = 0;
    for (const server of [proxy, challenger, storage, plainRealm]) server.seen.length = 0;
  });

  const manifestRedirect = (): string => `https://${challengerFront.host}/v2/binding/payment/manifests/3.0.0`;

  it('refuses the challenge of another host an anonymous request was redirected to; that host gets nothing', async () => {
    proxy.rules.push({ path: /manifests\//, fault: { kind: 'redirect', location: manifestRedirect() } });
    const error = await client.resolve(ref).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'Unauthorized', host: front.host });
    expect(proxy.seen.map((s) => s.authorization)).toEqual([undefined]);
    // The other host saw the redirected request, without credentials, and no token request at all.
    expect(challenger.seen).toEqual([
      expect.objectContaining({ path: '/v2/binding/payment/manifests/3.0.0', authorization: undefined }),
    ]);
    expectNoSecret(error, CREDENTIALS.password, BASIC.slice(6));
  });

  it('sends an authenticated request’s credentials to the registry only, not to the host it redirects to', async () => {
    proxy.rules.push(
      { path: /manifests\//, fault: { kind: 'require-basic', ...CREDENTIALS }, times: 1 },
      { path: /manifests\//, fault: { kind: 'redirect', location: manifestRedirect() } },
    );
    const error = await client.resolve(ref).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'Unauthorized' });
    expect(proxy.seen.map((s) => s.authorization)).toEqual([undefined, BASIC]);
    expect(challenger.seen.map((s) => [s.path, s.authorization])).toEqual([
      ['/v2/binding/payment/manifests/3.0.0', undefined],
    ]);

    // The foreign challenge was not taken for the registry's: its next answer is authenticated as before.
    proxy.rules.length = 0;
    proxy.rules.push({ path: /manifests\//, fault: { kind: 'require-basic', ...CREDENTIALS } });
    expect((await client.resolve(ref)).digest).toBe(chart.digest);
    expect(proxy.seen.at(-1)?.authorization).toBe(BASIC);
    expect(challenger.seen).toHaveLength(1);
    expectNoSecret(error, CREDENTIALS.password, BASIC.slice(6));
  });

  it('fetches a blob from a storage host by its presigned URL with no Authorization header at all', async () => {
    proxy.rules.push(
      { path: /blobs\//, fault: { kind: 'require-basic', ...CREDENTIALS }, times: 1 },
      {
        method: 'GET',
        path: /blobs\//,
        fault: {
          kind: 'redirect',
          location: `https://${storageFront.host}/bucket/${layer.digest}?${PRESIGNED}`,
        },
      },
    );
    const downloaded = await client.getBlob(ref, layer);
    expect(downloaded.equals(layerBytes)).toBe(true);
    expect(proxy.seen.filter((s) => s.authorization === BASIC)).toHaveLength(1);
    expect(storage.seen).toEqual([
      expect.objectContaining({ path: `/bucket/${layer.digest}?${PRESIGNED}`, authorization: undefined }),
    ]);
  });

  it('refuses a token realm that downgrades the HTTPS registry to plain HTTP, even on its own host name', async () => {
    proxy.rules.push({
      method: 'HEAD',
      path: /manifests\//,
      fault: {
        kind: 'status',
        status: 401,
        headers: { 'www-authenticate': `Bearer realm="http://${plainRealm.host}/token",service="registry"` },
      },
    });
    // plainRealm listens on 127.0.0.1, the registry's own host name.
    expect(plainRealm.host.split(':')[0]).toBe(front.host.split(':')[0]);
    const error = await client.resolve(ref).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'Unauthorized' });
    expect(String(error)).toMatch(/refusing token realm http:\/\/127\.0\.0\.1:\d+ over plain HTTP/);
    expect(plainRealm.seen).toEqual([]);
    expect(events.map((e) => e.method)).toEqual(['HEAD']);
  });

  it('refuses a redirect whose URL carries userinfo, and never echoes it', async () => {
    proxy.rules.push({
      path: /manifests\//,
      fault: { kind: 'redirect', location: `https://thief:stolen-Pa55@${challengerFront.host}/x` },
    });
    const error = await client.resolve(ref).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'InvalidResponse' });
    expect(challenger.seen).toEqual([]);
    expectNoSecret(error, 'stolen-Pa55');
  });
});

describe('a Bearer token stays with its origin (distribution + token server over TLS)', () => {
  const USER = { username: 'binder', password: `tok-${Math.random().toString(36).slice(2)}` };
  let supervisor: ProcessSupervisor;
  let auth: TokenAuthRegistry;
  let proxy: FaultProxy;
  let front: Front;
  let otherName: FaultProxy;
  let otherNameFront: Front;
  let storage: HttpTestServer;
  let storageFront: Front;
  let chart: PushedArtifact;
  let ref: OciReference;
  let caPem: string;
  const clients: RegistryClient[] = [];

  const newClient = (): RegistryClient => {
    const client = new RegistryClient(
      new RegistryTransport({
        credentials: new Map([[front.host, { kind: 'basic', ...USER }]]),
        hostOptions: (host) => (host === front.host ? { caPem } : {}),
        maxRetries: 0,
      }),
    );
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    const logDir = join(env.runDir, 'credential-binding');
    await mkdir(logDir, { recursive: true });
    supervisor = new ProcessSupervisor(logDir);
    const pki = join(env.runDir, 'registry-pki');
    const tls = await serving();
    caPem = await readFile(env.registryCaFile, 'utf8');
    auth = await startTokenAuthRegistry(supervisor, logDir, {
      name: 'distribution-binding',
      tls: {
        serving: {
          certFile: join(pki, 'registry.crt'),
          keyFile: join(pki, 'registry.key'),
          certPem: tls.cert.toString(),
        },
        caFile: env.registryCaFile,
      },
      user: USER,
    });
    const home = await createToolHome(env);
    const config = join(home.env.DOCKER_CONFIG ?? '', 'config.json');
    const docker = JSON.parse(await readFile(config, 'utf8')) as { auths: Record<string, unknown> };
    docker.auths[auth.registry.host] = {
      auth: Buffer.from(`${USER.username}:${USER.password}`).toString('base64'),
    };
    await writeFile(config, JSON.stringify(docker));
    chart = await pushChart(
      home,
      auth.registry,
      `${USER.username}/binding`,
      await packageChart(home, home.dir, { version: '4.0.0' }),
    );
    // The registry as tagguard sees it, and the same registry under another name and port: a host that
    // would accept the registry's token if it were sent there.
    proxy = await startFaultProxy(auth.registry.host, { upstreamCa: caPem });
    front = await startTlsFront(proxy.host, tls);
    otherName = await startFaultProxy(auth.registry.host, { upstreamCa: caPem });
    otherNameFront = await startTlsFront(otherName.host, tls, 'localhost');
    storage = await startBlobHost(() => undefined);
    storageFront = await startTlsFront(storage.host, tls, 'localhost');
    ref = parseReference(`${front.host}/${USER.username}/binding/payment:4.0.0`);
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    for (const server of [front, otherNameFront, storageFront, proxy, otherName, storage])
      await server?.close();
    await supervisor?.stopAll();
  });

  it('never sends the cached token, nor the credentials, to another origin the registry redirects to', async () => {
    const client = newClient();
    const before = await auth.tokenServer.issuedTokens();
    expect((await client.resolve(ref)).digest).toBe(chart.digest);
    expect(await auth.tokenServer.issuedTokens()).toBe(before + 1);
    const bearer = proxy.seen.find((s) => s.authorization?.startsWith('Bearer '))?.authorization;
    expect(bearer).toBeDefined();

    proxy.rules.push({
      method: 'GET',
      path: /manifests\//,
      fault: {
        kind: 'redirect',
        location: `https://${otherNameFront.host}/v2/${USER.username}/binding/payment/manifests/${chart.digest}`,
      },
    });
    const error = await client.getManifest(ref, chart.digest).catch((e: unknown) => e);
    // The other name answers 401 with the real token server's challenge: another origin's, so refused.
    expect(error).toMatchObject({ code: 'Unauthorized', host: front.host });
    expect(otherName.seen.length).toBeGreaterThan(0);
    expect(otherName.seen.map((s) => s.authorization)).toEqual(otherName.seen.map(() => undefined));
    expect(await auth.tokenServer.issuedTokens()).toBe(before + 1);
    expectNoSecret(error, USER.password, bearer?.slice(7) ?? '<none>');
  });

  it('sends a blob redirected to a storage host neither the token nor the credentials', async () => {
    proxy.rules.length = 0;
    const client = newClient();
    const manifest = await client.getManifest(ref, chart.digest);
    if (manifest.manifest.kind !== 'manifest' || !manifest.manifest.layers[0]) throw new Error('no layer');
    const layer = manifest.manifest.layers[0];
    proxy.rules.push({
      method: 'GET',
      path: /blobs\//,
      fault: {
        kind: 'redirect',
        location: `https://${storageFront.host}/bucket/${layer.digest}?${PRESIGNED}`,
      },
    });
    // The storage host has no such object (404): what matters is what it was sent.
    await expect(client.getBlob(ref, layer)).rejects.toMatchObject({ code: 'NotFound' });
    expect(proxy.seen.at(-1)?.authorization).toMatch(/^Bearer /);
    expect(storage.seen).toEqual([
      expect.objectContaining({ path: `/bucket/${layer.digest}?${PRESIGNED}`, authorization: undefined }),
    ]);
  });
});

describe('token realms of a plain-HTTP registry (olareg, configured insecure)', () => {
  let proxy: FaultProxy;
  let realmHost: HttpTestServer;
  let ref: OciReference;
  let chart: PushedArtifact;
  const clients: RegistryClient[] = [];

  beforeAll(async () => {
    const home = await createToolHome(env);
    const upstream = env.registries.referrers;
    chart = await pushChart(
      home,
      upstream,
      'binding-plain',
      await packageChart(home, home.dir, { version: '5.0.0' }),
    );
    proxy = await startFaultProxy(upstream.host);
    realmHost = await startChallengingHost(() => 'unused');
    ref = parseReference(`${proxy.host}/binding-plain/payment:5.0.0`);
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await proxy?.close();
    await realmHost?.close();
  });

  const resolveWithRealm = async (realm: string) => {
    proxy.rules.length = 0;
    proxy.seen.length = 0;
    realmHost.seen.length = 0;
    proxy.rules.push({
      method: 'HEAD',
      path: /manifests\//,
      fault: {
        kind: 'status',
        status: 401,
        headers: { 'www-authenticate': `Bearer realm="${realm}",service="s"` },
      },
      times: 1,
    });
    const client = new RegistryClient(
      new RegistryTransport({
        credentials: new Map([[proxy.host, { kind: 'basic', ...CREDENTIALS }]]),
        hostOptions: () => ({ plainHttp: true }),
        maxRetries: 0,
      }),
    );
    clients.push(client);
    return client.resolve(ref);
  };

  it('sends the credentials to a realm on the registry’s own host name', async () => {
    const port = realmHost.host.split(':')[1] ?? '';
    expect((await resolveWithRealm(`http://127.0.0.1:${port}/token`)).digest).toBe(chart.digest);
    expect(realmHost.seen.map((s) => [s.path.split('?')[0], s.authorization])).toEqual([['/token', BASIC]]);
    expect(proxy.seen.at(-1)?.authorization).toBe('Bearer token-of-another-host');
  });

  it('asks a realm on another host name anonymously: the credentials stay home', async () => {
    const port = realmHost.host.split(':')[1] ?? '';
    expect((await resolveWithRealm(`http://localhost:${port}/token`)).digest).toBe(chart.digest);
    expect(realmHost.seen.map((s) => [s.path.split('?')[0], s.authorization])).toEqual([
      ['/token', undefined],
    ]);
    expect(proxy.seen.some((s) => s.authorization === BASIC)).toBe(false);
  });
});
