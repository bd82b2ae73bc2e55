// `tagguard verify|scan --repo URL <chart>` as a CI job runs it: a separate process against a real nginx
// (one instance with TLS and basic auth) serving charts packaged and signed by the real `helm package --sign`
// with a real GnuPG key and indexed by the real `helm repo index`. The version a constraint picks is checked
// against the real `helm pull --repo` on the same index; wall time is measured beside `helm pull --verify`.
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessSupervisor } from '../../env/processes.ts';
import { startNginx, type NginxServer } from '../../env/nginx.ts';
import { createCA, issueCertificate, type KeyPair } from '../../env/pki.ts';
import { toolPath } from '../../env/paths.ts';
import { runTagguardCli, writePolicyFile, type CliResult } from '../../env/cli.ts';
import {
  createHelmWorkspace,
  sha256File,
  SIGNER,
  type HelmWorkspace,
} from '../registry/helm-repository/helm-repo-fixture.ts';

const USER = 'ci-reader';
const PASSWORD = 'pw-7f3a9c-never-printed';
const TOKEN = 'tok-51d2e8-never-printed';

const privilegedPod = `apiVersion: v1
kind: Pod
metadata: {name: {{ .Release.Name }}-miner}
spec:
  containers:
    - name: miner
      image: ghcr.io/attacker/miner:latest
      securityContext: {privileged: true}
`;

let base: string;
let supervisor: ProcessSupervisor;
let ws: HelmWorkspace;
let ca: KeyPair;
let plain: NginxServer;
let secured: NginxServer;
let keyringFile: string;
let policy: string;
let digests: Record<string, string>;

const tagguard = (args: readonly string[], input?: string): Promise<CliResult> =>
  runTagguardCli(args, { PATH: process.env.PATH ?? '', HOME: base }, input);

const verify = (repo: string, chart: string, extra: readonly string[] = []): Promise<CliResult> =>
  tagguard([
    'verify',
    '--repo',
    repo,
    chart,
    '--policy',
    policy,
    '--keyring',
    `helm-keys=${keyringFile}`,
    '--output',
    'json',
    ...extra,
  ]);

const json = (result: CliResult): Record<string, unknown> =>
  JSON.parse(result.stdout) as Record<string, unknown>;

/** A signed chart with a privileged Pod, packaged by the real helm. */
const packageMiner = async (into: string): Promise<void> => {
  const src = join(ws.dir, 'miner-src', 'miner');
  await mkdir(join(src, 'templates'), { recursive: true });
  await writeFile(join(src, 'Chart.yaml'), 'apiVersion: v2\nname: miner\nversion: 0.1.0\n');
  await writeFile(join(src, 'templates', 'pod.yaml'), privilegedPod);
  await ws.helm([
    'package',
    src,
    '--destination',
    into,
    '--sign',
    '--key',
    SIGNER,
    '--keyring',
    join(ws.dir, 'secring.gpg'),
  ]);
};

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'tg-cli-helmrepo-'));
  supervisor = new ProcessSupervisor(base);
  ws = await createHelmWorkspace();
  keyringFile = join(base, 'pubring.gpg');
  await writeFile(keyringFile, await ws.gpg.exportPublic(SIGNER));
  policy = await writePolicyFile(base, {
    provenance: [{ name: 'release', keyring: { secretRef: { name: 'helm-keys' } } }],
  });

  const root = join(base, 'www');
  // /good: signed versions of payment, a prerelease, and the privileged miner chart.
  const good = join(root, 'good');
  for (const version of ['1.0.0', '1.1.0', '1.1.5', '2.0.0-rc.1', '2.0.0'])
    await ws.packageChart(good, 'payment', version, { sign: true, note: `payment ${version}` });
  await packageMiner(good);
  await ws.index(good);
  // /mutated: payment 1.0.0 re-published with other content, unsigned; the old .prov left beside it.
  const mutated = join(root, 'mutated');
  await ws.packageChart(mutated, 'payment', '1.0.0', { note: 'a backdoor' });
  await copyFile(join(good, 'payment-1.0.0.tgz.prov'), join(mutated, 'payment-1.0.0.tgz.prov'));
  await ws.index(mutated);
  // /swapped: the index of /good, but the archive served is another one (the digest no longer matches).
  const swapped = join(root, 'swapped');
  await mkdir(swapped, { recursive: true });
  await copyFile(join(good, 'index.yaml'), join(swapped, 'index.yaml'));
  await copyFile(join(mutated, 'payment-1.0.0.tgz'), join(swapped, 'payment-1.0.0.tgz'));
  await copyFile(join(good, 'payment-1.0.0.tgz.prov'), join(swapped, 'payment-1.0.0.tgz.prov'));
  digests = {
    good: await sha256File(join(good, 'payment-1.0.0.tgz')),
    mutated: await sha256File(join(mutated, 'payment-1.0.0.tgz')),
  };

  ca = await createCA(base, 'ca');
  const serving = await issueCertificate(ca, base, 'serving', {
    subject: '/CN=127.0.0.1',
    usage: 'server',
    ipAddresses: ['127.0.0.1'],
  });
  plain = await startNginx(supervisor, base, { name: 'nginx-plain', root });
  secured = await startNginx(supervisor, base, {
    name: 'nginx-secured',
    root,
    tls: { serving, caFile: ca.certFile },
    basicAuth: { username: USER, password: PASSWORD },
  });
});

