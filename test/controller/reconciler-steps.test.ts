// The reconciler's steps one by one, with in-memory implementations of its own collaborators
// (ReconcilerDeps): what each step's error holds, which status reason it leaves and whether the reconcile
// is requeued, and every hold and release transition.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type {
  ArtifactVerification,
  ArtifactVerificationStatus,
  HeldTarget,
  HoldAction,
} from '../../src/api/artifact-verification.ts';
import { FINALIZER } from '../../src/api/artifact-verification.ts';
import { Reason } from '../../src/api/conditions.ts';
import type { OperatorConfig } from '../../src/config/operator-config.ts';
import type { CheckedArtifact } from '../../src/controller/artifact-checker.ts';
import type { ClusterAccess } from '../../src/controller/cluster-access.ts';
import { ReconcileError, waiting } from '../../src/controller/reconcile-error.ts';
import { ArtifactVerificationReconciler, type ReconcilerDeps } from '../../src/controller/reconciler.ts';
import type { LoadedSource } from '../../src/controller/source-loader.ts';
import type { HoldChange } from '../../src/controller/target-holder.ts';
import type { TargetRef } from '../../src/enforce/types.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { RegistryClient } from '../../src/registry/client.ts';
import type { ResolvedArtifact } from '../../src/registry/resolved-artifact.ts';
import { RegistryError } from '../../src/registry/errors.ts';
import { RegistryTransport } from '../../src/registry/transport.ts';

/** The registry client resolutions are said to come through: the checker fake never uses it. */
const CLIENT = new RegistryClient(new RegistryTransport());
const GOOD = `sha256:${'a'.repeat(64)}`;
const EVIL = `sha256:${'e'.repeat(64)}`;
const URL = 'oci://registry.example/charts/payment';
const now = new Date('2026-12-04T12:00:00Z');
const repository: TargetRef = {
  apiVersion: 'source.toolkit.fluxcd.io/v1',
  kind: 'OCIRepository',
  namespace: 'apps',
  name: 'payment',
};
const release: TargetRef = {
  apiVersion: 'helm.toolkit.fluxcd.io/v2',
  kind: 'HelmRelease',
  namespace: 'apps',
  name: 'payment',
};

type HolderCall = 'holdAll' | 'pinTrusted' | 'releaseStale' | 'recover' | 'releaseAll';

/** The cluster, the registry and the checks as this test arranges them, and what the reconciler did. */
interface World {
  object: ArtifactVerification | undefined;
  loaded: LoadedSource | Error;
  digest: string | Error;
  checks: Map<string, CheckedArtifact | Error>;
  /** The holder call that fails part way (after its first target), with a HoldFailed error. */
  failIn?: HolderCall;
  /** Targets the held-by annotations show that the status does not list. */
  annotated: HeldTarget[];
  writeStatusFails: number;
  holderCalls: HolderCall[];
  pinnedTo: { digest: string; version?: string | undefined }[];
  reverify: boolean[];
  /** The URLs whose registry client was looked up, and what the checks were handed. */
  clientLookups: string[];
  checked: ResolvedArtifact[];
  statusWrites: ArtifactVerificationStatus[];
  events: { reason: string; note: string }[];
}

const avObject = (
  options: {
    action?: HoldAction;
    resume?: 'Manual' | 'Automatic';
    status?: ArtifactVerificationStatus;
    annotations?: Record<string, string>;
    finalizers?: string[];
    interval?: string;
  } = {},
): ArtifactVerification => ({
  apiVersion: 'tagguard.dev/v1alpha1',
  kind: 'ArtifactVerification',
  metadata: {
    name: 'payment',
    namespace: 'apps',
    generation: 1,
    finalizers: options.finalizers ?? [FINALIZER],
    ...(options.annotations ? { annotations: options.annotations } : {}),
  },
  spec: {
    sourceRef: { kind: 'OCIRepository', name: 'payment' },
    action: options.action ?? 'Suspend',
    ...(options.resume ? { resume: options.resume } : {}),
    ...(options.interval ? { interval: options.interval } : {}),
  },
  ...(options.status ? { status: options.status } : {}),
});

