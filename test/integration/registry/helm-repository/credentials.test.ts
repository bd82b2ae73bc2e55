// Where credentials go: basic auth and the TLS client certificate reach the repository's own origin (scheme,
// host, port) only, across redirects too, unless passCredentials. Two real nginx servers with TLS tell from
// their access logs what each request carried; the real helm is run against the same servers beside it.
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessSupervisor } from '../../../env/processes.ts';
import { startNginx, type AccessEntry, type NginxServer } from '../../../env/nginx.ts';
import { createCA, issueCertificate, type KeyPair } from '../../../env/pki.ts';
import {
  HelmRepositoryClient,
  type HelmRepositoryOptions,
} from '../../../../src/registry/helm-repository/helm-repository-client.ts';
import { isRegistryError } from '../../../../src/registry/errors.ts';
import { createHelmWorkspace, type HelmWorkspace } from './helm-repo-fixture.ts';

const USER = 'alice';
const PASSWORD = 's3cret-pass';

let base: string;
let supervisor: ProcessSupervisor;
let ws: HelmWorkspace;
let ca: KeyPair;
let client: KeyPair;
/** The repository: TLS, basic auth, asks for (does not require) a client certificate, redirects some paths. */
let repo: NginxServer;
/** Another origin: where absolute chart URLs and redirects lead. */
let other: NginxServer;
/** Plain HTTP: a downgrade target. */
let plain: NginxServer;
/** Requires a client certificate signed by the test CA. */
let mtls: NginxServer;

const rejection = async (work: Promise<unknown>): Promise<unknown> =>
  work.then(
    () => undefined,
    (error: unknown) => error,
  );

/** The requests a server logged while `work` ran. */
const logged = async (server: NginxServer, work: () => Promise<unknown>): Promise<AccessEntry[]> => {
  const before = (await server.accessLog()).length;
  await work();
  return (await server.accessLog()).slice(before);
};

const newClient = async (
  url: string,
  options: Partial<HelmRepositoryOptions> = {},
): Promise<HelmRepositoryClient> =>
  new HelmRepositoryClient(url, {
    caPem: ca.certPem,
    credentials: {
      username: USER,
      password: PASSWORD,
      certPem: client.certPem,
      keyPem: await readFile(client.keyFile, 'utf8'),
    },
    ...options,
  });

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'tg-nginx-cred-'));
  supervisor = new ProcessSupervisor(base);
  ws = await createHelmWorkspace();
  ca = await createCA(base, 'ca');
  const serving = await issueCertificate(ca, base, 'serving', {
    subject: '/CN=127.0.0.1',
    usage: 'server',
    ipAddresses: ['127.0.0.1'],
    dnsNames: ['localhost'],
  });
  client = await issueCertificate(ca, base, 'client', { subject: '/CN=tagguard-client', usage: 'client' });
  const tls = { serving, caFile: ca.certFile };
  const a = join(base, 'a');
  const b = join(base, 'b');
  other = await startNginx(supervisor, base, {
    name: 'nginx-other',
    root: b,
    tls,
    askClientCertificate: true,
  });
  plain = await startNginx(supervisor, base, { name: 'nginx-plain', root: b });
  repo = await startNginx(supervisor, base, {
    name: 'nginx-repo',
    root: a,
    tls,
    basicAuth: { username: USER, password: PASSWORD },
    askClientCertificate: true,
    redirects: [
      { from: '/redir/ledger', to: other.url },
      { from: '/down/ledger', to: plain.url },
    ],
  });
  mtls = await startNginx(supervisor, base, { name: 'nginx-mtls', root: a, tls, clientCaFile: ca.certFile });

  // /abs: an index (helm repo index --url) whose chart URLs are absolute, on the other server.
  await ws.packageChart(join(b, 'abs'), 'payment', '1.0.0');
  await ws.index(join(b, 'abs'), `${other.url}/abs`);
  await mkdir(join(a, 'abs'), { recursive: true });
  await copyFile(join(b, 'abs', 'index.yaml'), join(a, 'abs', 'index.yaml'));
  // /redir: relative chart URLs (helm repo index without --url); the repository redirects the archive away.
  await ws.packageChart(join(a, 'redir'), 'ledger', '0.1.0');
  await ws.index(join(a, 'redir'));
  await mkdir(join(b, 'redir'), { recursive: true });
  await copyFile(join(a, 'redir', 'ledger-0.1.0.tgz'), join(b, 'redir', 'ledger-0.1.0.tgz'));
  await rm(join(a, 'redir', 'ledger-0.1.0.tgz'));
  // /down: the same, redirected to plain HTTP.
  await mkdir(join(a, 'down'), { recursive: true });
  await copyFile(join(a, 'redir', 'index.yaml'), join(a, 'down', 'index.yaml'));
  await mkdir(join(b, 'down'), { recursive: true });
  await copyFile(join(b, 'redir', 'ledger-0.1.0.tgz'), join(b, 'down', 'ledger-0.1.0.tgz'));
});

afterAll(async () => {
  await supervisor?.stopAll();
  await ws?.remove();
  await rm(base, { recursive: true, force: true });
});

