// A registry behind Docker token authentication: distribution's token-server (htpasswd users, refresh
// tokens for `docker login`-style identity tokens, 15-minute tokens) over TLS, and a distribution registry
// (`auth: token`) that trusts its signing key through a JWKS file. The token server grants a user the
// repositories under "<username>/" only, and nothing to anonymous clients. Started by the tests that need
// it, not by startTestEnv.
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { freePort } from './ports.ts';
import { probe } from './https-get.ts';
import { toolPath } from './paths.ts';
import { waitFor, type ProcessSupervisor, type ServiceHandle } from './processes.ts';
import { startDistributionService, type RegistryEndpoint } from './registries.ts';
import type { KeyPair } from './pki.ts';

export interface TokenServer {
  /** host:port of the token server. */
  host: string;
  /** The token endpoint, as registries announce it in their Bearer challenge. */
  realm: string;
  service: string;
  issuer: string;
  /** JWKS with the current signing key, for the registry. */
  jwksFile: string;
  handle: ServiceHandle;
  /** Tokens issued so far (GET and POST), read from the server's log. */
  issuedTokens(): Promise<number>;
  /** A refresh token for the user, as `docker login` obtains one (offline access). */
  refreshToken(username: string, password: string, clientId: string): Promise<string>;
}

export interface TokenAuthRegistry {
  registry: RegistryEndpoint;
  tokenServer: TokenServer;
  /**
   * Restarts the token server with a new signing key and the registry (same port and storage) trusting only
   * that key: every token issued before is rejected from then on.
   */
  rotateSigningKey(): Promise<void>;
}

/** libtrust's key ID (the "kid" distribution's token-server puts in its JWK): base32 of 240 bits of sha256(SPKI). */
const libtrustKeyId = (spkiDer: Buffer): string => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bytes = createHash('sha256').update(spkiDer).digest().subarray(0, 30);
  let bits = '';
  for (const byte of bytes) bits += byte.toString(2).padStart(8, '0');
  let encoded = '';
  for (let i = 0; i < bits.length; i += 5) encoded += alphabet[parseInt(bits.slice(i, i + 5), 2)];
  return (encoded.match(/.{4}/g) ?? []).join(':');
};

/** A fresh P-256 signing key for the token server, and the JWKS that lets a registry trust it. */
const writeSigningKey = async (
  dir: string,
  generation: number,
): Promise<{ keyFile: string; jwksFile: string }> => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyFile = join(dir, `signing-${generation}.pem`);
  await writeFile(keyFile, privateKey.export({ format: 'pem', type: 'sec1' }), { mode: 0o600 });
  const publicKey = createPublicKey(privateKey);
  const kid = libtrustKeyId(publicKey.export({ format: 'der', type: 'spki' }));
  const jwksFile = join(dir, `jwks-${generation}.json`);
  await writeFile(jwksFile, JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid }] }));
  return { keyFile, jwksFile };
};

interface TokenServerOptions {
  name: string;
  tls: { serving: KeyPair; caFile: string };
  users: readonly { username: string; password: string }[];
  port?: number;
  generation?: number;
}

export const startTokenServer = async (
  supervisor: ProcessSupervisor,
  dir: string,
  options: TokenServerOptions,
): Promise<TokenServer> => {
  const base = join(dir, options.name);
  await mkdir(base, { recursive: true });
  const port = options.port ?? (await freePort());
  const host = `127.0.0.1:${port}`;
  const htpasswd = join(base, 'htpasswd');
  await writeFile(
    htpasswd,
    options.users.map((u) => `${u.username}:${bcrypt.hashSync(u.password, 10)}\n`).join(''),
  );
  const { keyFile, jwksFile } = await writeSigningKey(base, options.generation ?? 1);
  const service = 'tagguard-test-registry';
  const issuer = 'tagguard-test-token-server';
  const handle = supervisor.start(options.name, toolPath('token-server'), [
    `-addr=${host}`,
    `-realm=${options.name}`,
    `-passwd=${htpasswd}`,
    `-key=${keyFile}`,
    `-issuer=${issuer}`,
    `-tlscert=${options.tls.serving.certFile}`,
    `-tlskey=${options.tls.serving.keyFile}`,
  ]);
  const realm = `https://${host}/token/`;
  await waitFor(
    `${options.name} ${realm}`,
    async () => ((await probe(realm, { caFile: options.tls.caFile })).status === 401 ? true : undefined),
    { timeoutMs: 30_000, process: handle },
  );
  const ca = await readFile(options.tls.caFile);
  return {
    host,
    realm,
    service,
    issuer,
    jwksFile,
    handle,
    issuedTokens: async () =>
      (await readFile(handle.logFile, 'utf8'))
        .split('\n')
        .filter((line) => line.startsWith('time=') && /msg="(get|post) token complete"/.test(line)).length,
    refreshToken: async (username, password, clientId) => {
      // docker login's fallback: a GET with Basic credentials and offline_token=true (this server's
      // htpasswd backend has no OAuth2 password grant).
      const url = new URL(realm);
      url.searchParams.set('service', service);
      url.searchParams.set('client_id', clientId);
      url.searchParams.set('offline_token', 'true');
      const authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
      const text = await new Promise<string>((resolveBody, reject) => {
        const req = request(url, { method: 'GET', ca, headers: { authorization } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolveBody(Buffer.concat(chunks).toString()));
        });
        req.on('error', reject);
        req.end();
      });
      const token = (JSON.parse(text) as { refresh_token?: string }).refresh_token;
      if (!token) throw new Error(`token server gave no refresh token: ${text}`);
      return token;
    },
  };
};

/**
 * Starts a token server and a distribution registry that uses it, both on TLS with the given serving
 * certificate. `user` may push and pull under "<user.username>/".
 */
export const startTokenAuthRegistry = async (
  supervisor: ProcessSupervisor,
  dir: string,
  options: {
    name: string;
    tls: { serving: KeyPair; caFile: string };
    user: { username: string; password: string };
  },
): Promise<TokenAuthRegistry> => {
  let generation = 1;
  let tokenServer = await startTokenServer(supervisor, dir, {
    name: `${options.name}-token-server`,
    tls: options.tls,
    users: [options.user],
    generation,
  });
  const registryOptions = (ts: TokenServer, port?: number) => ({
    name: options.name,
    tls: options.tls,
    auth: options.user,
    tokenAuth: { realm: ts.realm, service: ts.service, issuer: ts.issuer, jwksFile: ts.jwksFile },
    ...(port !== undefined ? { port } : {}),
  });
  const started = await startDistributionService(supervisor, dir, registryOptions(tokenServer));
  const registry = started.endpoint;
  let registryHandle = started.handle;
  const result: TokenAuthRegistry = {
    registry,
    tokenServer,
    rotateSigningKey: async () => {
      const tokenPort = Number(tokenServer.host.split(':')[1]);
      await Promise.all([tokenServer.handle.stop(), registryHandle.stop()]);
      generation++;
      tokenServer = await startTokenServer(supervisor, dir, {
        name: `${options.name}-token-server`,
        tls: options.tls,
        users: [options.user],
        port: tokenPort,
        generation,
      });
      result.tokenServer = tokenServer;
      const restarted = await startDistributionService(
        supervisor,
        dir,
        registryOptions(tokenServer, Number(registry.host.split(':')[1])),
      );
      registryHandle = restarted.handle;
    },
  };
  return result;
};