const trustedStatus = (digest: string, heldTargets: HeldTarget[] = []): ArtifactVerificationStatus => ({
  trustedDigest: digest,
  artifact: { url: URL, tag: '3.1.0', digest, resolvedAt: '2026-12-04T11:00:00Z' },
  history: [{ digest, tag: '3.1.0', firstSeen: '2026-12-04T11:00:00Z', verdict: 'Trusted' }],
  heldTargets,
});

const suspended = (target: TargetRef): HeldTarget => ({
  ...target,
  method: 'spec.suspend',
  since: '2026-12-04T11:30:00Z',
});

const signed: CheckedArtifact = {
  verification: { digest: GOOD, verdict: 'Trusted', reasons: [], signers: [] },
};
const unsigned: CheckedArtifact = {
  verification: { digest: EVIL, verdict: 'Untrusted', reasons: ['SignatureMissing'], signers: [] },
};

const world = (object: ArtifactVerification, partial: Partial<World> = {}): World => ({
  object,
  loaded: {
    artifacts: [
      {
        access: {
          url: URL,
          reference: { registry: 'registry.example', repository: 'charts/payment' },
          tag: '3.1.0',
          insecure: false,
          credential: { kind: 'anonymous' },
          credentialId: 'anonymous',
        },
        origin: 'OCIRepository apps/payment',
      },
    ],
    targets: [repository, release],
  },
  digest: EVIL,
  checks: new Map<string, CheckedArtifact | Error>([
    [GOOD, signed],
    [EVIL, unsigned],
  ]),
  annotated: [],
  writeStatusFails: 0,
  holderCalls: [],
  pinnedTo: [],
  reverify: [],
  clientLookups: [],
  checked: [],
  statusWrites: [],
  events: [],
  ...partial,
});

const same = (a: TargetRef, b: TargetRef): boolean => a.kind === b.kind && a.name === b.name;
const holdFailed = (): ReconcileError => new ReconcileError('Generic', Reason.HoldFailed, 'conflict');

/** An in-memory TargetHolder: suspends and pins by record only, and fails part way when asked. */
const holderFor = (w: World): ReconcilerDeps['holder'] => ({
  holdAll: (_holder, targets, current) => {
    w.holderCalls.push('holdAll');
    const held = [...current];
    const events: HoldChange['events'][number][] = [];
    for (const target of targets) {
      if (held.some((h) => same(h, target))) continue;
      held.push(suspended(target));
      events.push({ target, kind: 'Held', message: `held ${target.kind}` });
      if (w.failIn === 'holdAll') return Promise.resolve({ held, events, error: holdFailed() });
    }
    return Promise.resolve({ held, events });
  },
  pinTrusted: (_holder, targets, current, trusted) => {
    w.holderCalls.push('pinTrusted');
    w.pinnedTo.push(trusted);
    const pinned = targets
      .filter((t) => t.kind === 'OCIRepository')
      .map((t): HeldTarget => ({ ...t, method: 'spec.ref.digest', since: '2026-12-04T12:00:00Z' }));
    const released = current.filter((h) => !pinned.some((p) => same(p, h)));
    if (w.failIn === 'pinTrusted')
      return Promise.resolve({ held: [...current], events: [], unpinnable: [], error: holdFailed() });
    return Promise.resolve({
      held: pinned,
      events: [
        ...released.map((t) => ({ target: t, kind: 'Released' as const, message: `released ${t.kind}` })),
        ...pinned.map((t) => ({ target: t, kind: 'Pinned' as const, message: `pinned ${t.kind}` })),
      ],
      unpinnable: [],
    });
  },
  releaseStale: (_holder, current, keep) => {
    w.holderCalls.push('releaseStale');
    const held = current.filter((h) => keep.some((k) => same(k, h)));
    const stale = current.filter((h) => !keep.some((k) => same(k, h)));
    if (w.failIn === 'releaseStale' && stale.length > 0) {
      const [first] = stale;
      return Promise.resolve({
        held: current.filter((h) => h !== first),
        events: first
          ? [{ target: first, kind: 'Released' as const, message: `released ${first.kind}` }]
          : [],
        error: holdFailed(),
      });
    }
    return Promise.resolve({
      held,
      events: stale.map((t) => ({ target: t, kind: 'Released' as const, message: `released ${t.kind}` })),
    });
  },
  recover: (_holder, _targets, current) => {
    w.holderCalls.push('recover');
    if (w.failIn === 'recover') return Promise.reject(Object.assign(new Error('etcd'), { code: 500 }));
    return Promise.resolve([...current, ...w.annotated.filter((a) => !current.some((c) => same(a, c)))]);
  },
  releaseAll: (_holder, current) => {
    w.holderCalls.push('releaseAll');
    return Promise.resolve(
      current.map(({ apiVersion, kind, namespace, name }) => ({ apiVersion, kind, namespace, name })),
    );
  },
});