afterAll(async () => {
  await supervisor?.stopAll();
  await ws?.remove();
  if (base) await rm(base, { recursive: true, force: true });
});

describe('tagguard verify --repo', () => {
  it('a chart signed by helm package --sign is Trusted (exit 0), at the index digest', async () => {
    const result = await verify(`${plain.url}/good`, 'payment', ['--version', '1.0.0']);
    expect(result.code, result.stderr).toBe(0);
    const doc = json(result);
    expect(Object.keys(doc).sort()).toEqual([
      'digest',
      'findings',
      'reasons',
      'reference',
      'signatures',
      'verdict',
    ]);
    expect(doc).toMatchObject({
      reference: `${plain.url}/good/payment:1.0.0`,
      digest: `sha256:${digests.good}`,
      verdict: 'Trusted',
    });
    expect(doc.signatures).toEqual([
      expect.objectContaining({ name: 'release', type: 'provenance', verified: true }),
    ]);
  });

  it('the same version re-published with other content and a stale .prov is Untrusted (exit 1)', async () => {
    const result = await verify(`${plain.url}/mutated`, 'payment', ['--version', '1.0.0']);
    expect(result.code, result.stderr).toBe(1);
    const doc = json(result);
    expect(doc).toMatchObject({ verdict: 'Untrusted', digest: `sha256:${digests.mutated}` });
    expect((doc.signatures as { verified: boolean }[])[0]?.verified).toBe(false);
  });

  it('archive bytes other than the index digest are an error (exit 3, ChartDigestMismatch), scan too', async () => {
    const result = await verify(`${plain.url}/swapped`, 'payment', ['--version', '1.0.0']);
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toContain('ChartDigestMismatch');
    expect(json(result)).toMatchObject({ verdict: 'Error', reasons: ['ChartDigestMismatch'], digest: null });
    const scan = await tagguard([
      'scan',
      '--repo',
      `${plain.url}/swapped`,
      'payment',
      '--version',
      '1.0.0',
      '--output',
      'json',
    ]);
    expect(scan.code, scan.stderr).toBe(3);
    expect(json(scan)).toMatchObject({ verdict: 'Error', reasons: ['ChartDigestMismatch'] });
  });

  it('TLS and basic auth: trusted with --ca-file and --password-stdin; the token query and password never printed', async () => {
    // The repository URL's query goes with every request (helm's ResolveReferenceURL) but is never printed.
    const repo = `${secured.url}/good?token=${TOKEN}`;
    const ok = await tagguard(
      [
        'verify',
        '--repo',
        `${secured.url}/good`,
        'payment',
        '--version',
        '~1.1',
        '--policy',
        policy,
        '--keyring',
        `helm-keys=${keyringFile}`,
        '--ca-file',
        ca.certFile,
        '--username',
        USER,
        '--password-stdin',
        '--output',
        'json',
      ],
      `${PASSWORD}\n`,
    );
    expect(ok.code, ok.stderr).toBe(0);
    expect(json(ok)).toMatchObject({ reference: `${secured.url}/good/payment:1.1.5`, verdict: 'Trusted' });
    const log = await secured.accessLog();
    expect(
      log.filter((e) => e.uri.startsWith('/good/')).every((e) => e.user === USER && e.status === 200),
    ).toBe(true);
    const scanned = await tagguard(
      [
        'scan',
        '--repo',
        repo,
        'payment',
        '--helm',
        'none',
        '--ca-file',
        ca.certFile,
        '--username',
        USER,
        '--password-stdin',
        '--output',
        'json',
      ],
      PASSWORD,
    );
    expect(scanned.code, scanned.stderr).toBe(0);
    expect(json(scanned)).toMatchObject({
      reference: `${secured.url}/good/payment:2.0.0`,
      verdict: 'Trusted',
    });

    const flag = await tagguard([
      'verify',
      '--repo',
      repo,
      'payment',
      '--policy',
      policy,
      '--keyring',
      `helm-keys=${keyringFile}`,
      '--ca-file',
      ca.certFile,
      '--username',
      USER,
      '--password',
      PASSWORD,
    ]);
    expect(flag.stderr).toContain('prefer --password-stdin');
    expect(flag.code, flag.stderr).not.toBe(2);
    const wrong = await tagguard(
      [
        'verify',
        '--repo',
        repo,
        'payment',
        '--policy',
        policy,
        '--keyring',
        `helm-keys=${keyringFile}`,
        '--ca-file',
        ca.certFile,
        '--username',
        USER,
        '--password-stdin',
        '--output',
        'json',
      ],
      'not-the-password\n',
    );
    expect(wrong.code).toBe(3);
    expect(json(wrong)).toMatchObject({ verdict: 'Error', reference: `${secured.url}/good/payment` });
    const noCa = await tagguard(
      ['scan', '--repo', repo, 'payment', '--username', USER, '--password-stdin'],
      PASSWORD,
    );
    expect(noCa.code).toBe(3);
    for (const r of [ok, scanned, flag, wrong, noCa]) {
      const printed = r.stdout + r.stderr;
      expect(printed).not.toContain(PASSWORD);
      expect(printed).not.toContain(TOKEN);
    }
  });
});

