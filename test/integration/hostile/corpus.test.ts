// The hostile-input corpus: every input is generated here at test time (no opaque blobs) and read by the
// real `tagguard` command in a fresh process group. Each must end with its exact code (or the correct
// verdict), no stack trace, within its time bound, and with the process and all its children (helm)
// under 300 MB of resident memory together.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { projectRoot, toolPath } from '../../env/paths.ts';
import { createToolHome } from '../../env/tool-home.ts';
import { runMeasured } from '../../support/measured-process.ts';
import { archiveCases } from './archive-cases.ts';
import { reportedCodes, STACK_TRACE, type CorpusCase, type CorpusContext } from './corpus-case.ts';
import { policyCases, referenceCases, templateCases, yamlCases } from './input-cases.ts';
import { registryCases } from './registry-cases.ts';
import { signatureCases } from './signature-cases.ts';

const env = inject('testEnv');
const MEMORY_BOUND = 300 * 1024 * 1024;
const DEFAULT_MAX_MS = 20_000;

export const corpus: readonly CorpusCase[] = [
  ...archiveCases,
  ...templateCases,
  ...yamlCases,
  ...policyCases,
  ...referenceCases,
  ...signatureCases,
  ...registryCases,
];

const runCase = async (c: CorpusCase, ctx: CorpusContext): Promise<void> => {
  const args = await c.prepare(ctx);
  const maxMs = c.maxMs ?? DEFAULT_MAX_MS;
  const run = await runMeasured(
    join(projectRoot, 'node_modules', '.bin', 'node'),
    [join(projectRoot, 'src/cli/main.ts'), ...args],
    { env: { HOME: ctx.dir, PATH: '/usr/bin:/bin' }, cwd: ctx.dir, timeoutMs: maxMs + 10_000 },
  );
  const output = `${run.stdout}\n${run.stderr}`;
  const context = `exit ${String(run.exitCode)}, ${Math.round(run.elapsedMs)} ms, ${Math.round(run.peakRssBytes / 2 ** 20)} MiB\n${output.slice(0, 3000)}`;
  expect(run.timedOut, context).toBe(false);
  expect(output, context).not.toMatch(STACK_TRACE);
  expect(run.exitCode, context).toBe(c.exit);
  if (c.code !== '') expect(reportedCodes(run.stdout, run.stderr), context).toContain(c.code);
  expect(run.peakRssBytes, context).toBeLessThan(MEMORY_BOUND);
  expect(run.elapsedMs, context).toBeLessThan(maxMs);
  if (c.secret !== undefined) expect(output).not.toContain(c.secret);
};

describe('hostile-input corpus', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'tagguard-corpus-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('has at least 60 inputs across every class', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(60);
    expect(new Set(corpus.map((c) => c.class)).size).toBe(7);
  });

  it.each(corpus.map((c) => [`${c.class}: ${c.name}`, c] as const))(
    '%s',
    async (_title, c) => {
      const cleanups: (() => Promise<void>)[] = [];
      const ctx: CorpusContext = {
        dir: await mkdtemp(join(root, 'case-')),
        helm: toolPath('helm'),
        registry: env.registries.referrers.host,
        endpoint: env.registries.referrers,
        home: await createToolHome(env),
        defer: (cleanup) => cleanups.push(cleanup),
      };
      try {
        await runCase(c, ctx);
      } finally {
        for (const cleanup of cleanups) await cleanup();
      }
    },
    90_000,
  );
});
