// The fail-closed rule end to end through the reconcile, with in-memory stand-ins for tagguard's own
// collaborators: an error thrown from every step, and what happens to the targets and the status.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type {
  ArtifactVerification,
  ArtifactVerificationStatus,
  HeldTarget,
} from '../../src/api/artifact-verification.ts';
import { FINALIZER } from '../../src/api/artifact-verification.ts';
import { Reason } from '../../src/api/conditions.ts';
import type { OperatorConfig } from '../../src/config/operator-config.ts';
import type { CheckedArtifact } from '../../src/controller/artifact-checker.ts';
import type { ClusterAccess } from '../../src/controller/cluster-access.ts';
import { ArtifactVerificationReconciler, type ReconcilerDeps } from '../../src/controller/reconciler.ts';
import { stalled } from '../../src/controller/reconcile-error.ts';
import type { LoadedSource } from '../../src/controller/source-loader.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { RegistryClient } from '../../src/registry/client.ts';
import { RegistryError } from '../../src/registry/errors.ts';
import { RegistryTransport } from '../../src/registry/transport.ts';
import { ScanError } from '../../src/scan/errors.ts';

/** The registry client resolutions are said to come through: the checker fake never uses it. */
const CLIENT = new RegistryClient(new RegistryTransport());
const GOOD = `sha256:${'a'.repeat(64)}`;
const EVIL = `sha256:${'e'.repeat(64)}`;
const now = new Date('2026-12-04T12:00:00Z');
const target = {
  apiVersion: 'source.toolkit.fluxcd.io/v1',
  kind: 'OCIRepository',
  namespace: 'apps',
  name: 'payment',
};

type Step = 'load' | 'recover' | 'resolve' | 'check' | 'hold' | 'writeStatus';
type Action = 'Suspend' | 'Pin' | 'Warn';

interface World {
  object: ArtifactVerification;
  digest: string;
  throwIn?: Step;
  thrown: unknown;
  check: CheckedArtifact;
  held: HeldTarget[];
  holdCalls: number;
  releaseCalls: number;
  /** The order of the collaborators' calls that matter: hold, check, release, status. */
  calls: string[];
  statusWrites: ArtifactVerificationStatus[];
  events: { reason: string; note: string }[];
  /** When the poller says it resolved the tag (default: now). */
  resolvedAt?: Date;
}

const avObject = (action: Action, status?: ArtifactVerificationStatus): ArtifactVerification => ({
  apiVersion: 'tagguard.dev/v1alpha1',
  kind: 'ArtifactVerification',
  metadata: { name: 'payment', namespace: 'apps', generation: 1, finalizers: [FINALIZER] },
  spec: { sourceRef: { kind: 'OCIRepository', name: 'payment' }, action },
  ...(status ? { status } : {}),
});

/** A status as an earlier reconcile that trusted `digest` for tag 3.1.0 would have left it. */
const trustedStatus = (digest: string): ArtifactVerificationStatus => ({
  trustedDigest: digest,
  artifact: {
    url: 'oci://registry.example/charts/payment',
    tag: '3.1.0',
    digest,
    resolvedAt: '2026-12-04T11:00:00Z',
  },
  history: [{ digest, tag: '3.1.0', firstSeen: '2026-12-04T11:00:00Z', verdict: 'Trusted' }],
  heldTargets: [],
});

const world = (options: {
  action?: Action;
  status?: ArtifactVerificationStatus;
  digest?: string;
  throwIn?: Step;
  thrown?: unknown;
  check?: CheckedArtifact;
}): World => ({
  object: avObject(options.action ?? 'Suspend', options.status),
  digest: options.digest ?? EVIL,
  ...(options.throwIn ? { throwIn: options.throwIn } : {}),
  thrown: options.thrown ?? new Error('boom'),
  check: options.check ?? {},
  held: [...(options.status?.heldTargets ?? [])],
  holdCalls: 0,
  releaseCalls: 0,
  calls: [],
  statusWrites: [],
  events: [],
});

