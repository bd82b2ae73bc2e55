// Bearer token authentication end to end: a distribution registry with `auth: token` and distribution's
// token-server (test/env/token-auth.ts), both on TLS with the test CA. Anonymous pulls are refused, Basic
// credentials and a docker-login identity token (refresh token) are exchanged for tokens, tokens are cached
// per scope until they expire, and a token the registry stops accepting is replaced.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RegistryClient } from '../../../src/registry/client.ts';
import { RegistryTransport, type RegistryRequestEvent } from '../../../src/registry/transport.ts';
import { parseDockerConfig, type CredentialStore } from '../../../src/registry/credentials.ts';
import { parseReference, type OciReference } from '../../../src/registry/reference.ts';
import { packageChart } from '../../env/charts.ts';
import { pushChart, type PushedArtifact } from '../../env/oci.ts';
import { ProcessSupervisor } from '../../env/processes.ts';
import { startTokenAuthRegistry, type TokenAuthRegistry } from '../../env/token-auth.ts';
import { createToolHome, type ToolHome } from '../../env/tool-home.ts';

const env = inject('testEnv');
const USER = { username: 'tagguard', password: `pw-${Math.random().toString(36).slice(2)}` };

describe('Bearer token authentication against distribution + token-server', () => {
  let supervisor: ProcessSupervisor;
  let auth: TokenAuthRegistry;
  let home: ToolHome;
  let caPem: string;
  let payment: PushedArtifact;
  let billing: PushedArtifact;
  const clients: RegistryClient[] = [];

  const newClient = (
    credentials: CredentialStore,
    options: { now?: () => number } = {},
  ): { client: RegistryClient; events: RegistryRequestEvent[] } => {
    const events: RegistryRequestEvent[] = [];
    const transport = new RegistryTransport({
      credentials,
      hostOptions: () => ({ caPem }),
      onRequest: (e) => events.push(e),
      retryBaseMs: 10,
      ...(options.now ? { now: options.now } : {}),
    });
    const client = new RegistryClient(transport);
    clients.push(client);
    return { client, events };
  };
  const basic = (): CredentialStore => new Map([[auth.registry.host, { kind: 'basic', ...USER }]]);
  const refOf = (artifact: PushedArtifact): OciReference =>
    parseReference(`${artifact.repository}:${artifact.tag}`);

  beforeAll(async () => {
    const logDir = join(env.runDir, 'bearer');
    await mkdir(logDir, { recursive: true });
    supervisor = new ProcessSupervisor(logDir);
    // The environment's registry serving certificate (127.0.0.1) serves the token server too.
    const pki = join(env.runDir, 'registry-pki');
    const serving = {
      certFile: join(pki, 'registry.crt'),
      keyFile: join(pki, 'registry.key'),
      certPem: await readFile(join(pki, 'registry.crt'), 'utf8'),
    };
    caPem = await readFile(env.registryCaFile, 'utf8');
    auth = await startTokenAuthRegistry(supervisor, logDir, {
      name: 'distribution-token',
      tls: { serving, caFile: env.registryCaFile },
      user: USER,
    });
    home = await createToolHome(env);
    const config = join(home.env.DOCKER_CONFIG ?? '', 'config.json');
    const docker = JSON.parse(await readFile(config, 'utf8')) as { auths: Record<string, unknown> };
    docker.auths[auth.registry.host] = {
      auth: Buffer.from(`${USER.username}:${USER.password}`).toString('base64'),
    };
    await writeFile(config, JSON.stringify(docker));
    // The token server grants a user the repositories under "<username>/" only.
    payment = await pushChart(
      home,
      auth.registry,
      `${USER.username}/bearer`,
      await packageChart(home, home.dir, { name: 'payment', version: '1.0.0' }),
    );
    billing = await pushChart(
      home,
      auth.registry,
      `${USER.username}/bearer`,
      await packageChart(home, home.dir, { name: 'billing', version: '2.0.0' }),
    );
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await supervisor?.stopAll();
  });

  it('refuses an anonymous pull: the token server grants nothing without credentials', async () => {
    const { client } = newClient(new Map());
    await expect(client.resolve(refOf(payment))).rejects.toMatchObject({ code: 'Unauthorized' });
  });

  it('refuses wrong Basic credentials at the token server', async () => {
    const { client } = newClient(
      new Map([[auth.registry.host, { kind: 'basic', username: USER.username, password: 'wrong' }]]),
    );
    await expect(client.resolve(refOf(payment))).rejects.toMatchObject({ code: 'Unauthorized' });
  });

  it('exchanges Basic credentials for a token and caches it per repository scope', async () => {
    const { client, events } = newClient(basic());
    const before = await auth.tokenServer.issuedTokens();

    const resolved = await client.resolve(refOf(payment));
    expect(resolved.digest).toBe(payment.digest);
    await client.getManifest(refOf(payment), payment.digest);
    expect((await client.resolve(refOf(payment))).digest).toBe(payment.digest);
    expect(await auth.tokenServer.issuedTokens()).toBe(before + 1);
    // One challenge, then the token is sent up front.
    expect(events.filter((e) => e.code === '401')).toHaveLength(1);

    // Another repository is another scope: one more token, then cached as well.
    expect((await client.resolve(refOf(billing))).digest).toBe(billing.digest);
    expect((await client.resolve(refOf(billing))).digest).toBe(billing.digest);
    expect(await auth.tokenServer.issuedTokens()).toBe(before + 2);
  });

  it('pulls with an identitytoken from a docker config.json (OAuth2 refresh-token grant)', async () => {
    const refreshToken = await auth.tokenServer.refreshToken(USER.username, USER.password, 'docker');
    const credentials = parseDockerConfig(
      JSON.stringify({
        auths: {
          [auth.registry.host]: {
            auth: Buffer.from('<token>:').toString('base64'),
            identitytoken: refreshToken,
          },
        },
      }),
      'test config.json',
    );
    expect(credentials.get(auth.registry.host)?.kind).toBe('identity-token');
    const { client } = newClient(credentials);
    const before = await auth.tokenServer.issuedTokens();
    const manifest = await client.getManifest(refOf(payment), payment.digest);
    expect(manifest.digest).toBe(payment.digest);
    expect(await auth.tokenServer.issuedTokens()).toBe(before + 1);

    const forged = parseDockerConfig(
      JSON.stringify({ auths: { [auth.registry.host]: { identitytoken: 'not-a-refresh-token' } } }),
      'forged config.json',
    );
    await expect(newClient(forged).client.resolve(refOf(payment))).rejects.toMatchObject({
      code: 'Unauthorized',
    });
  });

  it('fetches a new token once the cached one reaches its expires_in', async () => {
    // The token server issues 15-minute tokens (expires_in 900); the client's clock is moved instead of
    // waiting.
    let offsetMs = 0;
    const { client } = newClient(basic(), { now: () => Date.now() + offsetMs });
    const before = await auth.tokenServer.issuedTokens();
    await client.resolve(refOf(payment));
    offsetMs = 5 * 60_000;
    await client.resolve(refOf(payment));
    expect(await auth.tokenServer.issuedTokens()).toBe(before + 1);
    offsetMs = 15 * 60_000;
    expect((await client.resolve(refOf(payment))).digest).toBe(payment.digest);
    expect(await auth.tokenServer.issuedTokens()).toBe(before + 2);
  });

  it('replaces a cached token that the registry no longer accepts', async () => {
    const { client, events } = newClient(basic());
    await client.resolve(refOf(payment));
    expect(events.filter((e) => e.code === '401')).toHaveLength(1);

    // New signing key: the registry now rejects the token the client holds (as it would an expired one).
    await auth.rotateSigningKey();
    const before = await auth.tokenServer.issuedTokens();
    expect((await client.resolve(refOf(payment))).digest).toBe(payment.digest);
    expect(events.filter((e) => e.code === '401')).toHaveLength(2);
    expect((await auth.tokenServer.issuedTokens()) - before).toBe(1);
  });
});
