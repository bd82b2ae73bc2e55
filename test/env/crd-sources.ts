// Where the installed third-party CRDs come from and which module versions the harness runs: the record
// scripts/testbin.sh writes beside each CRD copy (source.txt), the Go module cache's view of that module,
// and the module versions compiled into a pinned binary (`go version -m`). Read by the environment test
// that checks the CRDs are exactly those of the controllers under test.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { crdDir, projectRoot, type CrdComponent } from './paths.ts';

const run = promisify(execFile);

export interface CrdSource {
  module: string;
  version: string;
  /** The module zip's go.sum hash (h1:…). */
  sum: string;
  /** Directory inside the module the CRD files were copied from. */
  directory: string;
}

/** source.txt of a component's CRD copy: `key value` lines. */
export const readCrdSource = async (component: CrdComponent): Promise<CrdSource> => {
  const text = await readFile(join(crdDir(component), 'source.txt'), 'utf8');
  const fields = new Map(
    text.split('\n').map((line) => [line.split(' ')[0], line.slice(line.indexOf(' ') + 1)]),
  );
  const field = (key: string): string => {
    const value = fields.get(key);
    if (!value) throw new Error(`${component}/source.txt has no ${key}`);
    return value;
  };
  return {
    module: field('module'),
    version: field('version'),
    sum: field('sum'),
    directory: field('directory'),
  };
};

/** `go mod download -json`: the extracted module's directory and its hash (from the module cache, offline). */
export const goModule = async (module: string, version: string): Promise<{ dir: string; sum: string }> => {
  // Outside any module, so no go.mod around the checkout can change what is resolved.
  const { stdout } = await run('go', ['mod', 'download', '-json', `${module}@${version}`], { cwd: tmpdir() });
  const json = JSON.parse(stdout) as { Dir?: string; Sum?: string; Error?: string };
  if (json.Error || !json.Dir || !json.Sum)
    throw new Error(`go mod download ${module}@${version}: ${stdout}`);
  return { dir: json.Dir, sum: json.Sum };
};

/** The modules compiled into a Go binary (`go version -m`): module path → version and hash. */
export const binaryModules = async (
  binary: string,
): Promise<Map<string, { version: string; sum: string }>> => {
  const { stdout } = await run('go', ['version', '-m', binary], { cwd: tmpdir() });
  const modules = new Map<string, { version: string; sum: string }>();
  for (const line of stdout.split('\n')) {
    const [kind, path, version, sum] = line.trim().split('\t');
    if ((kind === 'mod' || kind === 'dep') && path && version) modules.set(path, { version, sum: sum ?? '' });
  }
  return modules;
};

/**
 * The version scripts/testbin.sh pins for a tool row or a CRD row (`name|version|…`). A name with both rows
 * (argocd: the controller and its CRDs) must pin one version in both.
 */
export const pinnedVersion = async (name: string): Promise<string> => {
  const script = await readFile(join(projectRoot, 'scripts', 'testbin.sh'), 'utf8');
  const rows = [...script.matchAll(/^\s*"([^"|]+)\|([^"|]+)\|/gm)].filter((m) => m[1] === name);
  const versions = new Set(rows.map((m) => m[2]));
  if (rows.length === 0 || versions.size !== 1)
    throw new Error(`scripts/testbin.sh pins ${name} ${rows.length} times, at ${[...versions].join(', ')}`);
  return rows[0]?.[2] ?? '';
};
