// Runs a pinned CLI (helm, oras, cosign, notation …) to completion with an explicit environment and
// returns its output; a failure names the command and carries its stderr.
import { execFile } from 'node:child_process';
import { toolPath, type ToolName } from './paths.ts';

export interface RunOptions {
  env?: Record<string, string>;
  cwd?: string;
  input?: string;
  timeoutMs?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

export class ToolError extends Error {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number | null;

  constructor(message: string, output: { stdout: string; stderr: string; exitCode: number | null }) {
    super(message);
    this.name = 'ToolError';
    this.stdout = output.stdout;
    this.stderr = output.stderr;
    this.exitCode = output.exitCode;
  }
}

export const runTool = (
  tool: ToolName,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> =>
  new Promise((resolveRun, reject) => {
    const child = execFile(
      toolPath(tool),
      args,
      {
        cwd: options.cwd,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...options.env },
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (!error) {
          resolveRun({ stdout, stderr });
          return;
        }
        const code = typeof error.code === 'number' ? error.code : null;
        reject(
          new ToolError(
            `${tool} ${args.join(' ')} failed (exit ${code ?? error.signal}):\n${stderr}${stdout}`,
            {
              stdout,
              stderr,
              exitCode: code,
            },
          ),
        );
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
