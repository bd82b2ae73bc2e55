// `make demo` is the first thing a newcomer runs: scripts/demo.ts, piped, must reach every expected state
// (exit 0), narrate each step (the OCI scenes, the alerts Prometheus fires, the HTTP repository scene,
// tagguard's own chart), stop what it started, and print plain text without a single ANSI escape.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../env/paths.ts';
import { DEMO_STEPS } from '../../scripts/demo-steps.ts';

const DEMO_TIMEOUT_MS = 300_000;

interface DemoRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

const runDemo = (): Promise<DemoRun> =>
  new Promise((resolveRun, reject) => {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      // A terminal type that would allow colour: plain output must come from stdout being a pipe.
      TERM: 'xterm-256color',
    };
    if (process.env.DEMO_FLUX !== undefined) env.DEMO_FLUX = process.env.DEMO_FLUX;
    const child = spawn(process.execPath, [join(projectRoot, 'scripts', 'demo.ts')], {
      cwd: projectRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGINT'), DEMO_TIMEOUT_MS - 20_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveRun({ code, signal, output });
    });
  });

describe('make demo', () => {
  it(
    'reaches every expected state, narrates each numbered step with its wall time, and prints no ANSI escapes when piped',
    { timeout: DEMO_TIMEOUT_MS },
    async () => {
      const run = await runDemo();
      expect(run.code, run.output).toBe(0);
      // eslint-disable-next-line no-control-regex
      expect(run.output).not.toMatch(/\u001b/);
      DEMO_STEPS.forEach((title, index) => {
        const n = index + 1;
        expect(run.output).toContain(`[${n}/${DEMO_STEPS.length}] ${title}\n`);
        expect(run.output).toMatch(new RegExp(`step ${n} done \\(\\d+\\.\\d s\\)`));
      });
      // Real kubectl output of the detection: the finding that names the attacker's init container.
      expect(run.output).toMatch(
        /critical privileged-container Deployment\/payment spec\.template\.spec\.initContainers\[0\]/,
      );
      // The HTTP repository scene: the re-published version's .prov is by an unknown key, and the HelmRelease
      // is held (with its HelmChart when the Flux controllers run).
      expect(run.output).toMatch(
        /Verified=False UntrustedSigner: http:\/\/127\.0\.0\.1:\d+\/payment:3\.1\.0@sha256:[0-9a-f]{12}: .*ProvenanceUnknownSigner/,
      );
      expect(run.output).toMatch(/HelmRelease +payment +true +demo-http\/payment\n/);
      if (process.env.DEMO_FLUX !== '0')
        expect(run.output).toMatch(/HelmChart +demo-http-payment +true +demo-http\/payment\n/);
      expect(run.output).toMatch(/ok held \d+\.\d s after the re-publish/);
      // Real Prometheus (the testbin build) scraping the operator with the shipped alerts fired both alerts
      // of the attack for the held CR (two targets held: OCIRepository and HelmRelease) ...
      expect(run.output).toMatch(/\n +TagguardTagMutated +firing +critical +demo\/payment +1\n/);
      expect(run.output).toMatch(/\n +TagguardTargetsHeld +firing +warning +demo\/payment +2\n/);
      // ... and was stopped with everything else.
      const prometheus = /prometheus \(\.testbin\/bin, [\d.]+\) at (http:\/\/127\.0\.0\.1:\d+)/.exec(
        run.output,
      )?.[1];
      expect(prometheus, 'the demo names its Prometheus address').toBeDefined();
      await expect(fetch(`${prometheus}/-/ready`)).rejects.toThrow();
      // tagguard's own chart (charts/tagguard), pushed and signed with cosign, is trusted by tagguard.
      const { version } = load(
        readFileSync(join(projectRoot, 'charts', 'tagguard', 'Chart.yaml'), 'utf8'),
      ) as {
        version: string;
      };
      expect(run.output).toMatch(
        new RegExp(
          `\\n +tagguard +${version.replaceAll('.', '\\.')} +sha256:[0-9a-f]{12} +sha256:[0-9a-f]{64} +Verified\\n`,
        ),
      );
      expect(run.output).toContain(`All ${DEMO_STEPS.length} steps reached their expected state`);
      expect(run.output).not.toContain('FAILED');
    },
  );
});
