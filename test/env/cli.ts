// Runs the tagguard CLI from source (src/cli/main.ts on the project's Node 24) as a child process, the way
// a CI pipeline would: its exit code, stdout and stderr, with only the environment given.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
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
): Promise<CliResult> => {
  const node = join(projectRoot, 'node_modules', '.bin', 'node');
  try {
    const { stdout, stderr } = await exec(node, [join(projectRoot, 'src/cli/main.ts'), ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
};
