// One watch request as an async stream of events. The stream ends when the server closes the watch
// (its timeoutSeconds elapsed); it throws a RuntimeError when the connection fails or stays silent for
// longer than idleTimeoutMs (a half-open connection), and 'Stopped' when the caller's signal aborts.
import type { KubeConfig } from '@kubernetes/client-node';
import { RuntimeError } from './errors.ts';
import { kubeSend, type QueryParams } from './kube-api.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent {
  readonly type: WatchEventType;
  readonly object: Record<string, unknown>;
}

export interface WatchStreamOptions {
  readonly path: string;
  readonly query: QueryParams;
  readonly signal: AbortSignal;
  readonly idleTimeoutMs: number;
}

const WATCH_EVENT_TYPES: ReadonlySet<string> = new Set(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

const parseEvent = (line: string): WatchEvent => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    throw new RuntimeError('InvalidResponse', 'watch: an event line is not JSON', { cause: error });
  }
  const event = parsed as { type?: unknown; object?: unknown };
  if (
    typeof event.type !== 'string' ||
    !WATCH_EVENT_TYPES.has(event.type) ||
    typeof event.object !== 'object' ||
    event.object === null
  ) {
    throw new RuntimeError('InvalidResponse', 'watch: an event has no known type or no object');
  }
  return { type: event.type as WatchEventType, object: event.object as Record<string, unknown> };
};

export async function* streamWatchEvents(
  kubeConfig: KubeConfig,
  options: WatchStreamOptions,
): AsyncGenerator<WatchEvent, void, undefined> {
  const idle = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const armIdleTimer = (): void => {
    clearTimeout(timer);
    timer = setTimeout(
      () => idle.abort(new DOMException('watch idle timeout', 'TimeoutError')),
      options.idleTimeoutMs,
    );
  };
  const signal = AbortSignal.any([options.signal, idle.signal]);
  armIdleTimer();
  try {
    const response = await kubeSend(kubeConfig, {
      path: options.path,
      query: { ...options.query, watch: true },
      signal,
      timeoutMs: Infinity,
    }).catch((error: unknown) => {
      if (idle.signal.aborted && !options.signal.aborted) {
        throw new RuntimeError('Timeout', `watch ${options.path}: no answer for ${options.idleTimeoutMs} ms`);
      }
      throw error;
    });
    if (!response.body) throw new RuntimeError('InvalidResponse', `watch ${options.path}: no body`);
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for await (const chunk of response.body) {
        armIdleTimer();
        buffered += decoder.decode(chunk as Uint8Array, { stream: true });
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line !== '') yield parseEvent(line);
        }
      }
    } catch (error) {
      if (error instanceof RuntimeError) throw error;
      if (options.signal.aborted) throw new RuntimeError('Stopped', `watch ${options.path}: stopped`);
      if (idle.signal.aborted) {
        throw new RuntimeError('Timeout', `watch ${options.path}: no data for ${options.idleTimeoutMs} ms`);
      }
      throw new RuntimeError('ConnectionFailed', `watch ${options.path}: connection lost`, { cause: error });
    }
    const rest = buffered.trim();
    if (rest !== '') yield parseEvent(rest);
  } finally {
    clearTimeout(timer);
    // Ends the request when the consumer stops early (break, throw) so no socket is left open.
    idle.abort(new DOMException('watch closed', 'AbortError'));
  }
}
