// A HelmRepository parent's status from its children: each child's verdict (Pending until judged), the
// capped chart list with problems first, counts and the Charts column, Ready only when every chart is
// trusted, the error conditions, and Events only when a chart's verdict changes.
import { describe, expect, it } from 'vitest';
import type {
  ArtifactVerification,
  ArtifactVerificationStatus,
  Condition,
} from '../../../src/api/artifact-verification.ts';
import { childName } from '../../../src/controller/fanout/child-plan.ts';
import {
  MAX_CHARTS,
  childVerdict,
  summarizeParent,
  type ParentInput,
} from '../../../src/controller/fanout/parent-status.ts';
import { stalled, waiting } from '../../../src/controller/reconcile-error.ts';

const NOW = new Date('2026-12-05T12:00:00Z');
const DIGEST_A = `sha256:${'a'.repeat(64)}`;

const parent = (status?: ArtifactVerificationStatus): ArtifactVerification => ({
  apiVersion: 'tagguard.dev/v1alpha1',
  kind: 'ArtifactVerification',
  metadata: { name: 'charts', namespace: 'apps', uid: 'u', generation: 2 },
  spec: { sourceRef: { kind: 'HelmRepository', name: 'charts' } },
  ...(status ? { status } : {}),
});

const cond = (type: string, status: Condition['status'], reason: string, generation = 1): Condition => ({
  type,
  status,
  reason,
  message: '',
  observedGeneration: generation,
  lastTransitionTime: '2026-12-05T11:00:00Z',
});

type ChildState = 'trusted' | 'untrusted' | 'error' | 'verifying' | 'stale' | 'new' | 'held-untrusted';

const child = (name: string, state: ChildState, digest = DIGEST_A): ArtifactVerification => {
  const base: ArtifactVerification = {
    apiVersion: 'tagguard.dev/v1alpha1',
    kind: 'ArtifactVerification',
    metadata: { name, namespace: 'apps', generation: 1 },
    spec: {},
  };
  if (state === 'new') return base;
  const artifact = {
    url: `oci://r.example/charts/${name}`,
    tag: '3.1.0',
    digest,
    resolvedAt: '2026-12-05T11:00:00Z',
  };
  const verdictOf = { trusted: 'Trusted', untrusted: 'Untrusted', 'held-untrusted': 'Untrusted' } as const;
  const ready: Record<ChildState, Condition> = {
    trusted: cond('Ready', 'True', 'Trusted'),
    untrusted: cond('Ready', 'False', 'UntrustedSigner'),
    'held-untrusted': cond('Ready', 'False', 'FindingsAtThreshold'),
    error: cond('Ready', 'False', 'SourceNotFound'),
    verifying: cond('Ready', 'False', 'Verifying'),
    stale: cond('Ready', 'True', 'Trusted'),
    new: cond('Ready', 'Unknown', 'x'),
  };
  const conditions = [ready[state]];
  if (state === 'held-untrusted') conditions.push(cond('Held', 'True', 'Held'));
  if (state === 'error') conditions.push(cond('Stalled', 'True', 'SourceNotFound'));
  return {
    ...base,
    metadata: { ...base.metadata, generation: state === 'stale' ? 2 : 1 },
    status: {
      observedGeneration: 1,
      conditions,
      artifact,
      ...(state in verdictOf
        ? {
            history: [
              {
                digest,
                tag: '3.1.0',
                firstSeen: '2026-12-05T11:00:00Z',
                verdict: verdictOf[state as keyof typeof verdictOf],
                reason: ready[state].reason,
              },
            ],
          }
        : {}),
    },
  };
};

const consumer = (name: string) => ({ kind: 'HelmRelease' as const, namespace: 'apps', name });

const input = (
  states: Readonly<Record<string, ChildState>>,
  previous?: ArtifactVerificationStatus,
  extra: Partial<ParentInput> = {},
): ParentInput => ({
  parent: parent(previous),
  now: NOW,
  charts: Object.entries(states).map(([name, state]) => ({
    consumer: consumer(name),
    name: childName('charts', consumer(name)),
    child: child(name, state),
  })),
  added: [],
  removed: [],
  ...extra,
});

const ready = (status: ArtifactVerificationStatus) => status.conditions?.find((c) => c.type === 'Ready');

describe('childVerdict', () => {
  it.each([
    ['not created yet', undefined, 'Pending'],
    ['created, never reconciled', child('x', 'new'), 'Pending'],
    ['judging a new spec (observedGeneration behind)', child('x', 'stale'), 'Pending'],
    ['verifying a new digest (quarantine)', child('x', 'verifying'), 'Pending'],
    ['Ready', child('x', 'trusted'), 'Trusted'],
    ['untrusted by its history', child('x', 'untrusted'), 'Untrusted'],
    ['stalled on its source', child('x', 'error'), 'Error'],
  ] as const)('is %s → %s', (_what, c, verdict) => {
    expect(childVerdict(c).verdict).toBe(verdict);
  });
});