const reconcilerFor = (w: World): ArtifactVerificationReconciler => {
  const fail = (step: Step): void => {
    if (w.throwIn === step) throw w.thrown;
  };
  const cluster: ClusterAccess = {
    readSecret: () => Promise.resolve(undefined),
    readConfigMap: () => Promise.resolve(undefined),
    getArtifactVerification: () => Promise.resolve(w.object),
    writeStatus: (object, status) => {
      w.calls.push('status');
      fail('writeStatus');
      w.statusWrites.push(status);
      w.object = { ...object, status };
      return Promise.resolve();
    },
    writeFinalizers: (object, finalizers) =>
      Promise.resolve({ ...object, metadata: { ...object.metadata, finalizers: [...finalizers] } }),
  };
  const loaded: LoadedSource = {
    artifacts: [
      {
        access: {
          url: 'oci://registry.example/charts/payment',
          reference: { registry: 'registry.example', repository: 'charts/payment' },
          tag: '3.1.0',
          insecure: false,
          credential: { kind: 'anonymous' },
          credentialId: 'anonymous',
        },
        origin: 'OCIRepository apps/payment',
      },
    ],
    targets: [target],
  };
  const deps: ReconcilerDeps = {
    config: {} as OperatorConfig,
    cluster,
    // The HelmRepository branch: its steps are tested in helm-repository-fanout.test.ts.
    fanout: {
      reconcile: () => {
        w.calls.push('fanout');
        return Promise.resolve({ requeueAfterMs: 1234 });
      },
    },
    sources: {
      load: () => {
        fail('load');
        return Promise.resolve(loaded);
      },
    },
    helmRepositories: {
      resolve: () => Promise.reject(new Error('no HTTP Helm repository in this test')),
      resolved: () => {
        throw new Error('no HTTP Helm repository in this test');
      },
    },
    registries: {
      clientFor: () => CLIENT,
      resolve: () => {
        fail('resolve');
        return Promise.resolve({
          digest: w.digest,
          tag: '3.1.0',
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
        });
      },
    },
    poller: {
      resolve: async (_key, _subscriber, _interval, resolver) => ({
        ...(await resolver()),
        at: (w.resolvedAt ?? now).getTime(),
      }),
      retain: () => undefined,
      forget: () => undefined,
    },
    checker: {
      check: () => {
        w.calls.push('check');
        fail('check');
        return Promise.resolve(w.check);
      },
    },
    holder: {
      holdAll: (_holder, targets, current) => {
        w.holdCalls++;
        w.calls.push('hold');
        fail('hold');
        if (current.length > 0) return Promise.resolve({ held: [...current], events: [] });
        w.held = targets.map((t) => ({ ...t, method: 'spec.suspend', since: '2026-12-04T12:00:00Z' }));
        const events = targets.map((t) => ({ target: t, kind: 'Held' as const, message: `held ${t.name}` }));
        return Promise.resolve({ held: w.held, events });
      },
      pinTrusted: (_holder, _targets, current) =>
        Promise.resolve({ held: [...current], events: [], unpinnable: [] }),
      recover: (_holder, _targets, current) => {
        fail('recover');
        return Promise.resolve([...current]);
      },
      releaseStale: (_holder, current) => {
        if (current.length === 0) return Promise.resolve({ held: [], events: [] });
        w.releaseCalls++;
        w.calls.push('release');
        w.held = [];
        return Promise.resolve({ held: [], events: [] });
      },
      releaseAll: () => Promise.resolve([]),
    },
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

const run = async (w: World): Promise<{ threw: unknown }> => {
  try {
    await reconcilerFor(w).reconcile('apps', 'payment');
    return { threw: undefined };
  } catch (error) {
    return { threw: error };
  }
};

const unsigned: CheckedArtifact = {
  verification: { digest: EVIL, verdict: 'Untrusted', reasons: ['SignatureMissing'], signers: [] },
};

const ready = (w: World) => w.statusWrites.at(-1)?.conditions?.find((c) => c.type === 'Ready');

/** The targets are held when the reconcile ends (the last status written records them). */
const heldAtEnd = (w: World): boolean => (w.statusWrites.at(-1)?.heldTargets?.length ?? 0) > 0;

describe('fail closed: an error while judging a digest that is not yet trusted holds the targets', () => {
  const judging: { step: Step; thrown: unknown; reason: string }[] = [
    {
      step: 'resolve',
      thrown: new RegistryError('Unavailable', 'HEAD answered 503'),
      reason: Reason.RegistryError,
    },
    { step: 'resolve', thrown: new TypeError('bug in the resolver'), reason: Reason.InternalError },
    {
      step: 'check',
      thrown: new RegistryError('Unavailable', 'blob answered 500'),
      reason: Reason.RegistryError,
    },
    {
      step: 'check',
      thrown: new RangeError('Maximum call stack size exceeded'),
      reason: Reason.InternalError,
    },
    { step: 'check', thrown: new ScanError('RenderFailed', 'helm crashed'), reason: Reason.ScanError },
    {
      step: 'check',
      thrown: Object.assign(new Error('forbidden'), { code: 403 }),
      reason: Reason.KubernetesError,
    },
    {
      step: 'check',
      thrown: stalled(Reason.TrustMaterialMissing, 'Secret apps/key does not exist'),
      reason: Reason.TrustMaterialMissing,
    },
    { step: 'check', thrown: 'a string, not an Error', reason: Reason.InternalError },
  ];

  for (const action of ['Suspend', 'Pin'] as const)
    for (const { step, thrown, reason } of judging)
      it(`${action}: ${step} throwing ${thrown instanceof Error ? thrown.constructor.name : typeof thrown} holds, Ready False ${reason}`, async () => {
        const w = world({ action, throwIn: step, thrown });
        await run(w);
        expect(heldAtEnd(w)).toBe(true);
        expect(w.statusWrites.at(-1)?.heldTargets).toHaveLength(1);
        expect(ready(w)).toMatchObject({ status: 'False', reason });
      });

  for (const { step, thrown } of judging)
    it(`Warn: ${step} throwing holds nothing and records the error`, async () => {
      const w = world({ action: 'Warn', throwIn: step, thrown });
      await run(w);
      expect(w.holdCalls).toBe(0);
      expect(ready(w)?.status).toBe('False');
    });

  it('a digest first seen and failing is recorded in the history with verdict Error', async () => {
    const w = world({ throwIn: 'check', thrown: new RegistryError('Unavailable', 'blob answered 500') });
    await run(w);
    expect(w.statusWrites.at(-1)?.history?.[0]).toMatchObject({ digest: EVIL, verdict: 'Error' });
  });

  it('a re-pushed tag whose new digest cannot be judged holds although the old digest was trusted', async () => {
    const w = world({
      status: trustedStatus(GOOD),
      digest: EVIL,
      throwIn: 'check',
      thrown: new RegistryError('Unavailable', '500'),
    });
    await run(w);
    expect(heldAtEnd(w)).toBe(true);
  });

  it('a signature read error (verification verdict Error) on a new digest holds', async () => {
    const w = world({
      check: { verification: { digest: EVIL, verdict: 'Error', reasons: [], signers: [] } },
    });
    await run(w);
    expect(heldAtEnd(w)).toBe(true);
    expect(ready(w)).toMatchObject({ status: 'False', reason: Reason.RegistryError });
  });
});

describe('fail closed: only a digest already trusted stays released while errors last', () => {
  it('the registry cannot be reached: the trusted digest last seen keeps its targets released', async () => {
    const w = world({
      status: trustedStatus(GOOD),
      throwIn: 'resolve',
      thrown: new RegistryError('Unavailable', '503'),
    });
    await run(w);
    expect(w.holdCalls).toBe(0);
    expect(w.releaseCalls).toBe(0);
    expect(ready(w)).toMatchObject({ status: 'False', reason: Reason.RegistryError });
    // The outage is not a verdict: the history still says Trusted, so the next failure is judged the same.
    expect(w.statusWrites.at(-1)?.history?.[0]).toMatchObject({ digest: GOOD, verdict: 'Trusted' });
  });

  it('a re-check of the trusted digest fails: still released, history still Trusted', async () => {
    const w = world({
      status: trustedStatus(GOOD),
      digest: GOOD,
      throwIn: 'check',
      thrown: new RegistryError('Unavailable', '500'),
    });
    await run(w);
    expect(w.holdCalls).toBe(0);
    expect(w.statusWrites.at(-1)?.history?.[0]).toMatchObject({ digest: GOOD, verdict: 'Trusted' });
  });

  for (const code of ['Timeout', 'Unavailable', 'ConnectionFailed', 'RateLimited'] as const)
    it(`an outage (${code}) while resolving is attributed to the trusted digest last seen: no hold`, async () => {
      const w = world({
        status: trustedStatus(GOOD),
        throwIn: 'resolve',
        thrown: new RegistryError(code, code),
      });
      await run(w);
      expect(w.holdCalls).toBe(0);
    });

  // An attacker with push access can make only tagguard's lookup fail (a manifest over the size cap, a body
  // that does not parse or hash): the GitOps tool may already pull the new digest, so this is not an outage.
  for (const code of [
    'TooLarge',
    'InvalidResponse',
    'DigestMismatch',
    'Unsupported',
    'NotFound',
    'Unauthorized',
    'Denied',
    'TlsFailure',
  ] as const)
    it(`a registry answer that refuses the tag (${code}) holds even after a trusted digest`, async () => {
      const w = world({
        status: trustedStatus(GOOD),
        throwIn: 'resolve',
        thrown: new RegistryError(code, code),
      });
      await run(w);
      expect(heldAtEnd(w)).toBe(true);
      expect(ready(w)).toMatchObject({ status: 'False', reason: Reason.RegistryError });
    });

  it('a bug while resolving (not a registry error) holds even after a trusted digest', async () => {
    const w = world({ status: trustedStatus(GOOD), throwIn: 'resolve', thrown: new TypeError('undefined') });
    await run(w);
    expect(heldAtEnd(w)).toBe(true);
  });

  it('the registry cannot be reached on the first reconcile: nothing was trusted, so the targets are held', async () => {
    const w = world({ throwIn: 'resolve', thrown: new RegistryError('Unavailable', '503') });
    await run(w);
    expect(heldAtEnd(w)).toBe(true);
  });

  it('the registry cannot be reached after an untrusted digest: still held', async () => {
    const status: ArtifactVerificationStatus = {
      ...trustedStatus(GOOD),
      history: [
        { digest: EVIL, tag: '3.1.0', firstSeen: '2026-12-04T11:30:00Z', verdict: 'Untrusted' },
        { digest: GOOD, tag: '3.1.0', firstSeen: '2026-12-04T11:00:00Z', verdict: 'Trusted' },
      ],
    };
    const w = world({ status, throwIn: 'resolve', thrown: new RegistryError('Unavailable', '503') });
    await run(w);
    expect(heldAtEnd(w)).toBe(true);
  });
});

describe('errors in steps that judge no digest leave the targets as they are and are recorded', () => {
  for (const step of ['load', 'recover'] as const)
    it(`${step} throwing: no hold, no release, Ready False with a reason naming the origin`, async () => {
      const w = world({ throwIn: step, thrown: Object.assign(new Error('etcd timeout'), { code: 500 }) });
      const { threw } = await run(w);
      expect(w.holdCalls).toBe(0);
      expect(w.releaseCalls).toBe(0);
      expect(ready(w)).toMatchObject({ status: 'False', reason: Reason.KubernetesError });
      expect(threw).toBeDefined(); // retried with backoff by the work queue
    });

  it('a hold that fails is reported, and the reconcile is retried', async () => {
    const w = world({
      check: unsigned,
      throwIn: 'hold',
      thrown: Object.assign(new Error('conflict'), { code: 409 }),
    });
    const { threw } = await run(w);
    expect(w.holdCalls).toBe(1);
    expect(w.calls).not.toContain('check'); // the quarantine failed: nothing judged, nothing released
    expect(ready(w)?.status).toBe('False');
    expect(threw).toBeDefined();
  });

  it('a status write that fails is thrown to the work queue, not swallowed', async () => {
    const w = world({
      check: unsigned,
      throwIn: 'writeStatus',
      thrown: Object.assign(new Error('conflict'), { code: 409 }),
    });
    const { threw } = await run(w);
    expect(w.held).toHaveLength(1);
    expect(threw).toBeDefined();
  });

  it('a trusted digest with no error releases', async () => {
    const w = world({ digest: GOOD });
    await run(w);
    expect(heldAtEnd(w)).toBe(false);
    expect(ready(w)).toMatchObject({ status: 'True', reason: Reason.Trusted });
  });
});

describe('quarantine on detection: a digest not trusted yet is held before it is judged', () => {
  const signed: CheckedArtifact = {
    verification: { digest: EVIL, verdict: 'Trusted', reasons: [], signers: [] },
  };

  it('an unchanged CR writes no status: not for a later poll, nor for the key order the API server returns', async () => {
    const trusted: CheckedArtifact = {
      verification: { digest: GOOD, verdict: 'Trusted', reasons: [], signers: [] },
    };
    const w = world({ status: trustedStatus(GOOD), digest: GOOD, check: trusted });
    await run(w);
    expect(w.statusWrites).toHaveLength(1);
    // As read back from the API server: keys sorted, later polls of the same digest.
    const sortKeys = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(sortKeys)
        : value !== null && typeof value === 'object'
          ? Object.fromEntries(
              Object.entries(value)
                .sort(([a], [b]) => (a < b ? -1 : 1))
                .map(([k, v]) => [k, sortKeys(v)]),
            )
          : value;
    w.object = sortKeys(w.object) as ArtifactVerification;
    for (const minutes of [1, 2, 3]) {
      w.resolvedAt = new Date(now.getTime() + minutes * 60_000);
      await run(w);
    }
    expect(w.statusWrites).toHaveLength(1);
    // The status still says when the tag was first seen at this digest.
    expect(w.object.status?.artifact?.resolvedAt).toBe('2026-12-04T11:00:00Z');
  });

  it('a re-pushed tag: hold, record Verifying, check, then release in the same reconcile when trusted', async () => {
    const w = world({ status: trustedStatus(GOOD), digest: EVIL, check: signed });
    await run(w);
    expect(w.calls).toEqual(['hold', 'status', 'check', 'release', 'status']);
    const interim = w.statusWrites[0];
    expect(interim?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: Reason.Verifying,
    });
    expect(interim?.conditions?.find((c) => c.type === 'Reconciling')).toMatchObject({
      status: 'True',
      reason: Reason.Verifying,
    });
    expect(interim?.heldTargets).toHaveLength(1);
    expect(ready(w)).toMatchObject({ status: 'True', reason: Reason.Trusted });
    expect(heldAtEnd(w)).toBe(false);
    expect(w.events.filter((e) => e.reason === 'Held')[0]?.note).toContain('(Verifying)');
  });

  it('a re-pushed tag that turns out untrusted stays held from before the check', async () => {
    const w = world({ status: trustedStatus(GOOD), digest: EVIL, check: unsigned });
    await run(w);
    expect(w.calls.slice(0, 3)).toEqual(['hold', 'status', 'check']);
    expect(heldAtEnd(w)).toBe(true);
    expect(ready(w)).toMatchObject({ status: 'False', reason: 'SignatureMissing' });
  });

  it('the first digest of a new ArtifactVerification is held while it is verified', async () => {
    const w = world({ digest: GOOD });
    await run(w);
    expect(w.calls).toEqual(['hold', 'status', 'check', 'release', 'status']);
  });

  it('a digest already trusted is not held', async () => {
    const w = world({ status: trustedStatus(GOOD), digest: GOOD });
    await run(w);
    expect(w.holdCalls).toBe(0);
    expect(w.calls).not.toContain('hold');
  });

  it('a digest approved by hand is not held', async () => {
    const w = world({ status: trustedStatus(GOOD), digest: EVIL, check: unsigned });
    w.object = {
      ...w.object,
      metadata: { ...w.object.metadata, annotations: { 'tagguard.dev/approve': EVIL } },
    };
    await run(w);
    expect(w.holdCalls).toBe(0);
  });

  it('Warn never quarantines', async () => {
    const w = world({ action: 'Warn', status: trustedStatus(GOOD), digest: EVIL, check: unsigned });
    await run(w);
    expect(w.holdCalls).toBe(0);
  });

  it('with resume Manual, a quarantine is released when the new digest is trusted (it was never a hold of an untrusted digest)', async () => {
    const w = world({ status: trustedStatus(GOOD), digest: EVIL, check: signed });
    w.object = { ...w.object, spec: { ...w.object.spec, resume: 'Manual' } };
    await run(w);
    expect(heldAtEnd(w)).toBe(false);
    expect(ready(w)).toMatchObject({ status: 'True' });
  });

  it('with resume Manual, a hold from an earlier untrusted digest still waits for approval', async () => {
    const status: ArtifactVerificationStatus = {
      ...trustedStatus(GOOD),
      heldTargets: [{ ...target, method: 'spec.suspend', since: '2026-12-04T11:30:00Z' }],
    };
    const w = world({ status, digest: EVIL, check: signed });
    w.object = { ...w.object, spec: { ...w.object.spec, resume: 'Manual' } };
    await run(w);
    expect(heldAtEnd(w)).toBe(true);
    expect(ready(w)).toMatchObject({ status: 'False', reason: Reason.AwaitingApproval });
  });

  it('the quarantine record cannot be written: the targets stay held and the reconcile is retried', async () => {
    const w = world({
      status: trustedStatus(GOOD),
      digest: EVIL,
      check: signed,
      throwIn: 'writeStatus',
      thrown: Object.assign(new Error('etcd timeout'), { code: 500 }),
    });
    const { threw } = await run(w);
    expect(threw).toBeDefined();
    expect(w.calls).not.toContain('check');
    expect(w.releaseCalls).toBe(0);
    expect(w.held).toHaveLength(1);
  });
});

describe('a sourceRef HelmRepository', () => {
  it('takes the fan-out branch and nothing else: no source load, no hold, no status of its own', async () => {
    // A load would throw here, and the reconcile would record that in a status: neither happens.
    const w = world({ throwIn: 'load' });
    w.object = { ...w.object, spec: { sourceRef: { kind: 'HelmRepository', name: 'charts' } } };
    const result = await reconcilerFor(w).reconcile('apps', 'payment');
    expect(w.calls).toEqual(['fanout']);
    expect(result).toEqual({ requeueAfterMs: 1234 });
  });
});
