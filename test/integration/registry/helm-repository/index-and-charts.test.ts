// tagguard's HTTP Helm repository client against a real nginx serving charts packaged and signed by the real
// helm, indexed by the real `helm repo index`: polling with ETag, the caps, a re-published version, an
// archive swapped under an unchanged index, a missing .prov, and hostile indexes — cross-checked against
// what the real helm does with the same server.
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessSupervisor } from '../../../env/processes.ts';
import { startNginx, type NginxServer } from '../../../env/nginx.ts';
import { ToolError } from '../../../env/run-tool.ts';
import { HelmRepositoryClient } from '../../../../src/registry/helm-repository/helm-repository-client.ts';
import { isHelmRepositoryError } from '../../../../src/registry/helm-repository/errors.ts';
import { isRegistryError } from '../../../../src/registry/errors.ts';
import { createHelmWorkspace, sha256File, type HelmWorkspace } from './helm-repo-fixture.ts';

let base: string;
let supervisor: ProcessSupervisor;
let ws: HelmWorkspace;
let repo: string;
let server: NginxServer;
let client: HelmRepositoryClient;

/** helm's view of a repository: `helm repo add` + `helm search repo --versions`, as name@version lines. */
const helmVersions = async (url: string, name: string): Promise<string[]> => {
  await ws.helm(['repo', 'add', name, url, '--force-update']);
  const { stdout } = await ws.helm(['search', 'repo', `${name}/`, '--versions', '--devel', '-o', 'json']);
  return (JSON.parse(stdout) as { name: string; version: string }[])
    .map((r) => `${r.name}@${r.version}`)
    .sort();
};

const rejection = async (work: Promise<unknown>): Promise<unknown> =>
  work.then(
    () => undefined,
    (error: unknown) => error,
  );

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'tg-nginx-'));
  supervisor = new ProcessSupervisor(base);
  ws = await createHelmWorkspace();
  repo = join(base, 'www');
  await ws.packageChart(repo, 'payment', '1.0.0', { sign: true });
  await ws.packageChart(repo, 'payment', '1.1.0');
  await ws.packageChart(repo, 'ledger', '0.1.0', { sign: true });
  await ws.index(repo);
  server = await startNginx(supervisor, base, { name: 'nginx-charts', root: repo });
  client = new HelmRepositoryClient(server.url);
});

afterAll(async () => {
  await client?.close();
  await supervisor?.stopAll();
  await ws?.remove();
  await rm(base, { recursive: true, force: true });
});

