// Runs the pinned kubectl (scripts/testbin.sh) against the test API server and returns its output; a
// non-zero exit is returned too (not thrown), so tests can assert on what the API server answered.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot, testbinDir } from '../../env/paths.ts';

export interface KubectlResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

// kubectl keeps a discovery cache under $HOME/.kube: a throwaway home per test process.
const home = mkdtempSync(join(tmpdir(), 'tagguard-kubectl-'));

export const kubectl = (kubeconfig: string, args: readonly string[]): Promise<KubectlResult> => {
  const binary = join(testbinDir, 'kubectl');
  if (!existsSync(binary)) {
    throw new Error(`kubectl is missing at ${binary}: run 'make testbin TOOLS=kubectl' first`);
  }
  return new Promise((resolve) => {
    execFile(
      binary,
      ['--kubeconfig', kubeconfig, ...args],
      { cwd: projectRoot, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const exitCode = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ exitCode, stdout, stderr });
      },
    );
  });
};
