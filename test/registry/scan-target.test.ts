// The reference-vs-path rule of `tagguard scan` (src/cli/scan-target.ts): a target that is not on disk is
// looked up on a registry only when it names one; a mistyped file is a usage error before any network
// access (the unit project blocks the network, so a lookup would fail differently).
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanCommand } from '../../src/cli/scan-command.ts';
import { assertRegistryTarget } from '../../src/cli/scan-target.ts';
import { EXIT } from '../../src/cli/exit-codes.ts';

const nothingExists = () => false;

describe('assertRegistryTarget', () => {
  it('refuses file-like and Docker-Hub-implied names as missing files', () => {
    for (const target of [
      'payment-1.0.0.tgz',
      'charts/payment-1.0.0.tar.gz',
      'ghcr.io/acme/payment.tgz',
      './payment',
      '../payment',
      '/tmp/payment',
      '~/payment',
      '.',
      'dir\\payment',
      'payment',
      'payment:1.0',
      'charts/payment',
      'https://ghcr.io/acme/app',
    ]) {
      expect(() => assertRegistryTarget(target, nothingExists), target).toThrow(
        expect.objectContaining({ code: 'TargetNotFound' }),
      );
    }
  });

  it('accepts references that name their registry, oci:// whatever it ends with', () => {
    for (const target of [
      'oci://ghcr.io/acme/payment:1.0',
      'oci://ghcr.io/acme/payment.tgz',
      'oci://nginx',
      'ghcr.io/acme/payment:1.0',
      '127.0.0.1:5000/charts/payment@sha256:' + 'a'.repeat(64),
      'localhost/app',
    ])
      expect(() => assertRegistryTarget(target, nothingExists), target).not.toThrow();
  });

  it('reads host.name/… as a path when its first component exists here', () => {
    expect(() => assertRegistryTarget('build.out/payment', (n) => n === 'build.out')).toThrow(
      expect.objectContaining({ code: 'TargetNotFound' }),
    );
  });
});

describe('tagguard scan with a mistyped target', () => {
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
    dir = await mkdtemp(join(tmpdir(), 'tagguard-scan-target-'));
    await mkdir(join(dir, 'charts'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('is a usage error (exit 2, TargetNotFound) with no registry lookup', async () => {
    for (const target of [
      join(dir, 'paymnet-1.0.0.tgz'),
      'paymnet-1.0.0.tgz',
      'payment',
      join(dir, 'charts', 'x'),
    ]) {
      const result = await run([target, '--helm', 'none', '--output', 'json']);
      expect(result.code, target).toBe(EXIT.usage);
      expect(result.stderr, target).toMatch(/^tagguard scan: TargetNotFound: /);
      expect(result.stderr, target).not.toMatch(/resolving|ConnectionFailed|network/);
      expect(JSON.parse(result.stdout)).toMatchObject({ verdict: 'Error', reasons: ['TargetNotFound'] });
    }
  });

  it('does not echo credentials of an oci:// target, on stderr or in the JSON', async () => {
    const result = await run(['oci://robot:Sup3r-S3cret@ghcr.io/acme/app:1.0', '--output', 'json']);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/InvalidReference/);
    expect(`${result.stdout}${result.stderr}`).not.toContain('Sup3r-S3cret');
    expect(JSON.parse(result.stdout)).toMatchObject({ reference: 'oci://***@ghcr.io/acme/app:1.0' });
  });
});
