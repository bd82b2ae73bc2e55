// The parent's steps with in-memory stand-ins of tagguard's own interfaces (ChildStore, the SourceLoader's
// loadConsumers, ClusterAccess's writes, EventSink): children follow the consumers, an HTTP repository
// stalls without touching them, a failure leaves them as they are, and deletion waits for them to go.
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import {
  FINALIZER,
  type ArtifactVerification,
  type ArtifactVerificationStatus,
} from '../../src/api/artifact-verification.ts';
import type { ChildStore } from '../../src/controller/child-store.ts';
import { canonicalJson } from '../../src/controller/fanout/canonical-json.ts';
import { childName } from '../../src/controller/fanout/child-plan.ts';
import { HelmRepositoryFanout } from '../../src/controller/helm-repository-fanout.ts';
import { waiting } from '../../src/controller/reconcile-error.ts';
import type { HelmRepositorySource } from '../../src/sources/resolve-source.ts';

interface World {
  parent: ArtifactVerification;
  children: Map<string, ArtifactVerification>;
  source: HelmRepositorySource | Error;
  statuses: ArtifactVerificationStatus[];
  events: string[];
  calls: string[];
  /** replace answers 409: the child changed since it was listed. */
  conflict?: boolean;
}

const consumer = (name: string) => ({ kind: 'HelmRelease' as const, namespace: 'apps', name });

const world = (names: string[], type: 'oci' | 'default' = 'oci'): World => ({
  parent: {
    apiVersion: 'tagguard.dev/v1alpha1',
    kind: 'ArtifactVerification',
    metadata: { name: 'charts', namespace: 'apps', uid: 'u', generation: 1 },
    spec: { sourceRef: { kind: 'HelmRepository', name: 'charts' }, interval: '1m' },
  },
  children: new Map(),
  source: {
    repository: { namespace: 'apps', name: 'charts', type, url: 'oci://r.example/charts' },
    consumers: names.map(consumer),
  },
  statuses: [],
  events: [],
  calls: [],
});

const fanoutFor = (w: World): HelmRepositoryFanout => {
  const children: ChildStore = {
    list: () => Promise.resolve([...w.children.values()]),
    create: (child) => {
      w.calls.push(`create ${child.metadata.name}`);
      w.children.set(child.metadata.name, { ...child, metadata: { ...child.metadata, generation: 1 } });
      return Promise.resolve();
    },
    replace: (child) => {
      w.calls.push(`replace ${child.metadata.name}`);
      if (w.conflict) return Promise.resolve(false);
      w.children.set(child.metadata.name, child);
      return Promise.resolve(true);
    },
    delete: (child) => {
      w.calls.push(`delete ${child.metadata.name}`);
      // As the API server does with a finalizer: marked, gone once the child's reconcile lets go.
      w.children.set(child.metadata.name, {
        ...child,
        metadata: { ...child.metadata, deletionTimestamp: '2026-12-05T12:00:00Z' },
      });
      return Promise.resolve();
    },
  };
  return new HelmRepositoryFanout({
    cluster: {
      writeStatus: (_object, status) => {
        w.statuses.push(status);
        // As the API server answers: the keys of every map sorted.
        w.parent = { ...w.parent, status: JSON.parse(canonicalJson(status)) as ArtifactVerificationStatus };
        return Promise.resolve();
      },
      writeFinalizers: (object, finalizers) => {
        w.calls.push(`finalizers [${finalizers.join(',')}]`);
        w.parent = { ...object, metadata: { ...object.metadata, finalizers } };
        return Promise.resolve(w.parent);
      },
    },
    children,
    sources: {
      loadConsumers: () => (w.source instanceof Error ? Promise.reject(w.source) : Promise.resolve(w.source)),
    },
    events: {
      record: (_target, event) => {
        w.events.push(event.reason);
        return Promise.resolve();
      },
    },
    logger: pino({ level: 'silent' }),
    now: () => new Date('2026-12-05T12:00:00Z'),
  });
};

const ready = (w: World) => w.parent.status?.conditions?.find((c) => c.type === 'Ready');

