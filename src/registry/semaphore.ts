// A counting semaphore: bounds concurrent requests to one registry. A waiter whose signal aborts (its
// operation's deadline) leaves the queue with the signal's reason. Background waiters (poll ticks) get a
// permit only when no foreground waiter is queued.
export class Semaphore {
  private available: number;
  private readonly waiters: (() => void)[] = [];
  private readonly backgroundWaiters: (() => void)[] = [];

  constructor(permits: number) {
    this.available = permits;
  }

  async acquire(signal?: AbortSignal, background = false): Promise<() => void> {
    const queue = background ? this.backgroundWaiters : this.waiters;
    signal?.throwIfAborted();
    if (this.available > 0) {
      this.available--;
    } else {
      await new Promise<void>((resolveWaiter, reject) => {
        const onAbort = (): void => {
          const index = queue.indexOf(wake);
          if (index >= 0) queue.splice(index, 1);
          reject(signal?.reason as Error);
        };
        const wake = (): void => {
          signal?.removeEventListener('abort', onAbort);
          resolveWaiter();
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        queue.push(wake);
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift() ?? this.backgroundWaiters.shift();
      if (next) next();
      else this.available++;
    };
  }
}