describe('summarizeParent', () => {
  it('is Ready only when every chart is trusted, with counts and the Charts column', () => {
    const { status } = summarizeParent(input({ payment: 'trusted', billing: 'trusted' }));
    expect(ready(status)).toMatchObject({ status: 'True', reason: 'ChartsTrusted', observedGeneration: 2 });
    expect(status.chartCounts).toEqual({ total: 2, trusted: 2, untrusted: 0, error: 0, pending: 0 });
    expect(status.chartsSummary).toBe('2/2 trusted');
    expect(status.source).toBe('HelmRepository/charts');
    expect(status.charts?.[0]).toEqual({
      consumer: 'HelmRelease/apps/billing',
      chart: 'billing',
      version: '3.1.0',
      digest: DIGEST_A,
      verdict: 'Trusted',
      reason: 'Trusted',
      child: childName('charts', consumer('billing')),
    });
  });

  it('names the untrusted chart, lists it first and is Held when its child holds', () => {
    const { status } = summarizeParent(
      input({ audit: 'trusted', billing: 'held-untrusted', payment: 'verifying', shop: 'error' }),
    );
    expect(ready(status)).toMatchObject({ status: 'False', reason: 'ChartsUntrusted' });
    expect(ready(status)?.message).toContain(
      'HelmRelease/apps/billing (billing 3.1.0@sha256:aaaaaaaaaaaa): Untrusted',
    );
    expect(status.charts?.map((c) => `${c.consumer} ${c.verdict}`)).toEqual([
      'HelmRelease/apps/billing Untrusted',
      'HelmRelease/apps/shop Error',
      'HelmRelease/apps/payment Pending',
      'HelmRelease/apps/audit Trusted',
    ]);
    expect(status.chartsSummary).toBe('1/4 trusted, 1 untrusted, 1 error, 1 pending');
    expect(status.conditions?.find((c) => c.type === 'Held')).toMatchObject({ status: 'True' });
    expect(status.conditions?.find((c) => c.type === 'Reconciling')).toMatchObject({ reason: 'Verifying' });
  });

  it('is not Ready while a chart is pending', () => {
    const { status } = summarizeParent(input({ payment: 'trusted', billing: 'new' }));
    expect(ready(status)).toMatchObject({ status: 'False', reason: 'Verifying' });
  });

  it('is Ready with NoConsumers when nothing consumes the repository', () => {
    const { status } = summarizeParent(input({}));
    expect(ready(status)).toMatchObject({ status: 'True', reason: 'NoConsumers' });
    expect(status.chartsSummary).toBe('0/0 trusted');
  });

  it(`lists at most ${MAX_CHARTS} charts and counts them all`, () => {
    const states = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`c${i}`, 'trusted' as const]));
    const { status } = summarizeParent(input(states));
    expect(status.charts).toHaveLength(MAX_CHARTS);
    expect(status.chartCounts?.total).toBe(60);
  });

  it.each([
    ['Stalled', stalled('UnsupportedSource', 'HTTP Helm repositories: not yet'), 'Stalled'],
    ['Waiting', waiting('SourceNotFound', 'missing', 15_000), 'Reconciling'],
  ] as const)('after a %s error keeps the last chart list and says why', (_kind, error, present) => {
    const previous = summarizeParent(input({ payment: 'trusted' })).status;
    const { status, events } = summarizeParent(input({}, previous, { error }));
    expect(ready(status)).toMatchObject({ status: 'False', reason: error.reason });
    expect(status.conditions?.find((c) => c.type === present)?.status).toBe('True');
    expect(status.charts).toEqual(previous.charts);
    expect(status.lastFailure?.reason).toBe(error.reason);
    expect(events).toEqual([]);
  });

  it('shows no chart counts after an error before any chart was listed', () => {
    const { status } = summarizeParent(input({}, undefined, { error: stalled('UnsupportedSource', 'HTTP') }));
    expect(status.chartsSummary).toBeUndefined();
    expect(status.charts).toBeUndefined();
    expect(ready(status)?.reason).toBe('UnsupportedSource');
  });

  it('announces a chart once when its verdict changes, never a pending one', () => {
    const first = summarizeParent(input({ payment: 'verifying', billing: 'trusted' }));
    expect(first.events.map((e) => `${e.reason} ${e.type}`)).toEqual(['ChartTrusted Normal']);
    const again = summarizeParent(input({ payment: 'verifying', billing: 'trusted' }, first.status));
    expect(again.events).toEqual([]);
    const attacked = summarizeParent(input({ payment: 'trusted', billing: 'untrusted' }, again.status));
    expect(attacked.events.map((e) => `${e.reason} ${e.type}`).sort()).toEqual([
      'ChartTrusted Normal',
      'ChartUntrusted Warning',
    ]);
    expect(attacked.events.find((e) => e.reason === 'ChartUntrusted')?.note).toContain(
      'HelmRelease/apps/billing',
    );
  });

  it('announces consumers added and children removed', () => {
    const removed = child('gone', 'trusted');
    const { events } = summarizeParent(
      input({ payment: 'new' }, undefined, { added: [consumer('payment')], removed: [removed] }),
    );
    expect(events.map((e) => e.reason)).toEqual(['ConsumerAdded', 'ConsumerRemoved']);
  });
});