describe('tagguard scan --repo', () => {
  it('finds the privileged container of the rendered chart (exit 1), passes a clean chart (exit 0)', async () => {
    const bad = await tagguard([
      'scan',
      '--repo',
      `${plain.url}/good`,
      'miner',
      '--helm',
      toolPath('helm'),
      '--output',
      'json',
    ]);
    expect(bad.code, bad.stderr).toBe(1);
    const doc = json(bad);
    expect(doc).toMatchObject({
      reference: `${plain.url}/good/miner:0.1.0`,
      verdict: 'Untrusted',
      rendered: true,
    });
    expect(JSON.stringify(doc.findings)).toMatch(/privileged/i);
    const clean = await tagguard(['scan', '--repo', `${plain.url}/good`, 'payment', '--output', 'json']);
    expect(clean.code, clean.stderr).toBe(0);
    expect(json(clean)).toMatchObject({ reference: `${plain.url}/good/payment:2.0.0`, verdict: 'Trusted' });
  });
});

describe('--version picks what helm pull --repo picks', () => {
  const pulled = async (version: string | undefined): Promise<string> => {
    const dest = await mkdtemp(join(base, 'pull-'));
    await ws.helm([
      'pull',
      '--repo',
      `${plain.url}/good`,
      'payment',
      ...(version !== undefined ? ['--version', version] : []),
      '--destination',
      dest,
    ]);
    const [file] = await readdir(dest);
    return /^payment-(.+)\.tgz$/.exec(file ?? '')?.[1] ?? `unexpected ${file}`;
  };

  for (const version of [
    undefined,
    '1.1.0',
    '~1.1',
    '^1.0.0',
    '<1.1.0',
    '>0.0.0-0',
    '1.1',
    '>=1.0.0 <2.0.0-0',
  ])
    it(`--version ${version ?? '(none)'}`, async () => {
      const expected = await pulled(version);
      const result = await tagguard([
        'scan',
        '--repo',
        `${plain.url}/good`,
        'payment',
        '--helm',
        'none',
        '--output',
        'json',
        ...(version !== undefined ? ['--version', version] : []),
      ]);
      expect(result.code, result.stderr).toBe(0);
      expect(json(result).reference).toBe(`${plain.url}/good/payment:${expected}`);
    });

  it('a constraint helm cannot parse is refused by both (tagguard: exit 2)', async () => {
    await expect(pulled('>>1.0')).rejects.toThrow();
    const result = await tagguard(['scan', '--repo', `${plain.url}/good`, 'payment', '--version', '>>1.0']);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('InvalidReference');
  });

  it('a constraint nothing satisfies is an error for both (exit 3, ChartNotFound)', async () => {
    await expect(pulled('>=3.0.0')).rejects.toThrow();
    const result = await tagguard(['scan', '--repo', `${plain.url}/good`, 'payment', '--version', '>=3.0.0']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('ChartNotFound');
  });
});

describe('wall time beside helm pull --verify', () => {
  it('measures tagguard verify --repo and helm pull --repo --verify --keyring on the same chart (5 runs each)', async () => {
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    const timed = async (work: () => Promise<unknown>): Promise<number> => {
      const start = performance.now();
      await work();
      return performance.now() - start;
    };
    const ours: number[] = [];
    const helms: number[] = [];
    /** The process alone (Node starting from the TypeScript sources): the floor of any tagguard command. */
    const starts: number[] = [];
    for (let i = 0; i < 5; i++) {
      starts.push(await timed(() => tagguard(['--version'])));
      ours.push(
        await timed(async () => {
          const r = await verify(`${plain.url}/good`, 'payment', ['--version', '1.0.0']);
          expect(r.code, r.stderr).toBe(0);
        }),
      );
      const dest = await mkdtemp(join(base, 'verify-'));
      helms.push(
        await timed(() =>
          ws.helm([
            'pull',
            '--repo',
            `${plain.url}/good`,
            'payment',
            '--version',
            '1.0.0',
            '--verify',
            '--keyring',
            keyringFile,
            '--destination',
            dest,
          ]),
        ),
      );
    }
    console.log(
      `[bench] verify --repo payment 1.0.0: tagguard median ${median(ours).toFixed(0)} ms (${ours.map((x) => x.toFixed(0)).join(', ')}); ` +
        `helm pull --verify median ${median(helms).toFixed(0)} ms (${helms.map((x) => x.toFixed(0)).join(', ')}); ` +
        `tagguard --version median ${median(starts).toFixed(0)} ms`,
    );
    expect(ours).toHaveLength(5);
  });
});
