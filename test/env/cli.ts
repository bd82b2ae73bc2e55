// Runs the tagguard CLI from source (src/cli/main.ts on the project's Node 24) as a child process, the way
// a CI pipeline would: its exit code, stdout and stderr, with only the environment given.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { dump } from 'js-yaml';
import type { VerifySpec } from '../../src/api/artifact-verification.ts';
import { projectRoot } from './paths.ts';

const exec = promisify(execFile);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const runTagguardCli = async (
  args: readonly string[],
  env: Record<string, string>,
  /** Written to the CLI's standard input, which is then closed (e.g. --password-stdin). */
  input?: string,
): Promise<CliResult> => {
  const node = join(projectRoot, 'node_modules', '.bin', 'node');
  try {
    const running = exec(node, [join(projectRoot, 'src/cli/main.ts'), ...args], { env });
    if (input !== undefined) running.child.stdin?.end(input);
    const { stdout, stderr } = await running;
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
};

/** Writes an ArtifactVerification for `--policy` (only spec.verify is read) into `dir`; returns its path. */
export const writePolicyFile = async (dir: string, verify: VerifySpec | undefined): Promise<string> => {
  const file = join(dir, `policy-${randomBytes(4).toString('hex')}.yaml`);
  await writeFile(
    file,
    dump({
      apiVersion: 'tagguard.dev/v1alpha1',
      kind: 'ArtifactVerification',
      metadata: { name: 'payment' },
      spec: {
        artifact: { url: 'oci://example.invalid/charts/payment', tag: '1.0.0' },
        ...(verify ? { verify } : {}),
      },
    }),
  );
  return file;
};
