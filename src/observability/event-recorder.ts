// Kubernetes Events (events.k8s.io/v1) with the reporting controller tagguard.dev/controller. A repeat of
// the same event (object, type, reason, note) within the series window updates the existing Event's
// series (count, lastObservedTime) instead of creating a new one, as client-go's EventBroadcaster does.
// Recording never throws: an Event is a courtesy, a failure to write one is logged and dropped.
import { randomBytes } from 'node:crypto';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';

export const REPORTING_CONTROLLER = 'tagguard.dev/controller';

export interface EventTarget {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
}

export interface EventRecord {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  /** What tagguard did or saw, one short sentence (Kubernetes caps notes at 1 kB). */
  readonly note: string;
  /** Machine-readable action, e.g. Verify, Hold, Release. */
  readonly action: string;
}

export interface EventSink {
  record(target: EventTarget, event: EventRecord): Promise<void>;
}

const SERIES_WINDOW_MS = 30 * 60 * 1000;
const MAX_NOTE = 1024;
const MAX_REMEMBERED = 4096;

/** Kubernetes MicroTime: RFC 3339 with exactly six fractional digits. */
export const microTime = (date: Date): string => date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

interface SeriesState {
  readonly name: string;
  readonly namespace: string;
  count: number;
  readonly first: number;
}

export class EventRecorder implements EventSink {
  private readonly api: CustomObjectsApi;
  private readonly instance: string;
  private readonly logger: Logger;
  private readonly now: () => Date;
  private readonly series = new Map<string, SeriesState>();

  constructor(kubeConfig: KubeConfig, options: { instance: string; logger: Logger; now?: () => Date }) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
    this.instance = options.instance;
    this.logger = options.logger;
    this.now = options.now ?? (() => new Date());
  }

  async record(target: EventTarget, event: EventRecord): Promise<void> {
    const note = event.note.length > MAX_NOTE ? `${event.note.slice(0, MAX_NOTE - 1)}…` : event.note;
    const key = [
      target.kind,
      target.namespace,
      target.name,
      target.uid ?? '',
      event.type,
      event.reason,
      note,
    ].join('\u0000');
    const now = this.now();
    try {
      const existing = this.series.get(key);
      if (existing && now.getTime() - existing.first < SERIES_WINDOW_MS) {
        existing.count += 1;
        await this.api.patchNamespacedCustomObject(
          {
            group: 'events.k8s.io',
            version: 'v1',
            plural: 'events',
            namespace: existing.namespace,
            name: existing.name,
            body: { series: { count: existing.count, lastObservedTime: microTime(now) } },
          },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        return;
      }
      const name = `${target.name}.${randomBytes(8).toString('hex')}`;
      await this.api.createNamespacedCustomObject({
        group: 'events.k8s.io',
        version: 'v1',
        plural: 'events',
        namespace: target.namespace,
        body: {
          apiVersion: 'events.k8s.io/v1',
          kind: 'Event',
          metadata: { name, namespace: target.namespace },
          eventTime: microTime(now),
          reportingController: REPORTING_CONTROLLER,
          reportingInstance: this.instance,
          action: event.action,
          reason: event.reason,
          note,
          type: event.type,
          regarding: {
            apiVersion: target.apiVersion,
            kind: target.kind,
            namespace: target.namespace,
            name: target.name,
            ...(target.uid ? { uid: target.uid } : {}),
          },
        },
      });
      if (this.series.size >= MAX_REMEMBERED) this.series.clear();
      this.series.set(key, { name, namespace: target.namespace, count: 1, first: now.getTime() });
    } catch (error) {
      // A series whose Event was garbage-collected starts over next time.
      this.series.delete(key);
      this.logger.warn(
        {
          err: error instanceof Error ? error.message : String(error),
          reason: event.reason,
          target: `${target.kind}/${target.namespace}/${target.name}`,
        },
        'could not record event',
      );
    }
  }
}
