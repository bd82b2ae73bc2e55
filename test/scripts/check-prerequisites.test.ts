// scripts/check-prerequisites.sh run with a PATH that holds only the real tools the test links in, minus the
// one under test: what a newcomer's machine without that tool sees from `make`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const script = path.resolve(import.meta.dirname, '../../scripts/check-prerequisites.sh');
const TOOLS = [
  'bash',
  'node',
  'npm',
  'go',
  'openssl',
  'redis-server',
  'gpg',
  'nginx',
  'podman',
  'runc',
  'mmdebstrap',
] as const;

/** Where the machine's own copy of a tool is (the test environment has them all: `make test` checks it). */
const realPath = (tool: string): string => {
  const found = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  const location = found.stdout.trim();
  if (found.status !== 0 || !location.startsWith('/')) throw new Error(`${tool} is not installed here`);
  return location;
};

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A directory to use as the whole PATH, with the real tools linked in except `without`. */
const pathWithout = (...without: string[]): string => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tagguard-prereq-'));
  dirs.push(dir);
  for (const tool of TOOLS) if (!without.includes(tool)) symlinkSync(realPath(tool), path.join(dir, tool));
  return dir;
};

/** An empty directory: where the script looks for nginx besides PATH (/usr/sbin on Debian) in these runs. */
const emptySbin = (): string => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tagguard-sbin-'));
  dirs.push(dir);
  return dir;
};

const run = (pathDir: string, ...args: string[]): { status: number | null; stderr: string } =>
  runWith(pathDir, emptySbin(), ...args);

const runWith = (
  pathDir: string,
  sbin: string,
  ...args: string[]
): { status: number | null; stderr: string } => {
  // The script is started by absolute bash so that it runs even when bash itself is left out of PATH.
  const result = spawnSync(realPath('bash'), [script, ...args], {
    env: { PATH: pathDir, HOME: tmpdir(), TAGGUARD_SBIN: sbin },
    encoding: 'utf8',
  });
  return { status: result.status, stderr: result.stderr };
};

describe('scripts/check-prerequisites.sh', () => {
  it('passes silently when every tool is there and new enough', () => {
    expect(run(pathWithout())).toEqual({ status: 0, stderr: '' });
  });

  it.each([
    ['go', '1.26', 'https://go.dev/dl/'],
    ['openssl', '1.1.1', 'apt-get install openssl'],
    ['npm', '7.0', 'apt-get install npm'],
    ['node', '18.0', 'apt-get install nodejs'],
    ['redis-server', '6.0', 'apt-get install redis-server'],
    ['gpg', '2.2', 'apt-get install gnupg'],
    ['nginx', '1.19.5', 'apt-get install nginx'],
    ['podman', '4.3', 'apt-get install podman'],
    ['runc', '1.1', 'apt-get install runc'],
    ['mmdebstrap', '1.0', 'apt-get install mmdebstrap'],
  ])(
    'names a missing %s, the version needed and how to install it, and exits 1',
    (tool, version, install) => {
      const { status, stderr } = run(pathWithout(tool));
      expect(status).toBe(1);
      expect(stderr).toContain(`prerequisite missing: ${tool} (version ${version} or later)`);
      expect(stderr).toContain(`install: ${install}`);
      expect(stderr).toContain('README.md');
    },
  );

  it('lists every missing tool in one run, not only the first', () => {
    const { status, stderr } = run(pathWithout('go', 'openssl'));
    expect(status).toBe(1);
    expect(stderr.match(/^prerequisite missing: (\w+)/gm)).toEqual([
      'prerequisite missing: go',
      'prerequisite missing: openssl',
    ]);
  });

  it('checks only the tools it is asked about (make deps does not need Go)', () => {
    expect(run(pathWithout('go'), 'bash', 'node', 'npm').status).toBe(0);
    expect(run(pathWithout('go'), 'go').status).toBe(1);
  });

  it('refuses a Go older than 1.26, naming what it found and where', () => {
    const dir = pathWithout('go');
    // Only the version line of `go version` is stood in for: the check reads nothing else from Go.
    const go = path.join(dir, 'go');
    writeFileSync(go, '#!/bin/sh\necho "go version go1.25.7 linux/amd64"\n');
    chmodSync(go, 0o755);
    const { status, stderr } = run(dir, 'go');
    expect(status).toBe(1);
    expect(stderr).toContain(`prerequisite too old: go 1.25.7 found at ${go}, 1.26 or later needed`);
  });

  it('finds nginx in /usr/sbin when it is not on PATH (Debian puts it there)', () => {
    const sbin = emptySbin();
    symlinkSync(realPath('nginx'), path.join(sbin, 'nginx'));
    expect(runWith(pathWithout('nginx'), sbin, 'nginx')).toEqual({ status: 0, stderr: '' });
  });

  it('exits 2 on a command it does not know (a typo in the Makefile)', () => {
    expect(run(pathWithout(), 'golang').status).toBe(2);
  });
});