const reconcilerFor = (w: World, config = {} as OperatorConfig): ArtifactVerificationReconciler => {
  const cluster: ClusterAccess = {
    readSecret: () => Promise.resolve(undefined),
    readConfigMap: () => Promise.resolve(undefined),
    getArtifactVerification: () => Promise.resolve(w.object),
    writeStatus: (object, status) => {
      if (w.writeStatusFails > 0) {
        w.writeStatusFails--;
        return Promise.reject(Object.assign(new Error('conflict'), { code: 409 }));
      }
      w.statusWrites.push(status);
      w.object = { ...object, status };
      return Promise.resolve();
    },
    writeFinalizers: (object, finalizers) => {
      w.object = { ...object, metadata: { ...object.metadata, finalizers: [...finalizers] } };
      return Promise.resolve(w.object);
    },
  };
  const deps: ReconcilerDeps = {
    config,
    cluster,
    // No sourceRef HelmRepository here: its branch is tested in helm-repository-fanout.test.ts.
    fanout: { reconcile: () => Promise.reject(new Error('unexpected fan-out')) },
    sources: {
      load: () => (w.loaded instanceof Error ? Promise.reject(w.loaded) : Promise.resolve(w.loaded)),
    },
    helmRepositories: {
      resolve: () => Promise.reject(new Error('no HTTP Helm repository in this test')),
      resolved: () => {
        throw new Error('no HTTP Helm repository in this test');
      },
    },
    registries: {
      clientFor: (access) => {
        w.clientLookups.push(access.url);
        return CLIENT;
      },
      resolve: () =>
        w.digest instanceof Error
          ? Promise.reject(w.digest)
          : Promise.resolve({
              digest: w.digest,
              tag: '3.1.0',
              mediaType: 'application/vnd.oci.image.manifest.v1+json',
            }),
    },
    poller: {
      resolve: async (_key, _subscriber, _interval, resolver) => ({
        ...(await resolver()),
        at: now.getTime(),
      }),
      retain: () => undefined,
      forget: () => undefined,
    },
    checker: {
      check: (_object, _artifact, resolved, options) => {
        const { reference } = resolved;
        w.checked.push(resolved);
        w.reverify.push(options?.reverify === true);
        const result = w.checks.get(reference.digest) ?? {};
        return result instanceof Error ? Promise.reject(result) : Promise.resolve(result);
      },
    },
    holder: holderFor(w),
    events: {
      record: (_target, event) => {
        w.events.push({ reason: event.reason, note: event.note });
        return Promise.resolve();
      },
    },
    metrics: createMetrics(),
    logger: pino({ level: 'silent' }),
    now: () => now,
  };
  return new ArtifactVerificationReconciler(deps);
};

interface Outcome {
  readonly result?: { requeueAfterMs?: number };
  readonly threw?: unknown;
}

const run = async (w: World, reconciler = reconcilerFor(w)): Promise<Outcome> => {
  try {
    return { result: await reconciler.reconcile('apps', 'payment') };
  } catch (threw) {
    return { threw };
  }
};