describe('HTTP Helm repository served by nginx', () => {
  it('reads the index helm repo index wrote: the versions helm lists, with the archives SHA-256', async () => {
    const poll = await client.fetchIndex();
    expect(poll.changed).toBe(true);
    const index = poll.snapshot.index;
    const ours = index.chartNames.flatMap((n) => index.chart(n).map((e) => `${n}/${n}@${e.version}`)).sort();
    const helms = (await helmVersions(server.url, 'payment')).concat(
      await helmVersions(server.url, 'ledger'),
    );
    expect(ours.map((s) => s.split('/')[1]).sort()).toEqual(
      [...new Set(helms.map((s) => s.split('/')[1]))].sort(),
    );
    expect(index.version('payment', '1.0.0').digest).toBe(await sha256File(join(repo, 'payment-1.0.0.tgz')));
    expect(poll.snapshot.sha256).toBe(await sha256File(join(repo, 'index.yaml')));
    expect(poll.snapshot.etag).toMatch(/^"/);
  });

  it('polls with If-None-Match: 304, no body, the previous parse', async () => {
    const first = await client.fetchIndex();
    const before = (await server.accessLog()).length;
    const second = await client.fetchIndex(first.snapshot);
    expect(second).toMatchObject({ changed: false, bytesTransferred: 0 });
    expect(second.snapshot.index).toBe(first.snapshot.index);
    const log = (await server.accessLog()).slice(before);
    expect(log.map((e) => [e.uri, e.status, e.bytesSent])).toEqual([['/index.yaml', 304, 0]]);
  });

  it('stops reading an index larger than the cap, with TooLarge', async () => {
    const size = (await readFile(join(repo, 'index.yaml'))).length;
    const small = new HelmRepositoryClient(server.url, { maxIndexBytes: size - 1 });
    try {
      const error = await rejection(small.fetchIndex());
      expect(isRegistryError(error, 'TooLarge')).toBe(true);
    } finally {
      await small.close();
    }
  });

  it('downloads an archive whose SHA-256 equals the index digest, and its .prov', async () => {
    const { snapshot } = await client.fetchIndex();
    const entry = snapshot.index.version('payment', '1.0.0');
    const chart = await client.fetchChart(entry);
    expect(chart.digest).toBe(entry.digest);
    expect(chart.bytes.equals(await readFile(join(repo, 'payment-1.0.0.tgz')))).toBe(true);
    const prov = await client.fetchProvenance(entry);
    expect(prov.found).toBe(true);
    if (prov.found)
      expect(prov.bytes.equals(await readFile(join(repo, 'payment-1.0.0.tgz.prov')))).toBe(true);
  });

  it('answers a missing .prov as missing, not as an error (helm pull --verify fails on it)', async () => {
    const { snapshot } = await client.fetchIndex();
    const prov = await client.fetchProvenance(snapshot.index.version('payment', '1.1.0'));
    expect(prov).toMatchObject({ found: false });
    expect(prov.url.pathname).toBe('/payment-1.1.0.tgz.prov');
    const keyring = join(ws.dir, 'pub.gpg');
    await writeFile(keyring, await ws.gpg.exportPublic());
    const pull = async (version: string) => {
      await mkdir(join(ws.dir, `pull-${version}`), { recursive: true });
      return ws.helm([
        'pull',
        '--repo',
        server.url,
        'payment',
        '--version',
        version,
        '--verify',
        '--keyring',
        keyring,
        '-d',
        join(ws.dir, `pull-${version}`),
      ]);
    };
    await expect(pull('1.0.0')).resolves.toBeDefined();
    await expect(pull('1.1.0')).rejects.toThrow(/prov/);
  });

  it('sees a re-published version: same name and version, another digest in the new index', async () => {
    const before = await client.fetchIndex();
    const oldDigest = before.snapshot.index.version('payment', '1.1.0').digest;
    await ws.packageChart(repo, 'payment', '1.1.0', { note: 'republished' });
    await ws.index(repo);
    const after = await client.fetchIndex(before.snapshot);
    expect(after.changed).toBe(true);
    const entry = after.snapshot.index.version('payment', '1.1.0');
    expect(entry.digest).not.toBe(oldDigest);
    expect((await client.fetchChart(entry)).digest).toBe(entry.digest);
  });

  it('refuses an archive swapped under an unchanged index (ChartDigestMismatch); helm pull takes it', async () => {
    const { snapshot } = await client.fetchIndex();
    const entry = snapshot.index.version('ledger', '0.1.0');
    const swapped = await ws.packageChart(join(ws.dir, 'swap'), 'ledger', '0.1.0', { note: 'swapped' });
    await copyFile(swapped, join(repo, 'ledger-0.1.0.tgz'));
    const error = await rejection(client.fetchChart(entry));
    expect(isHelmRepositoryError(error, 'ChartDigestMismatch')).toBe(true);
    expect((error as Error).message).toContain(await sha256File(swapped));
    // helm (and Flux, which downloads through helm's getter) does not compare the archive with the index.
    await mkdir(join(ws.dir, 'pulled'), { recursive: true });
    await expect(
      ws.helm(['pull', '--repo', server.url, 'ledger', '--version', '0.1.0', '-d', join(ws.dir, 'pulled')]),
    ).resolves.toBeDefined();
  });

  it('refuses an index entry without a digest (ChartDigestMissing) before downloading', async () => {
    const dir = join(repo, 'nodigest');
    await mkdir(dir, { recursive: true });
    await copyFile(join(repo, 'payment-1.0.0.tgz'), join(dir, 'payment-1.0.0.tgz'));
    await writeFile(
      join(dir, 'index.yaml'),
      'apiVersion: v1\nentries:\n  payment:\n  - name: payment\n    version: 1.0.0\n    urls: [payment-1.0.0.tgz]\n',
    );
    const c = new HelmRepositoryClient(`${server.url}/nodigest`);
    try {
      const { snapshot } = await c.fetchIndex();
      const error = await rejection(c.fetchChart(snapshot.index.version('payment', '1.0.0')));
      expect(isHelmRepositoryError(error, 'ChartDigestMissing')).toBe(true);
    } finally {
      await c.close();
    }
  });
});

describe('hostile indexes, tagguard beside the real helm', () => {
  const serve = async (name: string, text: string): Promise<string> => {
    const dir = join(repo, name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'index.yaml'), text);
    return `${server.url}/${name}`;
  };
  const digest = 'c'.repeat(64);
  const entry = (version: string, extra = '') =>
    `  - apiVersion: v2\n    name: payment\n    version: ${version}\n    digest: ${digest}\n    urls: [payment-${version}.tgz]\n${extra}`;

  const outcome = async (url: string): Promise<{ tagguard: string; helm: string }> => {
    const c = new HelmRepositoryClient(url);
    let tagguard: string;
    try {
      const { snapshot } = await c.fetchIndex();
      tagguard = snapshot.index
        .chart('payment')
        .map((e) => e.version)
        .join(',');
    } catch (error) {
      tagguard = (error as { code?: string }).code ?? 'error';
    } finally {
      await c.close();
    }
    let helm: string;
    try {
      helm = (await helmVersions(url, `h${Math.random().toString(36).slice(2, 8)}`))
        .map((s) => s.split('@')[1])
        .join(',');
    } catch (error) {
      if (!(error instanceof ToolError)) throw error;
      helm = 'refused';
    }
    return { tagguard, helm };
  };

  it('a duplicate key: helm (UnmarshalStrict) and tagguard both refuse the index', async () => {
    const url = await serve(
      'dup',
      `apiVersion: v1\nentries:\n  payment:\n${entry('1.0.0', `    digest: ${'d'.repeat(64)}\n`)}`,
    );
    expect(await outcome(url)).toEqual({ tagguard: 'UnsupportedIndex', helm: 'refused' });
  });

  it('versions that are not semver: dropped by both, the same versions left', async () => {
    const url = await serve(
      'semver',
      `apiVersion: v1\nentries:\n  payment:\n${entry('1.0.0')}${entry('latest')}${entry('v2')}${entry('1.0.0-01')}`,
    );
    const result = await outcome(url);
    expect(result.tagguard).toBe('v2,1.0.0');
    expect(result.helm.split(',').sort()).toEqual(['1.0.0', 'v2'].sort());
  });

  it('orders and drops versions as helm does (Masterminds v3.4.0: coercion, prereleases, uint64)', async () => {
    const versions = [
      '1.0.0',
      'v1.2',
      '2',
      '1.10.0',
      '1.9.0',
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0-1',
      '1.0.0-01',
      '01.2.3',
      '18446744073709551615.0.0',
      '18446744073709551616.0.0',
      '0.0.0',
      '1.0.0-x-y',
      '1.0.0-0.3.7',
      'latest',
      'v0.9.9-beta',
    ];
    const url = await serve(
      'order',
      `apiVersion: v1\nentries:\n  payment:\n${versions.map((v) => entry(JSON.stringify(v))).join('')}`,
    );
    const c = new HelmRepositoryClient(url);
    try {
      const ours = (await c.fetchIndex()).snapshot.index.chart('payment').map((e) => e.version);
      await ws.helm(['repo', 'add', 'order', url, '--force-update']);
      const { stdout } = await ws.helm(['search', 'repo', 'order/', '--versions', '--devel', '-o', 'json']);
      expect(ours).toEqual((JSON.parse(stdout) as { version: string }[]).map((r) => r.version));
      expect(ours).not.toContain('1.0.0-01');
      expect(ours).not.toContain('18446744073709551616.0.0');
    } finally {
      await c.close();
    }
  });

  it('anchors and aliases: helm reads them, tagguard refuses the index (documented)', async () => {
    const url = await serve(
      'alias',
      `apiVersion: v1\nentries:\n  payment:\n  - &e\n    apiVersion: v2\n    name: payment\n    version: 1.0.0\n    digest: ${digest}\n    urls: [p.tgz]\n  - *e\n`,
    );
    const result = await outcome(url);
    expect(result.tagguard).toBe('UnsupportedIndex');
    expect(result.helm).not.toBe('refused');
  });

  it('two entries of one version: helm reads the index (and picks one), tagguard refuses the chart', async () => {
    const url = await serve(
      'twice',
      `apiVersion: v1\nentries:\n  payment:\n${entry('1.0.0')}${entry('1.0.0').replace(digest, 'e'.repeat(64))}`,
    );
    const result = await outcome(url);
    expect(result.tagguard).toBe('UnsupportedChartEntry');
    expect(result.helm).toBe('1.0.0');
  });

  it('a huge index: stopped at the cap while streaming', async () => {
    const many = Array.from({ length: 40_000 }, (_, i) => entry(`1.0.${i}`)).join('');
    const url = await serve('huge', `apiVersion: v1\nentries:\n  payment:\n${many}`);
    const c = new HelmRepositoryClient(url, { maxIndexBytes: 1024 * 1024 });
    try {
      expect(isRegistryError(await rejection(c.fetchIndex()), 'TooLarge')).toBe(true);
    } finally {
      await c.close();
    }
  });
});
