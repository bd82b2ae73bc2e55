// Hostile charts rendered by the pinned helm: a few hundred bytes of template that render into floods of objects
// or YAML nodes stop with their code while tagguard and helm together stay under 300 MB; a SIGTERM during a
// render leaves no helm process and no render directory behind; an artifact of an unknown type is untrusted.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ScanErrorCode } from '../../../src/scan/errors.ts';
import { scanCommand } from '../../../src/cli/scan-command.ts';
import { pushArtifact } from '../../env/oci.ts';
import { toolPath } from '../../env/paths.ts';
import { createToolHome, type ToolHome } from '../../env/tool-home.ts';
import {
  peakOfProcessAndChildren,
  RUNTIME_NODE_FLAGS,
  scanInChild,
} from '../../scan/support/scan-in-child.ts';
import { buildTgz, chartEntries } from '../../scan/support/tar-builder.ts';

const env = inject('testEnv');
const MEMORY_BOUND = 300 * 1024 * 1024;
const MAIN = join(import.meta.dirname, '../../../src/cli/main.ts');

/** Pids whose command line mentions `marker`. */
const processesWith = async (marker: string): Promise<number[]> => {
  const pids: number[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(marker)) pids.push(Number(pid));
  }
  return pids;
};

const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

describe('hostile renders with helm', () => {
  let dir: string;
  let helm: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tagguard-hostile-render-'));
    helm = toolPath('helm');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const cases: [string, string, ScanErrorCode][] = [
    [
      'thousands of pods from a range',
      `{{- range until 40000 }}
---
apiVersion: v1
kind: Pod
metadata: {name: p{{ . }}}
spec:
  containers:
    - {name: c, image: "busybox:latest", securityContext: {privileged: true}}
{{- end }}
`,
      'TooManyObjects',
    ],
    [
      'thousands of flow maps',
      `{{- range until 60000 }}
---
{a: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], b: {c: [1, 2, 3, 4, 5, 6, 7, 8]}}
{{- end }}
`,
      'YamlTooManyNodes',
    ],
    [
      'one List of 21,000 ConfigMaps (the items count as objects)',
      `apiVersion: v1
kind: List
items:
{{- range until 21000 }}
  - {apiVersion: v1, kind: ConfigMap}
{{- end }}
`,
      'TooManyObjects',
    ],
  ];

  it.each(cases)('%s → %s, tagguard and helm together under 300 MB', async (name, template, code) => {
    const file = join(dir, `${name.replace(/\W+/g, '-')}.tgz`);
    await writeFile(file, buildTgz(chartEntries('flood', { 'flood.yaml': template })));
    const report = await scanInChild(file, helm, '60000');
    expect(report.code).toBe(code);
    expect(report.helmPeakRssBytes).toBeGreaterThan(0);
    expect(peakOfProcessAndChildren(report)).toBeLessThan(MEMORY_BOUND);
  });

  it('SIGTERM during a render: helm is killed with its group and its directory is removed', async () => {
    const scratch = await mkdtemp(join(dir, 'tmp-'));
    const chart = join(dir, 'spinner.tgz');
    await writeFile(
      chart,
      buildTgz(
        chartEntries('spinner', {
          'spin.yaml':
            '{{- range $i := until 100000 }}{{- range $j := until 100000 }}{{- end }}{{- end }}\nkind: X\n',
        }),
      ),
    );
    const child = spawn(
      process.execPath,
      [...RUNTIME_NODE_FLAGS, MAIN, 'scan', chart, '--helm', helm, '--timeout-ms', '120000'],
      { env: { ...process.env, TMPDIR: scratch }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
      child.on('exit', (code, signal) => resolve(signal ?? code)),
    );
    try {
      await until('helm to start', async () => (await processesWith(scratch)).length > 0);
      expect((await readdir(scratch)).some((n) => n.startsWith('tagguard-render-'))).toBe(true);
      child.kill('SIGTERM');
      expect(await exited).toBe('SIGTERM');
      await until('helm to go', async () => (await processesWith(scratch)).length === 0, 5000);
      expect(await readdir(scratch)).toEqual([]);
      expect(stderr).not.toMatch(/\n\s+at /);
    } finally {
      child.kill('SIGKILL');
      for (const pid of await processesWith(scratch)) process.kill(pid, 'SIGKILL');
    }
  });
});

describe('an artifact that is neither a chart nor WASM', () => {
  let home: ToolHome;
  beforeAll(async () => {
    home = await createToolHome(env);
  });

  const run = async (argv: string[]) => {
    const out: string[] = [];
    const code = await scanCommand(argv, {
      stdout: (t) => out.push(t),
      stderr: () => undefined,
      environment: { dockerConfigFile: join(home.dir, 'no-such-config.json') },
    });
    return { code, report: JSON.parse(out.join('')) as Record<string, unknown> };
  };

  it('is untrusted (UnknownArtifactType) unless the policy sets scan.allowUnknownArtifacts', async () => {
    const registry = env.registries.referrers;
    const pushed = await pushArtifact(home, registry, 'scan/unknown', 'v1', 'opaque bytes');
    const target = `${pushed.repository}:${pushed.tag}`;
    const refused = await run([target, '--insecure', '--helm', 'none', '--output', 'json']);
    expect(refused.code).toBe(1);
    expect(refused.report).toMatchObject({ verdict: 'Untrusted', reasons: ['UnknownArtifactType'] });

    const policy = join(home.dir, 'allow-unknown.yaml');
    await writeFile(
      policy,
      'apiVersion: tagguard.dev/v1alpha1\nkind: ArtifactVerification\nmetadata: {name: p}\nspec:\n  scan: {allowUnknownArtifacts: true}\n',
    );
    const allowed = await run([
      target,
      '--insecure',
      '--helm',
      'none',
      '--policy',
      policy,
      '--output',
      'json',
    ]);
    expect(allowed.code).toBe(0);
    expect(allowed.report).toMatchObject({ verdict: 'Trusted', reasons: [], artifactKind: 'generic' });
  });
});
