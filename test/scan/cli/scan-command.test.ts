// tagguard scan on local archives without helm (the static fallback): exit codes, JSON shape, --policy.
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanCommand } from '../../../src/cli/scan-command.ts';
import { buildTgz, chartEntries } from '../support/tar-builder.ts';

const MAIN = join(import.meta.dirname, '../../../src/cli/main.ts');

const privilegedPod = `apiVersion: v1
kind: Pod
metadata: {name: {{ .Release.Name }}-miner}
spec:
  containers:
    - name: miner
      image: ghcr.io/attacker/miner:latest
      securityContext: {privileged: true}
`;

describe('tagguard scan (static, no helm)', () => {
  let dir: string;
  const run = async (argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await scanCommand(argv, {
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      environment: { dockerConfigFile: join(dir, 'none.json') },
    });
    return { code, stdout: out.join(''), stderr: err.join('') };
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tagguard-scan-cli-'));
    await writeFile(join(dir, 'bad.tgz'), buildTgz(chartEntries('demo', { 'pod.yaml': privilegedPod })));
    await writeFile(join(dir, 'good.tgz'), buildTgz(chartEntries('demo')));
    await writeFile(
      join(dir, 'evil.tgz'),
      buildTgz([...chartEntries(), { name: 'demo/../../x', data: 'x' }]),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 1 with the finding, rendered: false and the archive digest', async () => {
    const { code, stdout } = await run([join(dir, 'bad.tgz'), '--output', 'json']);
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as Record<string, unknown>;
    expect(report).toMatchObject({
      verdict: 'Untrusted',
      rendered: false,
      reasons: ['FindingsAtFailOn'],
      signatures: [],
    });
    expect(report.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect((report.findings as { rule: string }[]).map((f) => f.rule)).toEqual([
      'privileged-container',
      'image-not-pinned',
    ]);
  });

  it('exits 0 for a clean chart and prints a one-line summary', async () => {
    const { code, stdout } = await run([join(dir, 'good.tgz')]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/0 findings, passed; static scan \(not rendered\)/);
  });

  it('honours --policy: exceptions and failOn', async () => {
    const policy = join(dir, 'policy.yaml');
    await writeFile(
      policy,
      'apiVersion: tagguard.dev/v1alpha1\nkind: ArtifactVerification\nmetadata: {name: p}\nspec:\n  scan:\n    failOn: low\n    helm: {exceptions: [{rule: privileged-container}]}\n',
    );
    const { code, stdout } = await run([join(dir, 'bad.tgz'), '--policy', policy, '--output', 'json']);
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({ suppressed: 1, findings: [{ rule: 'image-not-pinned' }] });
  });

  it('exits 2 for a refused archive, a bad policy and bad usage', async () => {
    const evil = await run([join(dir, 'evil.tgz'), '--output', 'json']);
    expect(evil.code).toBe(2);
    expect(JSON.parse(evil.stdout)).toMatchObject({ verdict: 'Error', reasons: ['UnsafePath'] });
    await writeFile(join(dir, 'wrong.yaml'), 'apiVersion: v1\nkind: ConfigMap\n');
    expect((await run([join(dir, 'good.tgz'), '--policy', join(dir, 'wrong.yaml')])).code).toBe(2);
    expect((await run([])).code).toBe(2);
    expect((await run([join(dir, 'good.tgz'), '--timeout-ms', '-5'])).code).toBe(2);
    expect((await run(['Not A Reference!'])).code).toBe(2);
    expect((await run(['--help'])).code).toBe(0);
  });
});

describe('tagguard scan on hostile YAML and unreadable charts', () => {
  let dir: string;
  const run = async (argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await scanCommand(argv, {
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      environment: { dockerConfigFile: join(dir, 'none.json') },
    });
    return { code, stdout: out.join(''), stderr: err.join('') };
  };
  const laughs = (indent: string): string =>
    [
      `${indent}a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]`,
      ...'bcdefghi'
        .split('')
        .map((c, i) => `${indent}${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
    ].join('\n');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tagguard-scan-yaml-'));
    await writeFile(join(dir, 'good.tgz'), buildTgz(chartEntries('demo')));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    [
      'a billion-laughs --values file',
      'YamlTooManyNodes',
      async () => {
        await writeFile(join(dir, 'lol.yaml'), laughs(''));
        return ['--values', join(dir, 'lol.yaml')];
      },
    ],
    [
      'a billion-laughs scan.helm.values in the policy',
      'YamlTooManyNodes',
      async () => {
        await writeFile(
          join(dir, 'lol-policy.yaml'),
          `apiVersion: tagguard.dev/v1alpha1\nkind: ArtifactVerification\nmetadata: {name: p}\nspec:\n  scan:\n    helm:\n      values:\n${laughs('        ')}\n`,
        );
        return ['--policy', join(dir, 'lol-policy.yaml')];
      },
    ],
    ['a --values file without end', 'YamlTooLarge', () => Promise.resolve(['--values', '/dev/zero'])],
    [
      'a values file deeper than the limit',
      'YamlTooDeep',
      async () => {
        await writeFile(join(dir, 'deep.yaml'), `a: ${'['.repeat(5000)}`);
        return ['--values', join(dir, 'deep.yaml')];
      },
    ],
    [
      'a policy that is two documents',
      'InvalidYaml',
      async () => {
        await writeFile(join(dir, 'two.yaml'), 'apiVersion: x\n---\nkind: y\n');
        return ['--policy', join(dir, 'two.yaml')];
      },
    ],
  ])('%s: exit 2 with the code %s, no stack trace', async (_name, code, args) => {
    const started = performance.now();
    const result = await run([join(dir, 'good.tgz'), ...(await args()), '--output', 'json']);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({ verdict: 'Error', reasons: [code] });
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('reads `privileged: yes` in a template as the API server does (privileged)', async () => {
    const chart = join(dir, 'values.tgz');
    await writeFile(
      chart,
      buildTgz(
        chartEntries('demo', {
          'pod.yaml':
            'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: c\n      image: x\n      securityContext: {privileged: yes}\n',
        }),
      ),
    );
    const result = await run([chart, '--helm', 'none', '--output', 'json']);
    expect(result.code).toBe(1);
    expect(
      (JSON.parse(result.stdout) as { findings: { rule: string }[] }).findings.map((f) => f.rule),
    ).toContain('privileged-container');
  });

  it('reports an unreadable file of a chart directory as Unreadable (exit 2), without a stack trace', async () => {
    const chart = join(dir, 'chart');
    await mkdir(join(chart, 'templates'), { recursive: true });
    await writeFile(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: demo\nversion: 1.0.0\n');
    await writeFile(join(chart, 'templates', 'secret.yaml'), 'kind: Secret\n');
    await chmod(join(chart, 'templates', 'secret.yaml'), 0o000);
    await chmod(dir, 0o755);
    // root reads anything: run the CLI as nobody when the tests run as root.
    const asNobody =
      process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
    const command = [
      ...asNobody,
      process.execPath,
      MAIN,
      'scan',
      chart,
      '--helm',
      'none',
      '--output',
      'json',
    ];
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(command[0] ?? '', command.slice(1), { timeout: 30_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
      );
    });
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({ verdict: 'Error', reasons: ['Unreadable'] });
    expect(result.stderr).toMatch(/Unreadable: templates\/secret.yaml: cannot be read \(EACCES\)/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
