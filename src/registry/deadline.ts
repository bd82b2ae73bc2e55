// Overall deadlines of registry work, besides undici's idle timeouts (which a server defeats by sending one
// byte now and then): an operation (a resolve, a manifest and its blobs, a whole signature lookup) runs in
// a scope whose AbortSignal every request, retry wait and queue wait inside it obeys; nested scopes keep
// the earliest deadline. Scopes travel with AsyncLocalStorage so callers need not thread a signal through.
import { AsyncLocalStorage } from 'node:async_hooks';
import { RegistryError } from './errors.ts';

interface Scope {
  readonly signal: AbortSignal;
}

const scopes = new AsyncLocalStorage<Scope>();

/** The signal of the innermost operation running, if any. */
export const currentDeadline = (): AbortSignal | undefined => scopes.getStore()?.signal;

const FLAGS = { request: '--registry-request-timeout', operation: '--registry-operation-timeout' };

export const formatDuration = (ms: number): string =>
  ms % 60_000 === 0 ? `${ms / 60_000}m` : ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;

/** The Timeout error of a deadline, naming the host, the work and the flag that sets it. */
export const deadlineError = (
  kind: 'request' | 'operation',
  host: string,
  what: string,
  ms: number,
): RegistryError =>
  new RegistryError(
    'Timeout',
    `${host}: ${what} did not finish within the ${kind} deadline of ${formatDuration(ms)} (${FLAGS[kind]})`,
    { host, deadline: kind },
  );

/**
 * Settles like `promise`, or rejects with the signal's reason as soon as it aborts. Work that ignores the
 * signal (a read shared with another caller) goes on, but this caller is answered at its deadline.
 */
export const untilAborted = <T>(promise: Promise<T>, signal: AbortSignal): Promise<T> => {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
};

/** Runs `work` in a new scope that aborts after `ms` with `onTimeout()` (or earlier, with an outer scope). */
export const withDeadline = async <T>(
  ms: number,
  onTimeout: () => Error,
  work: () => Promise<T>,
): Promise<T> => {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(onTimeout()), ms);
  const outer = currentDeadline();
  const signal = outer ? AbortSignal.any([outer, controller.signal]) : controller.signal;
  try {
    return await untilAborted(
      scopes.run({ signal }, () => work()),
      signal,
    );
  } finally {
    clearTimeout(timer);
  }
};
