// Helpers of the runtime integration tests: a namespace per test, a recorder of informer events that a
// test can wait on, captured pino logs (to see which path the informer took), and etcd compaction.
import { pino, type Logger } from 'pino';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Informer, InformerEvent } from '../../../src/runtime/informer.ts';
import type { KubeTestClient } from '../../env/kube.ts';
import { waitFor } from '../../env/processes.ts';

export const uniqueName = (prefix: string): string =>
  `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;

export const createNamespace = async (kube: KubeTestClient, prefix: string): Promise<string> => {
  const name = uniqueName(prefix);
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
};

export const configMap = (
  namespace: string,
  name: string,
  data: Record<string, string>,
  labels?: Record<string, string>,
): KubernetesObject & { data: Record<string, string> } => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace, ...(labels ? { labels } : {}) },
  data,
});

export type ConfigMapObject = KubernetesObject & { data?: Record<string, string> };

export interface LogCapture {
  readonly logger: Logger;
  readonly lines: Record<string, unknown>[];
  count(msg: string): number;
}

export const captureLogs = (): LogCapture => {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { logger, lines, count: (msg) => lines.filter((l) => l.msg === msg).length };
};

/** Every event an informer emitted, as `type name data` strings, plus a way to wait for one. */
export class EventRecorder<T extends ConfigMapObject> {
  readonly events: InformerEvent<T>[] = [];

  constructor(informer: Informer<T>) {
    informer.onEvent((event) => this.events.push(event));
  }

  summary(): string[] {
    return this.events.map(
      (e) => `${e.type} ${e.object.metadata?.name ?? ''} ${JSON.stringify(e.object.data ?? {})}`,
    );
  }

  waitFor(
    what: string,
    predicate: (e: InformerEvent<T>) => boolean,
    timeoutMs = 20_000,
  ): Promise<InformerEvent<T>> {
    return waitFor(what, () => Promise.resolve(this.events.find(predicate)), { timeoutMs, intervalMs: 50 });
  }
}

const etcdCall = async (etcdUrl: string, path: string, body: object): Promise<Record<string, unknown>> => {
  const res = await fetch(`${etcdUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`etcd ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
};

/** Compacts etcd's history up to its current revision: every older resourceVersion is gone. */
export const compactEtcd = async (etcdUrl: string): Promise<number> => {
  const range = await etcdCall(etcdUrl, '/v3/kv/range', { key: Buffer.from('/').toString('base64') });
  const revision = Number((range.header as { revision: string }).revision);
  await etcdCall(etcdUrl, '/v3/kv/compaction', { revision: String(revision), physical: true });
  return revision;
};
