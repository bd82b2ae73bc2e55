// Which registry requests may wait: a poll tick's HEADs run "in background", everything else (a new CR's
// first resolve, fetching and judging a digest, a push-triggered look) in the foreground. The rate limiter
// and the per-registry semaphore serve foreground waiters first, so thousands of routine HEADs never starve
// the first judgement of a digest (issue 17: an operator starting over 5,000 CRs). AsyncLocalStorage carries
// the mark through the registry client's calls without threading a parameter through every one of them.
import { AsyncLocalStorage } from 'node:async_hooks';

const background = new AsyncLocalStorage<true>();

/** Runs `work` with its registry requests queued behind foreground ones. */
export const inBackground = <T>(work: () => Promise<T>): Promise<T> => background.run(true, work);

/** Whether the caller runs in background (a poll tick). */
export const isBackground = (): boolean => background.getStore() === true;
