// A list-watch cache of one resource kind (optionally one namespace / label selector), as client-go's
// reflector does it: list (paginated), then watch from the list's resourceVersion with bookmarks; on a
// server close resume from the last resourceVersion seen; on 410 Gone (history compacted) list again and
// emit the difference — updates missed and deletes for objects that vanished during the gap. Errors never
// end it: it retries with capped exponential backoff until stop(). Handlers run synchronously, in order.
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { backoffDelay, type BackoffPolicy } from './backoff.ts';
import { RuntimeError, isRuntimeError } from './errors.ts';
import { kubeJson } from './kube-api.ts';
import { apiVersionOf, collectionPath, type ResourceKind } from './resource-kind.ts';
import { sleep } from './sleep.ts';
import { streamWatchEvents, type WatchEvent } from './watch-stream.ts';

export type InformerEvent<T> = {
  readonly type: 'add' | 'update' | 'delete';
  readonly object: T;
  /** For 'update': the cached object before. For a resync, the same object as `object`. */
  readonly old?: T;
};

export interface InformerOptions {
  readonly kind: ResourceKind;
  readonly namespace?: string | undefined;
  readonly labelSelector?: string | undefined;
  readonly logger: Logger;
  /** Re-deliver every cached object as an 'update' (old === object) this often; off by default. */
  readonly resyncMs?: number | undefined;
  /** Items per list page (default 500). */
  readonly pageSize?: number | undefined;
  /** Server-side watch timeout; default a random 300–600 s per watch, as client-go, to spread reconnects. */
  readonly watchTimeoutSeconds?: number | undefined;
  /** Backoff after failures: default 500 ms doubling up to 30 s, with jitter. */
  readonly baseDelayMs?: number | undefined;
  readonly maxDelayMs?: number | undefined;
  readonly random?: (() => number) | undefined;
}

interface ListPage {
  readonly metadata?: { readonly resourceVersion?: string; readonly continue?: string };
  readonly items?: readonly unknown[];
}

/** Why the watch ended without an exception: the server closed it, or said the history is gone. */
type WatchEnd = { readonly expired: boolean; readonly received: number };

const DEFAULT_PAGE_SIZE = 500;
const LIST_TIMEOUT_MS = 60_000;
/** A watch closed this soon with no event counts as a failure, so a misbehaving server cannot spin us. */
const MIN_HEALTHY_WATCH_MS = 1_000;

const cacheKey = (namespace: string | undefined, name: string): string => `${namespace ?? ''}/${name}`;

const isObjectWithName = (value: unknown): value is KubernetesObject & { metadata: { name: string } } => {
  if (typeof value !== 'object' || value === null) return false;
  const metadata = (value as { metadata?: unknown }).metadata;
  return (
    typeof metadata === 'object' &&
    metadata !== null &&
    typeof (metadata as { name?: unknown }).name === 'string'
  );
};

/** What the API server keeps for other clients and tagguard never reads: dropped as objects arrive. */
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * Cached objects without `managedFields` and kubectl's last-applied copy of the object: often most of an
 * object's bytes, read by nothing here (holds are merge patches of the fields they change, never a PUT of
 * a cached object), and the cache holds every Flux and Argo CD object of the cluster (issue 17).
 */
export const trimMetadata = <M extends { annotations?: Record<string, string>; managedFields?: unknown }>(
  metadata: M,
): M => {
  const { managedFields: _managed, ...rest } = metadata;
  const annotations = rest.annotations;
  if (annotations === undefined || !(LAST_APPLIED in annotations)) return rest as M;
  const { [LAST_APPLIED]: _lastApplied, ...kept } = annotations;
  return { ...rest, annotations: kept } as M;
};

const resourceVersionOf = (object: unknown): string | undefined => {
  const metadata = (object as { metadata?: { resourceVersion?: unknown } } | undefined)?.metadata;
  return typeof metadata?.resourceVersion === 'string' ? metadata.resourceVersion : undefined;
};

export class Informer<T extends KubernetesObject> {
  private readonly kubeConfig: KubeConfig;
  private readonly options: InformerOptions;
  private readonly logger: Logger;
  private readonly backoff: BackoffPolicy;
  private readonly handlers: ((event: InformerEvent<T>) => void)[] = [];
  private readonly abort = new AbortController();
  private cache = new Map<string, T>();
  private resourceVersion = '';
  private synced = false;
  private loop: Promise<void> | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private readonly firstSync: PromiseWithResolvers<void> = Promise.withResolvers<void>();