const last = (w: World): ArtifactVerificationStatus | undefined => w.statusWrites.at(-1);
const condition = (w: World, type: string) => last(w)?.conditions?.find((c) => c.type === type);
const heldNames = (w: World): string[] => (last(w)?.heldTargets ?? []).map((t) => `${t.kind}:${t.method}`);

describe('each step’s error: what is held, the status reason, the requeue', () => {
  it('loadSources names no artifact: Stalled UnsupportedSource, nothing held, no requeue', async () => {
    const w = world(avObject(), { loaded: { artifacts: [], targets: [repository] } });
    const { result } = await run(w);
    expect(result).toEqual({});
    expect(w.holderCalls).toEqual([]);
    expect(condition(w, 'Ready')).toMatchObject({ status: 'False', reason: Reason.UnsupportedSource });
    expect(condition(w, 'Stalled')).toMatchObject({ status: 'True', reason: Reason.UnsupportedSource });
  });

  it('loadSources waits for the source: Waiting, requeued after its delay, nothing held', async () => {
    const w = world(avObject(), { loaded: waiting('SourceNotReady', 'not ready', 5_000) });
    const { result } = await run(w);
    expect(result).toEqual({ requeueAfterMs: 5_000 });
    expect(w.holderCalls).toEqual([]);
    expect(condition(w, 'Reconciling')).toMatchObject({ status: 'True', reason: Reason.Waiting });
  });

  it('recoverHolds fails: KubernetesError, the recorded holds stay, the error goes to the work queue', async () => {
    const status = trustedStatus(GOOD, [suspended(repository)]);
    const w = world(avObject({ status }), { failIn: 'recover' });
    const { threw } = await run(w);
    expect(threw).toBeInstanceOf(ReconcileError);
    expect(w.holderCalls).toEqual(['recover']);
    expect(heldNames(w)).toEqual(['OCIRepository:spec.suspend']);
    expect(condition(w, 'Ready')).toMatchObject({ reason: Reason.KubernetesError });
  });

  it('resolveDigests fails on a digest never trusted: held, RegistryError, Reconciling, retried', async () => {
    const w = world(avObject(), { digest: new RegistryError('NotFound', 'no such tag') });
    const { threw } = await run(w);
    expect(threw).toMatchObject({ reason: Reason.RegistryError });
    expect(heldNames(w)).toEqual(['OCIRepository:spec.suspend', 'HelmRelease:spec.suspend']);
    expect(condition(w, 'Reconciling')).toMatchObject({ status: 'True', reason: Reason.RetryingAfterError });
    expect(w.events.map((e) => e.reason)).toContain('RegistryError');
  });

  it('the quarantine’s hold fails part way: the partial hold is recorded, nothing is checked', async () => {
    const w = world(avObject(), { failIn: 'holdAll' });
    const { threw } = await run(w);
    expect(threw).toMatchObject({ reason: Reason.HoldFailed });
    expect(w.reverify).toEqual([]);
    expect(heldNames(w)).toEqual(['OCIRepository:spec.suspend']);
    expect(w.statusWrites).toHaveLength(1); // the report only: no quarantine record after a failed hold
    expect(condition(w, 'Ready')).toMatchObject({ reason: Reason.HoldFailed });
  });

  it('the quarantine’s record cannot be written: still held in the cluster, nothing checked, retried', async () => {
    const w = world(avObject(), { writeStatusFails: 1 });
    const { threw } = await run(w);
    expect(threw).toMatchObject({ reason: Reason.KubernetesError });
    expect(w.reverify).toEqual([]);
    expect(w.holderCalls).toEqual(['recover', 'holdAll']);
    expect(heldNames(w)).toHaveLength(2);
  });

  it('checkArtifacts fails on a new digest: verdict Error in the history, held, retried', async () => {
    const w = world(avObject(), { checks: new Map([[EVIL, new RegistryError('Unavailable', '500')]]) });
    const { threw } = await run(w);
    expect(threw).toMatchObject({ reason: Reason.RegistryError });
    expect(last(w)?.history?.[0]).toMatchObject({ digest: EVIL, verdict: 'Error' });
    expect(heldNames(w)).toHaveLength(2);
  });

  it('checkArtifacts fails on the trusted digest: nothing is held or released (Keep)', async () => {
    const w = world(avObject({ status: trustedStatus(GOOD) }), {
      digest: GOOD,
      checks: new Map([[GOOD, new RegistryError('Unavailable', '500')]]),
    });
    await run(w);
    expect(w.holderCalls).toEqual(['recover']);
    expect(last(w)?.history?.[0]).toMatchObject({ digest: GOOD, verdict: 'Trusted' });
  });

  it('enforce’s release fails part way: what is still held is recorded, HoldFailed, retried', async () => {
    const status = trustedStatus(GOOD, [suspended(repository), suspended(release)]);
    const w = world(avObject({ status }), { digest: GOOD, failIn: 'releaseStale' });
    const { threw } = await run(w);
    expect(threw).toMatchObject({ reason: Reason.HoldFailed });
    expect(heldNames(w)).toEqual(['HelmRelease:spec.suspend']);
    expect(w.events.map((e) => e.reason)).toContain('Released');
  });

  it('enforce’s pin fails: the record is kept as it was, HoldFailed', async () => {
    const status = trustedStatus(GOOD, [suspended(repository)]);
    const w = world(avObject({ action: 'Pin', status }), { digest: GOOD, failIn: 'pinTrusted' });
    const { threw } = await run(w);
    expect(threw).toMatchObject({ reason: Reason.HoldFailed });
    expect(heldNames(w)).toEqual(['OCIRepository:spec.suspend']);
  });

  it('report cannot write the status: thrown, and the next reconcile recovers the holds first', async () => {
    const w = world(avObject({ status: trustedStatus(GOOD) }), { digest: GOOD });
    const reconciler = reconcilerFor(w);
    await run(w, reconciler);
    await run(w, reconciler);
    expect(w.holderCalls.filter((c) => c === 'recover')).toHaveLength(1);
    w.writeStatusFails = 1;
    // A change that quarantines nothing (an outage on the trusted digest): only report() writes, and fails.
    w.checks = new Map([[GOOD, new RegistryError('Unavailable', '500')]]);
    const failed = await run(w, reconciler);
    expect(failed.threw).toBeDefined();
    w.holderCalls = [];
    await run(w, reconciler);
    expect(w.holderCalls[0]).toBe('recover');
  });

  it.each([
    [undefined, 60_000],
    ['5m', 300_000],
    ['1s', 10_000],
  ])('a trusted reconcile with interval %s is requeued after %i ms', async (interval, ms) => {
    const w = world(avObject({ status: trustedStatus(GOOD), ...(interval ? { interval } : {}) }), {
      digest: GOOD,
    });
    expect((await run(w)).result).toEqual({ requeueAfterMs: ms });
  });
});

