// tagguard scan on local archives without helm (the static fallback): exit codes, JSON shape, --policy.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanCommand } from '../../../src/cli/scan-command.ts';
import { buildTgz, chartEntries } from '../support/tar-builder.ts';

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