  constructor(kubeConfig: KubeConfig, options: InformerOptions) {
    this.kubeConfig = kubeConfig;
    this.options = options;
    this.logger = options.logger.child({
      informer: `${options.kind.plural}${options.kind.group ? `.${options.kind.group}` : ''}`,
      ...(options.namespace !== undefined ? { namespace: options.namespace } : {}),
    });
    this.backoff = {
      baseDelayMs: options.baseDelayMs ?? 500,
      maxDelayMs: options.maxDelayMs ?? 30_000,
      ...(options.random ? { random: options.random } : {}),
    };
    // start() hands this promise out; a stop() before the first sync must not become an unhandled rejection.
    this.firstSync.promise.catch(() => undefined);
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  onEvent(handler: (event: InformerEvent<T>) => void): void {
    this.handlers.push(handler);
  }

  /** Starts listing and watching; resolves once the first list is in the cache (rejects if stopped before). */
  start(): Promise<void> {
    if (this.abort.signal.aborted) {
      return Promise.reject(new RuntimeError('Stopped', 'the informer was stopped'));
    }
    this.loop ??= this.run();
    return this.firstSync.promise;
  }

  /** Ends the watch; no handler is called after this resolves. */
  async stop(): Promise<void> {
    this.abort.abort();
    clearInterval(this.resyncTimer);
    await this.loop;
    this.firstSync.reject(new RuntimeError('Stopped', 'the informer was stopped before its first list'));
  }

  /** How many objects the cache holds. */
  get size(): number {
    return this.cache.size;
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.cache.get(cacheKey(this.options.kind.namespaced ? namespace : undefined, name));
  }

  list(namespace?: string): T[] {
    const all = [...this.cache.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  /** The list-watch loop: runs until stop(), whatever the API server does. */
  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let failures = 0;
    let needList = true;
    let expiredInARow = 0;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
          failures = 0;
        }
        const startedAt = Date.now();
        const end = await this.watch();
        if (end.received > 0) failures = 0;
        if (end.expired) {
          needList = true;
          expiredInARow += 1;
          this.logger.info(
            { resourceVersion: this.resourceVersion },
            'watch history expired (410); listing again',
          );
          // A relist right after a relist that expired again means something is off: slow down.
          if (expiredInARow > 1) await sleep(backoffDelay(expiredInARow - 1, this.backoff), signal);
          continue;
        }
        expiredInARow = 0;
        this.logger.debug(
          { resourceVersion: this.resourceVersion, received: end.received },
          'watch closed; resuming',
        );
        if (end.received === 0 && Date.now() - startedAt < MIN_HEALTHY_WATCH_MS) {
          failures += 1;
          await sleep(backoffDelay(failures, this.backoff), signal);
        }
      } catch (error) {
        if (signal.aborted || isRuntimeError(error, 'Stopped')) break;
        if (isRuntimeError(error, 'Expired')) {
          // A list continue token expired (or a watch was refused with 410): start the list over.
          needList = true;
          expiredInARow += 1;
          if (expiredInARow > 1) await sleep(backoffDelay(expiredInARow - 1, this.backoff), signal);
          continue;
        }
        failures += 1;
        const delayMs = backoffDelay(failures, this.backoff);
        this.logger.warn(
          {
            err: error,
            code: isRuntimeError(error) ? error.code : undefined,
            failures,
            delayMs,
            listing: needList,
          },
          'list-watch failed; retrying',
        );
        if (error instanceof WatchErrorEvent) needList = true;
        await sleep(delayMs, signal);
      }
    }
  }

  /** Lists every page, replaces the cache and emits what changed since the cache was last filled. */
  private async relist(): Promise<void> {
    const { kind, namespace, labelSelector } = this.options;
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const page = await kubeJson<ListPage>(this.kubeConfig, {
        path: collectionPath(kind, namespace),
        query: { limit: this.options.pageSize ?? DEFAULT_PAGE_SIZE, continue: continueToken, labelSelector },
        signal: this.abort.signal,
        timeoutMs: LIST_TIMEOUT_MS,
      });
      if (!Array.isArray(page.items)) {
        throw new RuntimeError('InvalidResponse', `list ${kind.plural}: the answer has no items`);
      }
      for (const item of page.items) items.push(this.toObject(item));
      continueToken = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion;
    } while (continueToken !== undefined);
    if (resourceVersion === undefined || resourceVersion === '') {
      throw new RuntimeError('InvalidResponse', `list ${kind.plural}: the answer has no resourceVersion`);
    }
    this.replace(items, resourceVersion);
  }

  private replace(items: readonly T[], resourceVersion: string): void {
    const previous = this.cache;
    const next = new Map<string, T>();
    const events: InformerEvent<T>[] = [];
    for (const object of items) {
      const key = this.keyOf(object);
      next.set(key, object);
      const old = previous.get(key);
      if (!old) events.push({ type: 'add', object });
      else if (resourceVersionOf(old) !== resourceVersionOf(object))
        events.push({ type: 'update', object, old });
    }
    for (const [key, old] of previous) {
      if (!next.has(key)) events.push({ type: 'delete', object: old });
    }
    this.cache = next;
    this.resourceVersion = resourceVersion;
    this.logger.debug({ items: items.length, changes: events.length, resourceVersion }, 'listed');
    for (const event of events) this.emit(event);
    if (!this.synced) {
      this.synced = true;
      this.startResync();
      this.firstSync.resolve();
    }
  }

  /** One watch from the last resourceVersion, applied to the cache event by event. */
  private async watch(): Promise<WatchEnd> {
    const timeoutSeconds =
      this.options.watchTimeoutSeconds ?? Math.round(300 * (1 + (this.options.random ?? Math.random)()));
    const events = streamWatchEvents(this.kubeConfig, {
      path: collectionPath(this.options.kind, this.options.namespace),
      query: {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds,
        labelSelector: this.options.labelSelector,
      },
      signal: this.abort.signal,
      // The server ends the watch after timeoutSeconds; silence well past that is a dead connection.
      idleTimeoutMs: timeoutSeconds * 1000 + 30_000,
    });
    let received = 0;
    for await (const event of events) {
      if (this.abort.signal.aborted) break;
      if (event.type === 'ERROR') {
        const status = event.object as { code?: unknown; message?: unknown };
        if (status.code === 410) return { expired: true, received };
        throw new WatchErrorEvent(status.code, status.message);
      }
      received += 1;
      this.apply(event);
    }
    return { expired: false, received };
  }

  private apply(event: WatchEvent): void {
    const resourceVersion = resourceVersionOf(event.object);
    if (event.type === 'BOOKMARK') {
      if (resourceVersion !== undefined) this.resourceVersion = resourceVersion;
      return;
    }
    const object = this.toObject(event.object);
    const key = this.keyOf(object);
    const old = this.cache.get(key);
    if (event.type === 'DELETED') {
      this.cache.delete(key);
      if (old) this.emit({ type: 'delete', object });
    } else {
      this.cache.set(key, object);
      if (!old) this.emit({ type: 'add', object });
      else if (resourceVersionOf(old) !== resourceVersion) this.emit({ type: 'update', object, old });
    }
    if (resourceVersion !== undefined) this.resourceVersion = resourceVersion;
  }

  private emit(event: InformerEvent<T>): void {
    if (this.abort.signal.aborted) return;
    for (const handler of this.handlers) {
      try {
        handler(event);
      } catch (error) {
        // One faulty handler must not stop the cache or starve the other handlers.
        this.logger.error({ err: error, event: event.type }, 'informer event handler threw');
      }
    }
  }

  private startResync(): void {
    const every = this.options.resyncMs;
    if (every === undefined || every <= 0) return;
    this.resyncTimer = setInterval(() => {
      for (const object of this.cache.values()) this.emit({ type: 'update', object, old: object });
    }, every);
  }

  /** Narrows an item of the API server's answer; built-in list items carry no apiVersion/kind, so add them. */
  private toObject(value: unknown): T {
    if (!isObjectWithName(value)) {
      throw new RuntimeError(
        'InvalidResponse',
        `${this.options.kind.plural}: an object without metadata.name`,
      );
    }
    return {
      ...value,
      apiVersion: value.apiVersion ?? apiVersionOf(this.options.kind),
      kind: value.kind ?? this.options.kind.kind,
      metadata: trimMetadata(value.metadata),
    } as T;
  }

  private keyOf(object: KubernetesObject): string {
    const namespace = this.options.kind.namespaced ? object.metadata?.namespace : undefined;
    return cacheKey(namespace, object.metadata?.name ?? '');
  }
}

/** An ERROR event other than 410 inside a watch: the watch is unusable and the cache may be stale. */
class WatchErrorEvent extends RuntimeError {
  constructor(code: unknown, message: unknown) {
    super('ApiError', `watch error event: ${typeof message === 'string' ? message : 'no message'}`, {
      ...(typeof code === 'number' ? { status: code } : {}),
    });
  }
}