describe('HelmRepositoryFanout', () => {
  it('puts its finalizer on first, then makes one child per consumer and reports them pending', async () => {
    const w = world(['payment', 'billing']);
    const result = await fanoutFor(w).reconcile(w.parent, pino({ level: 'silent' }));
    expect(w.calls).toEqual([
      `finalizers [${FINALIZER}]`,
      `create ${childName('charts', consumer('payment'))}`,
      `create ${childName('charts', consumer('billing'))}`,
    ]);
    expect(w.parent.status?.chartCounts).toMatchObject({ total: 2, pending: 2 });
    expect(ready(w)).toMatchObject({ status: 'False', reason: 'Verifying' });
    expect(w.events).toEqual(['ConsumerAdded', 'ConsumerAdded']);
    expect(result.requeueAfterMs).toBe(60_000);
  });

  it('writes the status only when it changed, whatever the key order the API server answers with', async () => {
    const w = world(['payment']);
    const fanout = fanoutFor(w);
    await fanout.reconcile(w.parent, pino({ level: 'silent' }));
    expect(w.statuses).toHaveLength(1);
    await fanout.reconcile(w.parent, pino({ level: 'silent' }));
    expect(w.statuses).toHaveLength(1);
  });

  it('deletes the child of a consumer that is gone and keeps the others', async () => {
    const w = world(['payment', 'billing']);
    const fanout = fanoutFor(w);
    await fanout.reconcile(w.parent, pino({ level: 'silent' }));
    w.source = { ...(w.source as HelmRepositorySource), consumers: [consumer('payment')] };
    w.calls = [];
    await fanout.reconcile(w.parent, pino({ level: 'silent' }));
    expect(w.calls).toEqual([`delete ${childName('charts', consumer('billing'))}`]);
    expect(w.parent.status?.charts?.map((c) => c.consumer)).toEqual(['HelmRelease/apps/payment']);
  });

  it('plans again soon, without an error, when a child changed under its update', async () => {
    const w = world(['payment']);
    const fanout = fanoutFor(w);
    await fanout.reconcile(w.parent, pino({ level: 'silent' }));
    const name = childName('charts', consumer('payment'));
    const listed = w.children.get(name) as ArtifactVerification;
    w.children.set(name, { ...listed, spec: { ...listed.spec, action: 'Warn' } });
    w.conflict = true;
    const result = await fanout.reconcile(w.parent, pino({ level: 'silent' }));
    expect(w.calls.at(-1)).toBe(`replace ${name}`);
    expect(result.requeueAfterMs).toBeLessThan(5_000);
    expect(ready(w)?.reason).toBe('Verifying');
    w.conflict = false;
    await fanout.reconcile(w.parent, pino({ level: 'silent' }));
    expect(w.children.get(name)?.spec.action).toBeUndefined();
  });

  it('keeps a child per consumer of an HTTP repository too', async () => {
    const oci = world(['payment', 'billing']);
    const http = world(['payment', 'billing'], 'default');
    await fanoutFor(oci).reconcile(oci.parent, pino({ level: 'silent' }));
    await fanoutFor(http).reconcile(http.parent, pino({ level: 'silent' }));
    expect(http.calls.filter((c) => c.startsWith('create')).sort()).toEqual(
      oci.calls.filter((c) => c.startsWith('create')).sort(),
    );
    expect(http.children.size).toBe(2);
    expect(http.parent.status?.conditions?.find((c) => c.type === 'Stalled')?.status).not.toBe('True');
  });

  it('leaves the children as they are when the repository cannot be read (they keep holding)', async () => {
    const w = world(['payment']);
    const fanout = fanoutFor(w);
    await fanout.reconcile(w.parent, pino({ level: 'silent' }));
    w.source = waiting('SourceNotFound', 'HelmRepository apps/charts does not exist', 15_000);
    w.calls = [];
    const result = await fanout.reconcile(w.parent, pino({ level: 'silent' }));
    expect(w.calls).toEqual([]);
    expect(w.children.size).toBe(1);
    expect(ready(w)).toMatchObject({ status: 'False', reason: 'SourceNotFound' });
    expect(result.requeueAfterMs).toBe(15_000);
  });

  it('on deletion deletes every child and keeps its finalizer until they are gone', async () => {
    const w = world(['payment', 'billing']);
    const fanout = fanoutFor(w);
    await fanout.reconcile(w.parent, pino({ level: 'silent' }));
    w.parent = { ...w.parent, metadata: { ...w.parent.metadata, deletionTimestamp: '2026-12-05T12:00:00Z' } };
    w.calls = [];
    const first = await fanout.reconcile(w.parent, pino({ level: 'silent' }));
    expect(w.calls.sort()).toEqual(
      [
        `delete ${childName('charts', consumer('billing'))}`,
        `delete ${childName('charts', consumer('payment'))}`,
      ].sort(),
    );
    expect(first.requeueAfterMs).toBeGreaterThan(0);
    // Still there (their finalizers run): no second delete, the finalizer stays.
    w.calls = [];
    await fanout.reconcile(w.parent, pino({ level: 'silent' }));
    expect(w.calls).toEqual([]);
    w.children.clear();
    expect(await fanout.reconcile(w.parent, pino({ level: 'silent' }))).toEqual({});
    expect(w.calls).toEqual(['finalizers []']);
  });
});
