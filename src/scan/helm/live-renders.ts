// The helm renders running now, so that a process told to stop (SIGTERM, SIGINT, SIGHUP) or exiting kills each
// helm process group and removes its scratch directory: nothing of a render outlives tagguard. One instance is
// made by the command that owns the process (the CLI) and passed down in ScanOptions; no module-level state.
import { rmSync } from 'node:fs';

export interface LiveRender {
  /** helm's pid, which is also its process group id (spawned detached). */
  pid: number | undefined;
  readonly scratch: string;
}

export class LiveRenders {
  readonly #renders = new Set<LiveRender>();

  start(scratch: string): LiveRender {
    const render: LiveRender = { pid: undefined, scratch };
    this.#renders.add(render);
    return render;
  }

  end(render: LiveRender): void {
    this.#renders.delete(render);
  }

  get size(): number {
    return this.#renders.size;
  }

  /** Kills every live helm process group and removes its directory. Synchronous: safe in an 'exit' handler. */
  killAll(): void {
    for (const render of this.#renders) {
      if (render.pid !== undefined) {
        try {
          process.kill(-render.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      rmSync(render.scratch, { recursive: true, force: true });
    }
    this.#renders.clear();
  }
}

const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

/**
 * For a command that owns its process (`tagguard scan`): on exit, and on a stop signal, the live renders are
 * killed and removed; a signal is then raised again with the default action, so the process ends as it would
 * have. Returns the function that removes the handlers.
 */
export const killRendersOnExit = (renders: LiveRenders): (() => void) => {
  const onExit = (): void => renders.killAll();
  const onSignal = (signal: NodeJS.Signals): void => {
    renders.killAll();
    uninstall();
    process.kill(process.pid, signal);
  };
  const uninstall = (): void => {
    process.off('exit', onExit);
    for (const signal of SIGNALS) process.off(signal, onSignal);
  };
  process.on('exit', onExit);
  for (const signal of SIGNALS) process.on(signal, onSignal);
  return uninstall;
};
