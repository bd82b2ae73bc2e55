// Starts the test servers as child processes, each in its own process group with its output in a log
// file, and guarantees none outlives the run: stop() on teardown, an exit hook, and a detached watchdog
// that kills every recorded group if this process dies without cleaning up (SIGKILL, a crashed runner).
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, openSync, closeSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export interface ServiceHandle {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<string>;
  /** True once the process has ended. */
  hasExited(): boolean;
  stop(): Promise<void>;
}

export interface StartOptions {
  env?: Record<string, string>;
  cwd?: string;
}

const WATCHDOG = `
parent="$1"; groups="$2"
while kill -0 "$parent" 2>/dev/null; do sleep 1; done
[ -f "$groups" ] && while read -r pg; do kill -KILL -- "-$pg" 2>/dev/null; done < "$groups"
exit 0
`;

export class ProcessSupervisor {
  private readonly children = new Map<number, { handle: ServiceHandle; child: ChildProcess }>();
  private readonly groupsFile: string;
  private readonly watchdog: ChildProcess;
  private readonly onExit = (): void => this.killAllNow();

  private readonly logDir: string;

  constructor(logDir: string) {
    this.logDir = logDir;
    this.groupsFile = join(logDir, 'process-groups');
    writeFileSync(this.groupsFile, '');
    this.watchdog = spawn('bash', ['-c', WATCHDOG, 'watchdog', String(process.pid), this.groupsFile], {
      detached: true,
      stdio: 'ignore',
    });
    this.watchdog.unref();
    process.once('exit', this.onExit);
  }

  start(name: string, command: string, args: readonly string[], options: StartOptions = {}): ServiceHandle {
    const logFile = join(this.logDir, `${name}.log`);
    appendFileSync(logFile, `$ ${command} ${args.join(' ')}\n`);
    const fd = openSync(logFile, 'a');
    const child = spawn(command, args, {
      cwd: options.cwd,
      // Tools get a minimal, explicit environment: nothing of the developer's (credentials, proxies) leaks in.
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: options.env?.HOME ?? this.logDir,
        ...options.env,
      },
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
    const pid = child.pid;
    appendFileSync(this.groupsFile, `${pid}\n`);
    let ended = false;
    const exited = new Promise<string>((resolveExit) => {
      child.once('exit', (code, signal) => {
        ended = true;
        this.children.delete(pid);
        resolveExit(signal ?? String(code));
      });
    });
    const handle: ServiceHandle = {
      name,
      pid,
      logFile,
      exited,
      hasExited: () => ended,
      stop: () => this.stopOne(pid, exited),
    };
    this.children.set(pid, { handle, child });
    return handle;
  }

  /** Stops every child: SIGTERM, then SIGKILL after the grace period. */
  async stopAll(graceMs = 5000): Promise<void> {
    await Promise.all(
      [...this.children.values()].map(({ handle }) => this.stopOne(handle.pid, handle.exited, graceMs)),
    );
    writeFileSync(this.groupsFile, '');
    process.removeListener('exit', this.onExit);
    try {
      if (this.watchdog.pid !== undefined) process.kill(this.watchdog.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  /**
   * Lets every child outlive this process (the demo's KEEP=1): the watchdog and the exit hook are dropped,
   * and the process-group ids are returned so that something else can stop them later.
   */
  detach(): number[] {
    process.removeListener('exit', this.onExit);
    try {
      if (this.watchdog.pid !== undefined) process.kill(this.watchdog.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    for (const { child } of this.children.values()) child.unref();
    return [...this.children.keys()];
  }

  private async stopOne(pid: number, exited: Promise<string>, graceMs = 5000): Promise<void> {
    if (!this.children.has(pid)) return;
    signalGroup(pid, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
    signalGroup(pid, 'SIGKILL'); // grandchildren that ignored SIGTERM
  }

  private killAllNow(): void {
    for (const pid of this.children.keys()) signalGroup(pid, 'SIGKILL');
  }
}

const signalGroup = (pid: number, signal: NodeJS.Signals): void => {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
};

/** The last lines of a log file, for error messages. */
export const logTail = (file: string, lines = 40): string => {
  if (!existsSync(file)) return `(no log at ${file})`;
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
};

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** A process whose early exit should end the wait with its log. */
  process?: ServiceHandle;
}

/** Polls `check` until it returns a value other than undefined, or fails naming what was awaited. */
export const waitFor = async <T>(
  what: string,
  check: () => Promise<T | undefined>,
  { timeoutMs, intervalMs = 100, process: watched }: WaitOptions,
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (watched?.hasExited()) {
      throw new Error(`${watched.name} exited while waiting for ${what}:\n${logTail(watched.logFile)}`);
    }
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? `: ${lastError.message}` : '';
      const log = watched ? `\n${logTail(watched.logFile)}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}${log}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
};