describe('hold and release transitions', () => {
  it('hold: an untrusted digest is held from the quarantine on and stays held', async () => {
    const w = world(avObject({ status: trustedStatus(GOOD) }));
    await run(w);
    expect(w.holderCalls).toEqual(['recover', 'holdAll', 'holdAll']);
    expect(heldNames(w)).toEqual(['OCIRepository:spec.suspend', 'HelmRelease:spec.suspend']);
    expect(condition(w, 'Ready')).toMatchObject({ status: 'False', reason: 'SignatureMissing' });
    expect(condition(w, 'TagMutated')).toMatchObject({ status: 'True' });
  });

  it('pin: a trusted digest with Pin moves the pin to it and releases the suspension', async () => {
    const status = trustedStatus(GOOD, [suspended(release)]);
    const w = world(avObject({ action: 'Pin', status }), { digest: GOOD });
    await run(w);
    expect(w.pinnedTo).toEqual([{ digest: GOOD, version: '3.1.0' }]);
    expect(heldNames(w)).toEqual(['OCIRepository:spec.ref.digest']);
    expect(condition(w, 'Held')).toMatchObject({ status: 'False', reason: Reason.PinnedToVerified });
    expect(condition(w, 'Gated')).toMatchObject({ status: 'True', reason: Reason.Pinned });
  });

  it('release: a trusted digest releases the holds of an earlier untrusted one', async () => {
    const status = trustedStatus(GOOD, [suspended(repository), suspended(release)]);
    const w = world(avObject({ status }), { digest: GOOD });
    await run(w);
    expect(w.holderCalls).toEqual(['recover', 'releaseStale']);
    expect(heldNames(w)).toEqual([]);
    expect(condition(w, 'Ready')).toMatchObject({ status: 'True', reason: Reason.Trusted });
  });

  it('Manual resume: trust returns but the hold stays until the digest is approved, then it is released', async () => {
    const status = trustedStatus(GOOD, [suspended(repository)]);
    const w = world(avObject({ resume: 'Manual', status }), { digest: GOOD });
    await run(w);
    expect(heldNames(w)).toEqual(['OCIRepository:spec.suspend', 'HelmRelease:spec.suspend']);
    expect(condition(w, 'Ready')).toMatchObject({ status: 'False', reason: Reason.AwaitingApproval });
    const held = w.object?.status;
    w.object = avObject({
      resume: 'Manual',
      annotations: { 'tagguard.dev/approve': GOOD },
      ...(held ? { status: held } : {}),
    });
    await run(w);
    expect(heldNames(w)).toEqual([]);
    expect(condition(w, 'Ready')).toMatchObject({ status: 'True' });
  });

  it('Warn: holds nothing, releases holds left from another action, and still reports untrusted', async () => {
    const status = trustedStatus(GOOD, [suspended(repository)]);
    const w = world(avObject({ action: 'Warn', status }));
    await run(w);
    expect(w.holderCalls).toEqual(['recover', 'releaseStale']);
    expect(heldNames(w)).toEqual([]);
    expect(condition(w, 'Ready')).toMatchObject({ status: 'False', reason: 'SignatureMissing' });
  });

  it('quarantine then release in the same reconcile: Verifying recorded, then Trusted and nothing held', async () => {
    const w = world(avObject({ status: trustedStatus(EVIL) }), { digest: GOOD });
    await run(w);
    expect(w.holderCalls).toEqual(['recover', 'holdAll', 'releaseStale']);
    expect(w.statusWrites[0]?.conditions?.find((c) => c.type === 'Ready')?.reason).toBe(Reason.Verifying);
    expect(w.statusWrites[0]?.heldTargets).toHaveLength(2);
    expect(heldNames(w)).toEqual([]);
    expect(w.events.filter((e) => e.reason === 'Held').every((e) => e.note.includes('(Verifying)'))).toBe(
      true,
    );
    expect(w.events.map((e) => e.reason)).toContain('Released');
  });

  it('a re-check of a digest already held and still untrusted adds no hold and no record mid-reconcile', async () => {
    const status: ArtifactVerificationStatus = {
      ...trustedStatus(GOOD, [suspended(repository), suspended(release)]),
      history: [
        { digest: EVIL, tag: '3.1.0', firstSeen: '2026-12-04T11:30:00Z', verdict: 'Untrusted' },
        { digest: GOOD, tag: '3.1.0', firstSeen: '2026-12-04T11:00:00Z', verdict: 'Trusted' },
      ],
    };
    const w = world(avObject({ status }));
    await run(w);
    expect(w.statusWrites.length).toBeLessThanOrEqual(1);
    expect(w.events.map((e) => e.reason)).not.toContain('Held');
    expect(heldNames(w)).toHaveLength(2);
  });

  it('recoverHolds: holds found on the targets but missing from the record are released when trusted', async () => {
    const w = world(avObject({ status: trustedStatus(GOOD) }), {
      digest: GOOD,
      annotated: [suspended(release)],
    });
    await run(w);
    expect(w.events.filter((e) => e.reason === 'Released')).toHaveLength(2);
    expect(heldNames(w)).toEqual([]);
  });

  it('an approved digest is neither quarantined nor held although its checks fail', async () => {
    const w = world(avObject({ status: trustedStatus(GOOD), annotations: { 'tagguard.dev/approve': EVIL } }));
    await run(w);
    expect(w.holderCalls).toEqual(['recover', 'releaseStale']);
    expect(condition(w, 'Ready')).toMatchObject({ status: 'True' });
    expect(last(w)?.history?.[0]).toMatchObject({ digest: EVIL, reason: Reason.ApprovedManually });
  });
});

