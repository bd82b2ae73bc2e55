// What one process costs, from /proc: CPU time (utime + stime of /proc/<pid>/stat, in clock ticks) and
// memory (VmRSS and its peak VmHWM of /proc/<pid>/status). Linux only, as the test environment is.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ProcSample {
  /** When the sample was taken (performance.now(), ms). */
  readonly atMs: number;
  /** utime + stime in seconds. */
  readonly cpuSeconds: number;
  readonly rssBytes: number;
  readonly hwmBytes: number;
}

let ticksPerSecond: number | undefined;
const clockTicks = (): number => {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticksPerSecond;
};

const statusKiB = (status: string, field: string): number => {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  if (!match) throw new Error(`no ${field} in /proc status`);
  return Number(match[1]) * 1024;
};

export const sampleProcess = (pid: number): ProcSample => {
  const atMs = performance.now();
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces and parentheses): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return {
    atMs,
    cpuSeconds: ticks / clockTicks(),
    rssBytes: statusKiB(status, 'VmRSS'),
    hwmBytes: statusKiB(status, 'VmHWM'),
  };
};

/** CPU used between two samples, as a percentage of one core. */
export const cpuPercent = (from: ProcSample, to: ProcSample): number =>
  (100 * (to.cpuSeconds - from.cpuSeconds)) / ((to.atMs - from.atMs) / 1000);