describe('credentials of an HTTP Helm repository', () => {
  it('sends basic auth and the client certificate to the repository itself', async () => {
    const c = await newClient(`${repo.url}/abs`);
    try {
      const log = await logged(repo, () => c.fetchIndex());
      expect(log.map((e) => [e.uri, e.status, e.user, e.clientCertificate])).toEqual([
        ['/abs/index.yaml', 200, USER, 'CN=tagguard-client'],
      ]);
    } finally {
      await c.close();
    }
  });

  it('answers a wrong password with Unauthorized, naming the host and not the password', async () => {
    const c = new HelmRepositoryClient(`${repo.url}/abs`, {
      caPem: ca.certPem,
      credentials: { username: USER, password: 'wrong-one' },
    });
    try {
      const error = await rejection(c.fetchIndex());
      expect(isRegistryError(error, 'Unauthorized')).toBe(true);
      expect((error as Error).message).toContain(`127.0.0.1:${repo.port}`);
      expect((error as Error).message).not.toContain('wrong-one');
    } finally {
      await c.close();
    }
  });

  it.each([
    [false, '', ''],
    [true, USER, 'CN=tagguard-client'],
  ])(
    'an absolute chart URL on another origin, passCredentials %s: it gets user %j, certificate %j',
    async (pass, user, cert) => {
      const c = await newClient(`${repo.url}/abs`, { passCredentials: pass });
      try {
        const { snapshot } = await c.fetchIndex();
        const entry = snapshot.index.version('payment', '1.0.0');
        expect(c.chartUrl(entry).origin).toBe(other.url);
        const log = await logged(other, () => c.fetchChart(entry));
        expect(log.map((e) => [e.uri, e.status, e.user, e.clientCertificate])).toEqual([
          ['/abs/payment-1.0.0.tgz', 200, user, cert],
        ]);
      } finally {
        await c.close();
      }
    },
  );

  it.each([
    [false, '', ''],
    [true, USER, 'CN=tagguard-client'],
  ])(
    'a redirect to another origin, passCredentials %s: it gets user %j, certificate %j',
    async (pass, user, cert) => {
      const c = await newClient(`${repo.url}/redir`, { passCredentials: pass });
      try {
        const { snapshot } = await c.fetchIndex();
        const entry = snapshot.index.version('ledger', '0.1.0');
        let repoLog: AccessEntry[] = [];
        const otherLog = await logged(other, async () => {
          repoLog = await logged(repo, () => c.fetchChart(entry));
        });
        expect(repoLog.map((e) => [e.uri, e.status, e.user])).toEqual([
          ['/redir/ledger-0.1.0.tgz', 302, USER],
        ]);
        expect(otherLog.map((e) => [e.uri, e.status, e.user, e.clientCertificate])).toEqual([
          ['/redir/ledger-0.1.0.tgz', 200, user, cert],
        ]);
      } finally {
        await c.close();
      }
    },
  );

  it('refuses a redirect from https to http, even with passCredentials', async () => {
    const c = await newClient(`${repo.url}/down`, { passCredentials: true });
    try {
      const { snapshot } = await c.fetchIndex();
      const log = await logged(plain, async () => {
        const error = await rejection(c.fetchChart(snapshot.index.version('ledger', '0.1.0')));
        expect(isRegistryError(error, 'InvalidResponse')).toBe(true);
      });
      expect(log).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it('helm pull --repo beside it: sends basic auth and the client certificate to the chart host', async () => {
    const pull = async (extra: string[]) => {
      const dest = join(ws.dir, `pull-${Math.random().toString(36).slice(2, 8)}`);
      await mkdir(dest, { recursive: true });
      await ws.helm([
        'pull',
        '--repo',
        `${repo.url}/abs`,
        'payment',
        '--version',
        '1.0.0',
        '--username',
        USER,
        '--password',
        PASSWORD,
        '--ca-file',
        ca.certFile,
        '-d',
        dest,
        ...extra,
      ]);
    };
    // With --repo, helm's downloader makes the absolute chart URL its getter URL, so the host check in its
    // HTTP getter passes and basic auth goes along even without --pass-credentials. Flux keeps the
    // repository URL as the getter URL (credentials stay home), as tagguard does.
    expect((await logged(other, () => pull([]))).map((e) => e.user)).toEqual([USER]);
    expect((await logged(other, () => pull(['--pass-credentials']))).map((e) => e.user)).toEqual([USER]);
    // helm presents the client certificate to every host its transport reaches; tagguard only to the
    // repository's origin (see the absolute-URL case above).
    const withCert = await logged(other, () =>
      pull(['--cert-file', client.certFile, '--key-file', client.keyFile]),
    );
    expect(withCert.map((e) => e.clientCertificate)).toEqual(['CN=tagguard-client']);
  });

  it('reads a repository that requires a client certificate only with it', async () => {
    const withCert = await newClient(mtls.url.concat('/abs'));
    const without = new HelmRepositoryClient(`${mtls.url}/abs`, { caPem: ca.certPem });
    const untrusted = new HelmRepositoryClient(`${mtls.url}/abs`, {
      credentials: { certPem: client.certPem, keyPem: await readFile(client.keyFile, 'utf8') },
    });
    try {
      expect((await withCert.fetchIndex()).snapshot.index.chartNames).toEqual(['payment']);
      const error = await rejection(without.fetchIndex());
      expect(isRegistryError(error)).toBe(true);
      expect((error as { status?: number }).status).toBe(400);
      expect(isRegistryError(await rejection(untrusted.fetchIndex()), 'TlsFailure')).toBe(true);
    } finally {
      await Promise.all([withCert.close(), without.close(), untrusted.close()]);
    }
  });
});
