// Runs a command in its own process group and measures what it costs: the peak resident memory of the
// process and all its descendants together (sampled from /proc every few milliseconds), the time, the exit
// code and its output. A run past its deadline is killed with its whole group.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface MeasuredRun {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Highest sum of VmRSS over the process tree seen by the sampler (bytes). */
  readonly peakRssBytes: number;
  readonly elapsedMs: number;
  readonly timedOut: boolean;
}

const SAMPLE_MS = 10;
const OUTPUT_CAP = 1024 * 1024;

const children = (pid: number): number[] => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .split(' ')
      .filter((s) => s !== '')
      .map(Number);
  } catch {
    return [];
  }
};

const rssOf = (pid: number): number => {
  try {
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? 0 : Number(kb) * 1024;
  } catch {
    return 0; // exited between the listing and the read
  }
};

/** Sum of the resident memory of `pid` and every descendant alive now. */
export const treeRss = (pid: number): number => {
  let total = 0;
  const stack = [pid];
  const seen = new Set<number>();
  while (stack.length > 0) {
    const next = stack.pop() ?? 0;
    if (seen.has(next)) continue;
    seen.add(next);
    total += rssOf(next);
    stack.push(...children(next));
  }
  return total;
};

export const runMeasured = (
  command: string,
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string; timeoutMs: number },
): Promise<MeasuredRun> =>
  new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, {
      env: options.env ?? {},
      ...(options.cwd ? { cwd: options.cwd } : {}),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    let timedOut = false;
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    };
    const sampler = setInterval(() => {
      if (child.pid !== undefined) peak = Math.max(peak, treeRss(child.pid));
    }, SAMPLE_MS);
    const deadline = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (stdout.length < OUTPUT_CAP) stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < OUTPUT_CAP) stderr += chunk;
    });
    child.on('error', (error) => {
      clearInterval(sampler);
      clearTimeout(deadline);
      reject(error);
    });
    child.on('close', (exitCode, signal) => {
      clearInterval(sampler);
      clearTimeout(deadline);
      killGroup(); // nothing the command started may outlive it
      resolve({
        exitCode,
        signal,
        stdout,
        stderr,
        peakRssBytes: peak,
        elapsedMs: performance.now() - started,
        timedOut,
      });
    });
  });
