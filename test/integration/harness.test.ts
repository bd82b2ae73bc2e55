// The harness's promise that no server outlives a run, tested with real processes: a runner that is
// killed with SIGKILL (no chance to clean up) still takes its children with it.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../env/processes.ts';

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const RUNNER = `
import { writeFileSync } from 'node:fs';
import { ProcessSupervisor } from ${JSON.stringify(new URL('../env/processes.ts', import.meta.url).href)};
const dir = process.argv[1];
const supervisor = new ProcessSupervisor(dir);
const child = supervisor.start('sleeper', 'sleep', ['300']);
writeFileSync(dir + '/child.pid', String(child.pid));
setInterval(() => {}, 1000);
`;

describe('the process supervisor', () => {
  it('kills its children when the test runner itself is SIGKILLed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tagguard-harness-'));
    const runner = spawn(process.execPath, ['--input-type=module', '-e', RUNNER, dir], { stdio: 'inherit' });
    const childPid = await waitFor(
      'the runner to start its child',
      async () => Number(await readFile(join(dir, 'child.pid'), 'utf8')) || undefined,
      { timeoutMs: 20_000 },
    );
    expect(isAlive(childPid)).toBe(true);

    runner.kill('SIGKILL');
    await waitFor(
      'the orphaned child to be killed by the watchdog',
      () => Promise.resolve(isAlive(childPid) ? undefined : true),
      {
        timeoutMs: 10_000,
        intervalMs: 200,
      },
    );
    expect(isAlive(childPid)).toBe(false);
  });

  it('stops every child on stopAll, escalating to SIGKILL for one that ignores SIGTERM', async () => {
    const { ProcessSupervisor } = await import('../env/processes.ts');
    const dir = await mkdtemp(join(tmpdir(), 'tagguard-harness-'));
    const supervisor = new ProcessSupervisor(dir);
    const stubborn = supervisor.start('stubborn', 'bash', ['-c', "trap '' TERM; sleep 300 & wait"]);
    const polite = supervisor.start('polite', 'sleep', ['300']);
    await new Promise((r) => setTimeout(r, 200));
    await supervisor.stopAll(500);
    expect(stubborn.hasExited()).toBe(true);
    expect(polite.hasExited()).toBe(true);
    expect(isAlive(stubborn.pid)).toBe(false);
  });
});
