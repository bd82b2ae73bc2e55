// The layering rule of `make lint` (dependency-cruiser.config.js) still bites: small src/ trees written to
// a temporary directory, each with one kind of violation, must fail the checker with the named rule, and a
// tree that follows the arrows must pass. Runs the same binary and config as `npm run layers`.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { projectRoot } from '../env/paths.ts';

const run = promisify(execFile);
const BIN = join(projectRoot, 'node_modules/dependency-cruiser/bin/dependency-cruiser.mjs');
const CONFIG = join(projectRoot, 'dependency-cruiser.config.js');

/** A tree that follows cli → controller → sources → registry → api, with the shared leaves. */
const CLEAN: Readonly<Record<string, string>> = {
  'src/errors.ts': 'export class BaseError extends Error {}\n',
  'src/config/config.ts': "import { BaseError } from '../errors.ts';\nexport const config = BaseError;\n",
  'src/api/types.ts': "import type { BaseError } from '../errors.ts';\nexport type Api = BaseError;\n",
  'src/registry/client.ts': "import type { Api } from '../api/types.ts';\nexport type Client = Api;\n",
  'src/sources/load.ts': "import type { Client } from '../registry/client.ts';\nexport type Load = Client;\n",
  'src/enforce/hold.ts': "import type { Api } from '../api/types.ts';\nexport type Hold = Api;\n",
  'src/observability/log.ts': "import { config } from '../config/config.ts';\nexport const log = config;\n",
  'src/controller/reconcile.ts':
    "import type { Load } from '../sources/load.ts';\nimport type { Hold } from '../enforce/hold.ts';\nexport type R = Load | Hold;\n",
  'src/cli/main.ts': "import type { R } from '../controller/reconcile.ts';\nexport type Main = R;\n",
};

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string };
}

let dir: string | undefined;
afterEach(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Exit code of a run. */
const exitCode = async (args: readonly string[], cwd: string): Promise<{ code: number; stdout: string }> => {
  try {
    const { stdout } = await run(process.execPath, [BIN, ...args], { cwd, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '' };
  }
};

/**
 * Writes the tree and runs the checker in it twice: as `npm run layers` does (its exit code fails
 * `make lint`) and with the JSON reporter (which always exits 0) for the violations by rule name.
 */
const check = async (
  files: Readonly<Record<string, string>>,
): Promise<{ code: number; violations: Violation[] }> => {
  const root = await mkdtemp(join(tmpdir(), 'tagguard-layering-'));
  dir = root;
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  const [lint, json] = await Promise.all([
    exitCode(['--config', CONFIG, 'src'], root),
    exitCode(['--config', CONFIG, '--output-type', 'json', 'src'], root),
  ]);
  const output = JSON.parse(json.stdout) as { summary: { violations: Violation[] } };
  return { code: lint.code, violations: output.summary.violations };
};

const names = (violations: readonly Violation[]): string[] =>
  violations.map((v) => `${v.rule.name} ${v.from} -> ${v.to}`).sort();

// Each case runs dependency-cruiser as a process: the default 5 s per test is too short on a loaded machine.
describe('layering rule (dependency-cruiser.config.js)', { timeout: 60_000 }, () => {
  it('passes a tree that follows the arrows', async () => {
    const result = await check(CLEAN);
    expect(result.violations).toEqual([]);
    expect(result.code).toBe(0);
  });

  it('fails an arrow pointing up (registry → controller)', async () => {
    const result = await check({
      ...CLEAN,
      'src/registry/client.ts':
        "import type { R } from '../controller/reconcile.ts';\nexport type Client = R;\n",
    });
    expect(result.code).not.toBe(0);
    expect(names(result.violations)).toContain(
      'not-in-allowed src/registry/client.ts -> src/controller/reconcile.ts',
    );
  });

  it('fails an arrow between siblings under the controller (enforce → sources)', async () => {
    const result = await check({
      ...CLEAN,
      'src/enforce/hold.ts': "import type { Load } from '../sources/load.ts';\nexport type Hold = Load;\n",
    });
    expect(result.code).not.toBe(0);
    expect(names(result.violations)).toEqual(['not-in-allowed src/enforce/hold.ts -> src/sources/load.ts']);
  });

  it('fails a shared leaf importing a layer (config → observability)', async () => {
    const result = await check({
      ...CLEAN,
      'src/config/config.ts':
        "import { BaseError } from '../errors.ts';\nimport type { Level } from '../observability/level.ts';\nexport const config = BaseError;\nexport type L = Level;\n",
      'src/observability/level.ts': "export type Level = 'info';\n",
    });
    expect(result.code).not.toBe(0);
    expect(names(result.violations)).toEqual([
      'not-in-allowed src/config/config.ts -> src/observability/level.ts',
    ]);
  });

  it('fails verify/ importing the registry client or transport, not other registry modules', async () => {
    const result = await check({
      ...CLEAN,
      'src/registry/transport.ts':
        "import type { Api } from '../api/types.ts';\nexport type Transport = Api;\n",
      'src/registry/shapes.ts': "import type { Api } from '../api/types.ts';\nexport type Shape = Api;\n",
      'src/verify/judge.ts':
        "import type { Shape } from '../registry/shapes.ts';\nimport type { Client } from '../registry/client.ts';\nimport type { Transport } from '../registry/transport.ts';\nexport type J = Shape | Client | Transport;\n",
    });
    expect(result.code).not.toBe(0);
    expect(names(result.violations)).toEqual([
      'verify-does-no-registry-io src/verify/judge.ts -> src/registry/client.ts',
      'verify-does-no-registry-io src/verify/judge.ts -> src/registry/transport.ts',
    ]);
  });

  it('fails a cycle made only of type imports inside one module', async () => {
    const result = await check({
      ...CLEAN,
      'src/registry/a.ts': "import type { B } from './b.ts';\nexport interface A { readonly b?: B }\n",
      'src/registry/b.ts': "import type { A } from './a.ts';\nexport interface B { readonly a?: A }\n",
    });
    expect(result.code).not.toBe(0);
    expect(result.violations.map((v) => v.rule.name)).toContain('no-circular');
    expect(result.violations.every((v) => v.rule.name === 'no-circular')).toBe(true);
  });
});