describe('around the steps', () => {
  it('resolveDigests looks the client up once per artifact and hands the checks it with the digest in the reference', async () => {
    const w = world(avObject({ status: trustedStatus(GOOD) }));
    await run(w);
    expect(w.clientLookups).toEqual([URL]);
    expect(w.checked).toEqual([
      {
        client: CLIENT,
        reference: { registry: 'registry.example', repository: 'charts/payment', digest: EVIL },
      },
    ]);
  });

  it('reconciles no CR outside its --watch-namespace (a key from a target held by another instance)', async () => {
    const w = world(avObject({ finalizers: [] }));
    const outcome = await run(w, reconcilerFor(w, { watchNamespace: 'other' } as OperatorConfig));
    expect(outcome).toEqual({ result: {} });
    expect(w.statusWrites).toEqual([]);
    expect(w.holderCalls).toEqual([]);
    expect(w.object?.metadata.finalizers).toEqual([]);
    // Its own namespace: reconciled.
    await run(w, reconcilerFor(w, { watchNamespace: 'apps' } as OperatorConfig));
    expect(w.statusWrites.length).toBeGreaterThan(0);
  });

  it('adds the finalizer before anything is held', async () => {
    const w = world(avObject({ finalizers: [] }));
    await run(w);
    expect(w.object?.metadata.finalizers).toEqual([FINALIZER]);
  });

  it('adds no finalizer to a raw spec.artifact CR, which can hold nothing; keeps one it has holds for', async () => {
    const raw = (status?: ArtifactVerificationStatus): ArtifactVerification => {
      const { sourceRef: _, ...spec } = avObject({ finalizers: [] }).spec;
      return {
        ...avObject({ finalizers: [], ...(status ? { status } : {}) }),
        spec: { ...spec, artifact: { url: URL, tag: '3.1.0' } },
      };
    };
    const w = world(raw());
    if (!(w.loaded instanceof Error)) w.loaded = { ...w.loaded, targets: [] };
    await run(w);
    expect(w.object?.metadata.finalizers).toEqual([]);
    expect(w.statusWrites.length).toBeGreaterThan(0);
    // A spec that changed from a sourceRef with holds recorded: the finalizer stays needed until released.
    const held = world(raw(trustedStatus(GOOD, [suspended(repository)])));
    await run(held);
    expect(held.object?.metadata.finalizers).toEqual([FINALIZER]);
  });

  it('deletion releases every hold, removes the finalizer and runs no other step', async () => {
    const status = trustedStatus(GOOD, [suspended(repository)]);
    const w = world({
      ...avObject({ status }),
      metadata: { ...avObject().metadata, deletionTimestamp: '2026-12-04T12:00:00Z' },
    });
    expect((await run(w)).result).toEqual({});
    expect(w.holderCalls).toEqual(['releaseAll']);
    expect(w.object?.metadata.finalizers).toEqual([]);
    expect(w.events.map((e) => e.reason)).toEqual(['Released']);
  });

  it('a CR that is gone is forgotten: nothing is read or written', async () => {
    const w = world(avObject());
    w.object = undefined;
    expect((await run(w)).result).toEqual({});
    expect(w.holderCalls).toEqual([]);
  });

  it('a new requested-at verifies afresh once, not on every reconcile', async () => {
    const w = world(
      avObject({ status: trustedStatus(GOOD), annotations: { 'tagguard.dev/requested-at': '1' } }),
      {
        digest: GOOD,
      },
    );
    const reconciler = reconcilerFor(w);
    await run(w, reconciler);
    await run(w, reconciler);
    expect(w.reverify).toEqual([true, false]);
  });
});
