// A lock across the test files of one run (they run in separate worker processes): files that start a
// heavy shared-nothing stack whose runs disturb each other on a 2-core machine (two Argo CD instances at
// once made the older Argo CD e2e miss its deadlines, cause not found) take turns. mkdir is atomic; a lock
// whose owner process is gone is taken over.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Waits until this process holds the named lock of the run; resolves to its release. */
export const exclusive = async (
  runDir: string,
  name: string,
  timeoutMs = 900_000,
): Promise<() => Promise<void>> => {
  const dir = join(runDir, 'locks', name);
  await mkdir(join(runDir, 'locks'), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await mkdir(dir);
      await writeFile(join(dir, 'pid'), String(process.pid));
      return () => rm(dir, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number(await readFile(join(dir, 'pid'), 'utf8').catch(() => ''));
    if (Number.isInteger(owner) && owner > 0 && !alive(owner)) {
      await rm(dir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new Error(`lock ${name} still held by process ${owner} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
};
