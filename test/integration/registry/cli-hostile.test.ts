// The CLI (run as a child process, as CI runs it) against hostile registry input: credentials written into
// a reference or kept in the Docker config never appear in its output, whatever the exit; a trickling
// registry ends at the request deadline the flags set; a mistyped local file is a usage error, not a
// registry lookup.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { runTagguardCli, writePolicyFile, type CliResult } from '../../env/cli.ts';
import { packageChart } from '../../env/charts.ts';
import { pushChart, type PushedArtifact } from '../../env/oci.ts';
import { createToolHome } from '../../env/tool-home.ts';
import { startFaultProxy, type FaultProxy } from '../../support/fault-proxy.ts';

const env = inject('testEnv');
const SECRET = 'cli-Secret-Passw0rd';
const USER = 'robot';

describe('tagguard CLI on hostile registry input', () => {
  let dir: string;
  let proxy: FaultProxy;
  let chart: PushedArtifact;

  const tagguard = (args: readonly string[]): Promise<CliResult & { ms: number }> => {
    const started = performance.now();
    return runTagguardCli(args, { PATH: process.env.PATH ?? '', HOME: dir, DOCKER_CONFIG: dir }).then(
      (r) => ({ ...r, ms: performance.now() - started }),
    );
  };
  const expectNoSecret = (result: CliResult): void => {
    const output = `${result.stdout}\n${result.stderr}`;
    expect(output).not.toContain(SECRET);
    expect(output).not.toContain(Buffer.from(`${USER}:${SECRET}`).toString('base64'));
    expect(output).not.toMatch(/\n\s+at /); // no stack trace
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tagguard-cli-hostile-'));
    const home = await createToolHome(env);
    chart = await pushChart(
      home,
      env.registries.referrers,
      'cli-hostile',
      await packageChart(home, home.dir, { version: '2.0.0' }),
    );
    proxy = await startFaultProxy(env.registries.referrers.host);
    await writeFile(
      join(dir, 'config.json'),
      JSON.stringify({
        auths: { [proxy.host]: { auth: Buffer.from(`${USER}:${SECRET}`).toString('base64') } },
      }),
    );
  });

  afterAll(async () => {
    await proxy?.close();
    await rm(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    proxy.rules.length = 0;
    proxy.seen.length = 0;
  });

  it('refuses credentials written into the reference without echoing them (resolve, scan, verify)', async () => {
    const ref = `oci://${USER}:${SECRET}@${proxy.host}/cli-hostile/payment:2.0.0`;
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const policy = await writePolicyFile(dir, {
      cosign: [{ name: 'k', publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString() }],
    });
    for (const args of [
      ['resolve', ref, '--insecure'],
      ['resolve', ref, '--insecure', '--output', 'json'],
      ['scan', ref, '--insecure', '--helm', 'none', '--output', 'json'],
      ['verify', ref, '--policy', policy, '--insecure', '--output', 'json'],
    ]) {
      const result = await tagguard(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(/InvalidReference/);
      expectNoSecret(result);
    }
    expect(proxy.seen).toEqual([]);
  });

  it('never prints the Docker config credentials when the registry refuses them', async () => {
    proxy.rules.push({
      path: /manifests\//,
      fault: { kind: 'require-basic', username: USER, password: 'another-password' },
    });
    const result = await tagguard(['resolve', `${proxy.host}/cli-hostile/payment:2.0.0`, '--insecure']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^tagguard resolve: Unauthorized: /);
    expectNoSecret(result);
    // The credentials did go to the registry itself.
    expect(proxy.seen.some((s) => s.authorization?.startsWith('Basic '))).toBe(true);
  });

  it('ends a trickling registry at --registry-request-timeout, naming the deadline', async () => {
    proxy.rules.push({
      path: /manifests\/2\.0\.0/,
      fault: { kind: 'trickle', intervalMs: 200, length: 1_000_000 },
    });
    const result = await tagguard([
      'resolve',
      `${proxy.host}/cli-hostile/payment:2.0.0`,
      '--insecure',
      '--registry-request-timeout',
      '1s',
      '--registry-operation-timeout',
      '3s',
    ]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(
      /^tagguard resolve: Timeout: .* (request deadline of 1s \(--registry-request-timeout\)|operation deadline of 3s \(--registry-operation-timeout\))/,
    );
    expect(result.ms).toBeLessThan(10_000);
    expectNoSecret(result);
  });

  it('refuses a deadline that is not a duration as a usage error', async () => {
    const result = await tagguard([
      'resolve',
      `${proxy.host}/cli-hostile/payment:2.0.0`,
      '--insecure',
      '--registry-request-timeout',
      '30',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--registry-request-timeout "30" must be a duration/);
    expect(proxy.seen).toEqual([]);
  });

  it('reports a mistyped local chart as TargetNotFound (exit 2) without any registry lookup', async () => {
    for (const target of [
      join(dir, 'paymnet-2.0.0.tgz'),
      'paymnet-2.0.0.tgz',
      'paymnet',
      './charts/paymnet',
    ]) {
      const result = await tagguard(['scan', target, '--helm', 'none']);
      expect(result.code, target).toBe(2);
      expect(result.stderr, target).toMatch(/^tagguard scan: TargetNotFound: /);
      expect(result.stderr, target).not.toMatch(/resolving/);
    }
    // The control: the same command on the registry reference scans it.
    const ok = await tagguard([
      'scan',
      `oci://${chart.repository}:${chart.tag}`,
      '--insecure',
      '--helm',
      'none',
    ]);
    expect(ok.code).toBe(0);
  });
});
