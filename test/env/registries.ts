// Real OCI registries for tests, on loopback ports:
// - olareg: implements the OCI 1.1 referrers API (stands in for zot, whose module host the Go module
//   proxy here refuses; see README "Test environment");
// - distribution (CNCF registry v3): no referrers API, so clients must fall back to the tag schema;
//   optionally with TLS and htpasswd authentication.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { freePort } from './ports.ts';
import { probe } from './https-get.ts';
import { toolPath } from './paths.ts';
import { waitFor, type ProcessSupervisor, type ServiceHandle } from './processes.ts';
import type { KeyPair } from './pki.ts';

export type RegistryKind = 'olareg' | 'distribution';

export interface RegistryEndpoint {
  /** Name of this instance in the test environment, e.g. "olareg-tls". */
  name: string;
  kind: RegistryKind;
  /** host:port, as used in references. */
  host: string;
  /** True when the registry speaks plain HTTP. */
  plainHttp: boolean;
  /** The CA that signed the serving certificate, when TLS is on. */
  caFile?: string;
  /** Basic credentials, when authentication is on. */
  username?: string;
  password?: string;
  /** Whether the registry implements GET /v2/<name>/referrers/<digest>. */
  referrersApi: boolean;
}

export interface RegistryOptions {
  name: string;
  tls?: { serving: KeyPair; caFile: string };
  auth?: { username: string; password: string };
  /** Token authentication (distribution only): the token server's realm, service and issuer, and a JWKS
   * file with its signing key. `auth` then names the token server's user, for the clients. */
  tokenAuth?: { realm: string; service: string; issuer: string; jwksFile: string };
  /** A fixed port (a registry restarted in place); default: a free one. */
  port?: number;
  /** distribution only: `notifications.endpoints`, each sent every event with these headers. */
  notifications?: readonly { name: string; url: string; headers: Record<string, string> }[];
}

const waitForRegistry = (endpoint: RegistryEndpoint, handle: ServiceHandle): Promise<true> => {
  const scheme = endpoint.plainHttp ? 'http' : 'https';
  return waitFor(
    `${endpoint.name} /v2/`,
    async () => {
      const res = await probe(
        `${scheme}://${endpoint.host}/v2/`,
        endpoint.caFile ? { caFile: endpoint.caFile } : {},
      );
      const expected = endpoint.username ? 401 : 200;
      return res.status === expected ? true : undefined;
    },
    { timeoutMs: 30_000, process: handle },
  );
};

export const startOlareg = async (
  supervisor: ProcessSupervisor,
  dir: string,
  options: RegistryOptions,
): Promise<RegistryEndpoint> => {
  if (options.auth)
    throw new Error('olareg has no authentication; use distribution for the authenticated instance');
  const port = await freePort();
  const storage = join(dir, options.name);
  await mkdir(storage, { recursive: true });
  const args = [
    'serve',
    '--addr=127.0.0.1',
    `--port=${port}`,
    `--dir=${storage}`,
    '--api-delete=true',
    '-v',
    'info',
  ];
  if (options.tls)
    args.push(`--tls-cert=${options.tls.serving.certFile}`, `--tls-key=${options.tls.serving.keyFile}`);
  const handle = supervisor.start(options.name, toolPath('olareg'), args);
  const endpoint: RegistryEndpoint = {
    name: options.name,
    kind: 'olareg',
    host: `127.0.0.1:${port}`,
    plainHttp: !options.tls,
    ...(options.tls ? { caFile: options.tls.caFile } : {}),
    referrersApi: true,
  };
  await waitForRegistry(endpoint, handle);
  return endpoint;
};

export const startDistribution = async (
  supervisor: ProcessSupervisor,
  dir: string,
  options: RegistryOptions,
): Promise<RegistryEndpoint> => (await startDistributionService(supervisor, dir, options)).endpoint;

/** As startDistribution, with the process handle (to stop or restart the registry). */
export const startDistributionService = async (
  supervisor: ProcessSupervisor,
  dir: string,
  options: RegistryOptions,
): Promise<{ endpoint: RegistryEndpoint; handle: ServiceHandle }> => {
  const port = options.port ?? (await freePort());
  const base = join(dir, options.name);
  await mkdir(join(base, 'storage'), { recursive: true });
  const config: string[] = [
    'version: 0.1',
    'log: {level: info}',
    'storage:',
    `  filesystem: {rootdirectory: ${join(base, 'storage')}}`,
    '  delete: {enabled: true}',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    `  secret: ${randomBytes(16).toString('hex')}`,
  ];
  if (options.tls) {
    config.push(`  tls: {certificate: ${options.tls.serving.certFile}, key: ${options.tls.serving.keyFile}}`);
  }
  if (options.tokenAuth) {
    const { realm, service, issuer, jwksFile } = options.tokenAuth;
    config.push(
      'auth:',
      `  token: {realm: "${realm}", service: ${service}, issuer: ${issuer}, jwks: ${jwksFile}}`,
    );
  } else if (options.auth) {
    const htpasswd = join(base, 'htpasswd');
    await writeFile(htpasswd, `${options.auth.username}:${bcrypt.hashSync(options.auth.password, 10)}\n`);
    config.push('auth:', `  htpasswd: {realm: tagguard-test, path: ${htpasswd}}`);
  }
  if (options.notifications?.length) {
    config.push('notifications:', '  endpoints:');
    for (const endpoint of options.notifications) {
      const headers = Object.entries(endpoint.headers)
        .map(([name, value]) => `${name}: [${JSON.stringify(value)}]`)
        .join(', ');
      // Short backoff: a refused delivery is retried soon (the registry retries until it gets a 2xx/3xx).
      config.push(
        `    - {name: ${endpoint.name}, url: "${endpoint.url}", headers: {${headers}}, timeout: 2s, threshold: 3, backoff: 500ms}`,
      );
    }
  }
  const configFile = join(base, 'config.yml');
  await writeFile(configFile, `${config.join('\n')}\n`);
  const handle = supervisor.start(options.name, toolPath('registry'), ['serve', configFile], {
    // distribution v3 exports traces over OTLP by default; there is no collector here.
    env: { OTEL_TRACES_EXPORTER: 'none', OTEL_SDK_DISABLED: 'true' },
  });
  const endpoint: RegistryEndpoint = {
    name: options.name,
    kind: 'distribution',
    host: `127.0.0.1:${port}`,
    plainHttp: !options.tls,
    ...(options.tls ? { caFile: options.tls.caFile } : {}),
    ...(options.auth ? { username: options.auth.username, password: options.auth.password } : {}),
    referrersApi: false,
  };
  await waitForRegistry(endpoint, handle);
  return { endpoint, handle };
};
