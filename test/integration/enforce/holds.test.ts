// Holds and releases against the real API server with the Flux and Argo CD CRDs: every kind, several
// holders, reverts by a person, exact restoration, Pin ownership through managedFields, conflicts, and
// that each hold or release is one write, so no stored version is ever half held.
import { describe, expect, inject, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { HoldManager } from '../../../src/enforce/holds.ts';
import {
  ARGOCD_SKIP_RECONCILE_ANNOTATION,
  HELD_BY_ANNOTATION,
  PRE_HOLD_ANNOTATION,
  parseHolders,
  parsePreHold,
} from '../../../src/enforce/hold-record.ts';
import { valueAt, type JsonObject } from '../../../src/enforce/target-object.ts';
import type { HoldOptions, TargetRef } from '../../../src/enforce/types.ts';
import { KubeTestClient } from '../../env/kube.ts';
import {
  APPLICATION,
  HELM_RELEASE,
  SILENT,
  application,
  heldParts,
  helmChart,
  helmRelease,
  kustomization,
  newNamespace,
  personPatch,
  ociRepository,
  readJson,
  RecordingTargetApi,
  recordingManager,
  refOf,
  watchVersions,
} from './targets.ts';

const env = inject('testEnv');
const kube = KubeTestClient.fromFile(env.kubeconfig);
const holds = new HoldManager(kube.kubeConfig, SILENT);

const SUSPEND: HoldOptions = { action: 'Suspend', argocdMethod: 'DisableAutoSync' };
const SKIP: HoldOptions = { action: 'Suspend', argocdMethod: 'SkipReconcile' };
const DIGEST = `sha256:${'1'.repeat(64)}`;
const DIGEST_2 = `sha256:${'2'.repeat(64)}`;
const A = 'apps/payment';
const B = 'platform/all-charts';

const annotations = (object: JsonObject): Record<string, string> =>
  (valueAt(object, ['metadata', 'annotations']) ?? {}) as Record<string, string>;

describe('Suspend on each Flux kind', () => {
  it.each([
    ['OCIRepository', ociRepository],
    ['HelmChart', helmChart],
    ['HelmRelease', helmRelease],
    ['Kustomization', kustomization],
  ])(
    'holds a %s with spec.suspend and the hold record, and release restores it exactly',
    async (_kind, make) => {
      const ns = await newNamespace(kube, 'hold-flux');
      const target = refOf(await kube.apply(make(ns, 'payment')));
      const before = await readJson(kube, target);

      const outcome = await holds.hold(target, A, SUSPEND);
      expect(outcome).toMatchObject({
        method: 'spec.suspend',
        changed: true,
        reverted: false,
        fellBackToSuspend: false,
      });
      const held = await readJson(kube, target);
      expect(valueAt(held, ['spec', 'suspend'])).toBe(true);
      expect(annotations(held)[HELD_BY_ANNOTATION]).toBe(A);
      expect(annotations(held)[PRE_HOLD_ANNOTATION]).toBe('{"spec.suspend":null}');

      expect(await holds.release(target, A)).toMatchObject({ released: true, remainingHolders: [] });
      expect(heldParts(await readJson(kube, target))).toEqual(heldParts(before));
    },
  );

  it('leaves a HelmRelease suspended that someone had suspended before the hold', async () => {
    const ns = await newNamespace(kube, 'hold-suspended');
    const target = refOf(await kube.apply(helmRelease(ns, 'payment', { suspend: true })));
    await holds.hold(target, A, SUSPEND);
    expect(annotations(await readJson(kube, target))[PRE_HOLD_ANNOTATION]).toBe('{"spec.suspend":true}');
    await holds.release(target, A);
    const after = await readJson(kube, target);
    expect(valueAt(after, ['spec', 'suspend'])).toBe(true);
    expect(annotations(after)).toEqual({});
  });

  it('restores spec.suspend: false as false, not as absent', async () => {
    const ns = await newNamespace(kube, 'hold-false');
    const target = refOf(await kube.apply(helmRelease(ns, 'payment', { suspend: false })));
    await holds.hold(target, A, SUSPEND);
    await holds.release(target, A);
    expect(valueAt(await readJson(kube, target), ['spec', 'suspend'])).toBe(false);
  });
});

describe('several holders', () => {
  it('share one hold: the second joins held-by, only the last release restores', async () => {
    const ns = await newNamespace(kube, 'hold-two');
    const target = refOf(await kube.apply(helmRelease(ns, 'payment', { suspend: false })));
    await holds.hold(target, B, SUSPEND);
    expect(await holds.hold(target, A, SUSPEND)).toMatchObject({ changed: true, reverted: false });
    const both = annotations(await readJson(kube, target));
    expect(both[HELD_BY_ANNOTATION]).toBe(`${A},${B}`);
    expect(both[PRE_HOLD_ANNOTATION]).toBe('{"spec.suspend":false}');

    expect(await holds.release(target, B)).toEqual({ target, released: false, remainingHolders: [A] });
    const one = await readJson(kube, target);
    expect(valueAt(one, ['spec', 'suspend'])).toBe(true);
    expect(annotations(one)[HELD_BY_ANNOTATION]).toBe(A);

    expect(await holds.release(target, A)).toEqual({ target, released: true, remainingHolders: [] });
    const none = await readJson(kube, target);
    expect(valueAt(none, ['spec', 'suspend'])).toBe(false);
    expect(annotations(none)).toEqual({});
  });

  it('release is idempotent: a second release, or one by a non-holder, changes nothing', async () => {
    const ns = await newNamespace(kube, 'hold-idem');
    const target = refOf(await kube.apply(helmRelease(ns, 'payment')));
    await holds.hold(target, A, SUSPEND);
    expect(await holds.release(target, B)).toEqual({ target, released: false, remainingHolders: [A] });
    await holds.release(target, A);
    const version = valueAt(await readJson(kube, target), ['metadata', 'resourceVersion']);
    expect(await holds.release(target, A)).toMatchObject({ released: false, remainingHolders: [] });
    expect(valueAt(await readJson(kube, target), ['metadata', 'resourceVersion'])).toBe(version);
  });
});

describe('a hold undone while trust is failing', () => {
  it('is re-applied when a person sets spec.suspend: false, reported as reverted, pre-hold kept', async () => {
    const ns = await newNamespace(kube, 'hold-revert');
    const created = await kube.apply(helmRelease(ns, 'payment'));
    const target = refOf(created);
    await holds.hold(target, A, SUSPEND);
    expect(await holds.hold(target, A, SUSPEND)).toMatchObject({ changed: false, reverted: false });

    await personPatch(kube, target, { spec: { suspend: false } });
    expect(await holds.hold(target, A, SUSPEND)).toMatchObject({ changed: true, reverted: true });
    const held = await readJson(kube, target);
    expect(valueAt(held, ['spec', 'suspend'])).toBe(true);
    expect(annotations(held)[PRE_HOLD_ANNOTATION]).toBe('{"spec.suspend":null}');
    await holds.release(target, A);
    expect(valueAt(await readJson(kube, target), ['spec', 'suspend'])).toBeUndefined();
  });

  it('is re-applied when a GitOps parent force-applies the object with suspend: false', async () => {
    const ns = await newNamespace(kube, 'hold-parent');
    const target = refOf(await kube.apply(kustomization(ns, 'apps', { suspend: false })));
    await holds.hold(target, A, SUSPEND);
    // Another field manager (as kustomize-controller would) applies its manifest again, with force.
    await kube.objects.patch(
      kustomization(ns, 'apps', { suspend: false }),
      undefined,
      undefined,
      'kustomize-controller',
      true,
      'application/apply-patch+yaml',
    );
    expect(valueAt(await readJson(kube, target), ['spec', 'suspend'])).toBe(false);
    expect(await holds.hold(target, A, SUSPEND)).toMatchObject({ reverted: true });
    expect(valueAt(await readJson(kube, target), ['spec', 'suspend'])).toBe(true);
  });

  it('is re-held when its annotations were removed, with the unknown pre-hold flagged (fail closed)', async () => {
    const ns = await newNamespace(kube, 'hold-stripped');
    const created = await kube.apply(helmRelease(ns, 'payment', { suspend: false }));
    const target = refOf(created);
    await holds.hold(target, A, SUSPEND);
    await personPatch(kube, target, {
      metadata: { annotations: { [HELD_BY_ANNOTATION]: null, [PRE_HOLD_ANNOTATION]: null } },
    });

    const outcome = await holds.hold(target, A, { ...SUSPEND, expectHeld: true });
    expect(outcome).toMatchObject({ changed: true, reverted: true, preHoldUnknown: true });
    const held = annotations(await readJson(kube, target));
    expect(held[HELD_BY_ANNOTATION]).toBe(A);
    expect(held[PRE_HOLD_ANNOTATION]).toBe('{"spec.suspend":true}');
  });
});

describe('Argo CD Applications', () => {
  const AUTOMATED = { prune: true, selfHeal: true, allowEmpty: false };

  it('DisableAutoSync removes spec.syncPolicy.automated and restores it byte-for-byte', async () => {
    const ns = await newNamespace(kube, 'hold-argo');
    const target = refOf(
      await kube.apply(
        application(ns, 'payment', { automated: AUTOMATED, syncOptions: ['CreateNamespace=true'] }),
      ),
    );
    const before = await readJson(kube, target);
    const automatedBefore = JSON.stringify(valueAt(before, ['spec', 'syncPolicy', 'automated']));
    expect(JSON.parse(automatedBefore)).toEqual(AUTOMATED);

    expect(await holds.hold(target, A, SUSPEND)).toMatchObject({
      method: 'spec.syncPolicy.automated',
      changed: true,
    });
    const held = await readJson(kube, target);
    expect(valueAt(held, ['spec', 'syncPolicy'])).toEqual({ syncOptions: ['CreateNamespace=true'] });
    expect(parsePreHold(annotations(held)[PRE_HOLD_ANNOTATION] ?? '')).toEqual({
      'spec.syncPolicy.automated': AUTOMATED,
    });

    await holds.release(target, A);
    const after = await readJson(kube, target);
    expect(JSON.stringify(valueAt(after, ['spec', 'syncPolicy', 'automated']))).toBe(automatedBefore);
    expect(heldParts(after)).toEqual(heldParts(before));
    // In the same write: Argo CD re-renders past its manifest cache before automated sync applies anything.
    expect(annotations(after)['argocd.argoproj.io/refresh']).toBe('hard');
  });

  it('DisableAutoSync takes automated sync away again when someone turns it back on', async () => {
    const ns = await newNamespace(kube, 'hold-argo-revert');
    const created = await kube.apply(application(ns, 'payment', { automated: AUTOMATED }));
    const target = refOf(created);
    await holds.hold(target, A, SUSPEND);
    await personPatch(kube, target, { spec: { syncPolicy: { automated: { prune: false } } } });
    expect(await holds.hold(target, A, SUSPEND)).toMatchObject({ reverted: true });
    expect(valueAt(await readJson(kube, target), ['spec', 'syncPolicy', 'automated'])).toBeUndefined();
    await holds.release(target, A);
    expect(valueAt(await readJson(kube, target), ['spec', 'syncPolicy', 'automated'])).toEqual(AUTOMATED);
  });

  it('SkipReconcile sets argocd.argoproj.io/skip-reconcile: "true" and release removes it', async () => {
    const ns = await newNamespace(kube, 'hold-skip');
    const target = refOf(await kube.apply(application(ns, 'payment', { automated: AUTOMATED })));
    const before = await readJson(kube, target);
    expect(await holds.hold(target, A, SKIP)).toMatchObject({ method: 'skip-reconcile', changed: true });
    const held = await readJson(kube, target);
    expect(annotations(held)[ARGOCD_SKIP_RECONCILE_ANNOTATION]).toBe('true');
    expect(valueAt(held, ['spec', 'syncPolicy', 'automated'])).toEqual(AUTOMATED);
    await holds.release(target, A);
    expect(heldParts(await readJson(kube, target))).toEqual(heldParts(before));
  });

  it('Pin sets a native OCI source targetRevision to the digest by server-side apply, automated sync stays on, release restores it byte-for-byte', async () => {
    const ns = await newNamespace(kube, 'hold-argo-ocipin');
    const created = await kube.apply({
      ...application(ns, 'payment', { automated: AUTOMATED }),
      spec: {
        project: 'default',
        source: { repoURL: 'oci://registry.example.com/manifests/payment', targetRevision: '1.x', path: '.' },
        destination: { server: 'https://kubernetes.default.svc', namespace: 'payment' },
        syncPolicy: { automated: AUTOMATED },
      },
    } as KubernetesObject);
    const target = refOf(created);
    const before = await readJson(kube, target);
    const pin = { ...SUSPEND, action: 'Pin' as const, pinDigest: DIGEST };
    expect(await holds.hold(target, A, pin)).toMatchObject({
      method: 'spec.source.targetRevision',
      fellBackToSuspend: false,
      changed: true,
    });
    const held = await readJson(kube, target);
    expect(valueAt(held, ['spec', 'source', 'targetRevision'])).toBe(DIGEST);
    expect(valueAt(held, ['spec', 'syncPolicy', 'automated'])).toEqual(AUTOMATED);
    expect(await holds.pin(target, A, { digest: DIGEST_2 })).toMatchObject({
      changed: true,
      reverted: false,
    });
    expect(valueAt(await readJson(kube, target), ['spec', 'source', 'targetRevision'])).toBe(DIGEST_2);
    await holds.release(target, A);
    const after = await readJson(kube, target);
    expect(JSON.stringify(valueAt(after, ['spec']))).toBe(JSON.stringify(valueAt(before, ['spec'])));
    expect(heldParts(after)).toEqual(heldParts(before));
  });

  it('pin (pinOnly) writes nothing on a Helm-OCI chart: Application', async () => {
    const ns = await newNamespace(kube, 'hold-argo-pinonly');
    const target = refOf(await kube.apply(application(ns, 'payment', { automated: AUTOMATED })));
    const before = await readJson(kube, target);
    expect(await holds.pin(target, A, { digest: DIGEST })).toMatchObject({
      changed: false,
      fellBackToSuspend: true,
    });
    expect(await readJson(kube, target)).toEqual(before);
  });

  it('Pin falls back to the Argo CD method and says so', async () => {
    const ns = await newNamespace(kube, 'hold-argo-pin');
    const target = refOf(await kube.apply(application(ns, 'payment', { automated: AUTOMATED })));
    expect(await holds.hold(target, A, { ...SUSPEND, action: 'Pin', pinDigest: DIGEST })).toMatchObject({
      method: 'spec.syncPolicy.automated',
      fellBackToSuspend: true,
    });
  });
});

describe('Pin', () => {
  interface ManagedFields {
    manager: string;
    operation: string;
    fieldsV1: JsonObject;
  }
  const managerOf = (object: JsonObject, manager: string): ManagedFields[] =>
    ((valueAt(object, ['metadata', 'managedFields']) ?? []) as unknown as ManagedFields[]).filter(
      (m) => m.manager === manager,
    );

  it('writes spec.ref.digest by server-side apply as field manager tagguard, keeps the tag, release removes it', async () => {
    const ns = await newNamespace(kube, 'pin');
    const target = refOf(await kube.apply(ociRepository(ns, 'payment', { ref: { tag: '3.1.0' } })));
    const before = await readJson(kube, target);

    expect(await holds.pin(target, A, { digest: DIGEST })).toMatchObject({
      method: 'spec.ref.digest',
      changed: true,
    });
    const pinned = await readJson(kube, target);
    expect(valueAt(pinned, ['spec', 'ref'])).toEqual({ tag: '3.1.0', digest: DIGEST });
    expect(valueAt(pinned, ['spec', 'suspend'])).toBeUndefined();
    const [entry] = managerOf(pinned, 'tagguard');
    expect(entry?.operation).toBe('Apply');
    expect(valueAt(entry?.fieldsV1 ?? {}, ['f:spec', 'f:ref', 'f:digest'])).toEqual({});

    expect(await holds.pin(target, A, { digest: DIGEST_2 })).toMatchObject({
      changed: true,
      reverted: false,
    });
    const moved = await readJson(kube, target);
    expect(valueAt(moved, ['spec', 'ref'])).toEqual({ tag: '3.1.0', digest: DIGEST_2 });
    expect(annotations(moved)[PRE_HOLD_ANNOTATION]).toBe('{"spec.ref.digest":null}');

    await holds.release(target, A);
    const after = await readJson(kube, target);
    expect(heldParts(after)).toEqual(heldParts(before));
    expect(JSON.stringify(managerOf(after, 'tagguard'))).not.toContain('f:digest');
  });

  it('restores a semver ref exactly and re-pins when the digest is removed', async () => {
    const ns = await newNamespace(kube, 'pin-semver');
    const created = await kube.apply(ociRepository(ns, 'payment', { ref: { semver: '>=3.0.0 <4.0.0' } }));
    const target = refOf(created);
    const before = await readJson(kube, target);
    await holds.pin(target, A, { digest: DIGEST });
    await personPatch(kube, target, { spec: { ref: { digest: null } } });
    expect(await holds.pin(target, A, { digest: DIGEST })).toMatchObject({ reverted: true, changed: true });
    expect(valueAt(await readJson(kube, target), ['spec', 'ref', 'digest'])).toBe(DIGEST);
    await holds.release(target, A);
    expect(heldParts(await readJson(kube, target))).toEqual(heldParts(before));
  });

  it('falls back to Suspend on a HelmRelease when holding; moving pins (pin) leaves it alone', async () => {
    const ns = await newNamespace(kube, 'pin-hr');
    const target = refOf(await kube.apply(helmRelease(ns, 'payment')));
    expect(await holds.pin(target, A, { digest: DIGEST })).toMatchObject({
      changed: false,
      fellBackToSuspend: true,
    });
    expect(valueAt(await readJson(kube, target), ['spec', 'suspend'])).toBeUndefined();
    expect(await holds.hold(target, A, { ...SUSPEND, action: 'Pin', pinDigest: DIGEST })).toMatchObject({
      method: 'spec.suspend',
      fellBackToSuspend: true,
    });
    expect(valueAt(await readJson(kube, target), ['spec', 'suspend'])).toBe(true);
  });
});

describe('concurrent changes', () => {
  it('re-reads on 409 when the target changes between read and write, and records the new state', async () => {
    const ns = await newNamespace(kube, 'conflict');
    const created = await kube.apply(helmRelease(ns, 'payment'));
    const target = refOf(created);
    const { api, holds: recorded } = recordingManager(kube);
    api.beforeWrite = async (n) => {
      if (n === 0) await personPatch(kube, target, { spec: { suspend: false } });
    };
    expect(await recorded.hold(target, A, SUSPEND)).toMatchObject({ changed: true });
    expect(api.writes.map((w) => w.result)).toEqual(['Conflict', 'ok']);
    // The pre-hold is the state after the person's change, not the stale read.
    expect(annotations(await readJson(kube, target))[PRE_HOLD_ANNOTATION]).toBe('{"spec.suspend":false}');

    api.beforeWrite = async (n) => {
      if (n === 2) await personPatch(kube, target, { metadata: { labels: { touched: 'yes' } } });
    };
    expect(await recorded.release(target, A)).toMatchObject({ released: true });
    expect(api.writes.slice(2).map((w) => w.result)).toEqual(['Conflict', 'ok']);
    expect(valueAt(await readJson(kube, target), ['spec', 'suspend'])).toBe(false);
  });

  it('gives up with Conflict when the target changes before every attempt, having written nothing', async () => {
    const ns = await newNamespace(kube, 'conflict-always');
    const target = refOf(await kube.apply(helmRelease(ns, 'payment')));
    const api = new RecordingTargetApi(kube);
    const stubborn = new HoldManager(api, SILENT, 'tagguard', {
      maxAttempts: 3,
      backoff: () => Promise.resolve(),
    });
    api.beforeWrite = async (n) => {
      await personPatch(kube, target, { metadata: { labels: { attempt: String(n) } } });
    };
    await expect(stubborn.hold(target, A, SUSPEND)).rejects.toMatchObject({ code: 'Conflict' });
    expect(api.writes.map((w) => w.result)).toEqual(['Conflict', 'Conflict', 'Conflict']);
    const after = await readJson(kube, target);
    expect(valueAt(after, ['spec', 'suspend'])).toBeUndefined();
    expect(annotations(after)).toEqual({});
  });

  it('never re-creates a target deleted between read and write', async () => {
    const ns = await newNamespace(kube, 'deleted');
    const created = await kube.apply(helmRelease(ns, 'payment'));
    const target = refOf(created);
    const { api, holds: recorded } = recordingManager(kube);
    api.beforeWrite = async () => {
      await kube.objects.delete(created);
    };
    await expect(recorded.hold(target, A, SUSPEND)).rejects.toMatchObject({ code: 'TargetNotFound' });
    await expect(kube.read(target.apiVersion, target.kind, target.name, ns)).rejects.toMatchObject({
      code: 404,
    });
    expect(await holds.release(target, A)).toEqual({ target, released: false, remainingHolders: [] });
  });

  it('releasing a target deleted between read and write is a no-op', async () => {
    const ns = await newNamespace(kube, 'deleted-release');
    const created = await kube.apply(helmRelease(ns, 'payment'));
    const target = refOf(created);
    const { api, holds: recorded } = recordingManager(kube);
    await recorded.hold(target, A, SUSPEND);
    api.beforeWrite = async () => {
      await kube.objects.delete(created);
    };
    expect(await recorded.release(target, A)).toEqual({ target, released: false, remainingHolders: [] });
    expect(api.writes.map((w) => w.result)).toEqual(['ok', 'TargetNotFound']);
  });

  it('two tagguard holders racing on the same targets both end up in held-by, pre-hold intact', async () => {
    const ns = await newNamespace(kube, 'race');
    const targets: TargetRef[] = [];
    for (let i = 0; i < 6; i++)
      targets.push(refOf(await kube.apply(helmRelease(ns, `app-${i}`, { suspend: false }))));
    const first = new HoldManager(kube.kubeConfig, SILENT);
    const second = new HoldManager(kube.kubeConfig, SILENT);
    await Promise.all(targets.flatMap((t) => [first.hold(t, A, SUSPEND), second.hold(t, B, SUSPEND)]));
    for (const target of targets) {
      const held = annotations(await readJson(kube, target));
      expect(parseHolders(held[HELD_BY_ANNOTATION])).toEqual([A, B]);
      expect(held[PRE_HOLD_ANNOTATION]).toBe('{"spec.suspend":false}');
    }
    await Promise.all(targets.flatMap((t) => [first.release(t, A), second.release(t, B)]));
    for (const target of targets) {
      const after = await readJson(kube, target);
      expect(valueAt(after, ['spec', 'suspend'])).toBe(false);
      expect(annotations(after)).toEqual({});
    }
  });
});

describe('crash safety', () => {
  it('makes one write per hold or release, and no stored version is ever held without a record or the reverse', async () => {
    const ns = await newNamespace(kube, 'atomic');
    const created = await kube.apply(helmRelease(ns, 'payment', { suspend: false }));
    const target = refOf(created);
    const watch = await watchVersions(kube, HELM_RELEASE, 'helmreleases', ns);
    const { api, holds: recorded } = recordingManager(kube);
    try {
      const steps: [string, () => Promise<unknown>, number][] = [
        ['hold A', () => recorded.hold(target, A, SUSPEND), 1],
        ['hold A again', () => recorded.hold(target, A, SUSPEND), 0],
        ['hold B', () => recorded.hold(target, B, SUSPEND), 1],
        ['person reverts', () => personPatch(kube, target, { spec: { suspend: false } }), 0],
        ['re-hold A', () => recorded.hold(target, A, SUSPEND), 1],
        ['release B', () => recorded.release(target, B), 1],
        ['release A', () => recorded.release(target, A), 1],
        ['release A again', () => recorded.release(target, A), 0],
      ];
      for (const [name, step, writes] of steps) {
        const count = api.writes.length;
        await step();
        expect({ name, writes: api.writes.length - count }).toEqual({ name, writes });
      }
      // Wait until the watch has seen the last stored version.
      const last = valueAt(await readJson(kube, target), ['metadata', 'resourceVersion']);
      const lastSeen = (): unknown => valueAt(watch.versions.at(-1) ?? {}, ['metadata', 'resourceVersion']);
      await expect.poll(lastSeen).toBe(last);
    } finally {
      watch.stop();
    }
    // Every version: a held-by comes with a pre-hold and the hold; no held-by, no pre-hold — except
    // the one version the person's revert produced, which tagguard then re-held.
    const states = watch.versions.map((v) => {
      const a = annotations(v);
      return `${a[HELD_BY_ANNOTATION] ?? '-'} ${a[PRE_HOLD_ANNOTATION] ?? '-'} ${JSON.stringify(valueAt(v, ['spec', 'suspend']))}`;
    });
    expect(states).toEqual([
      '- - false',
      `${A} {"spec.suspend":false} true`,
      `${A},${B} {"spec.suspend":false} true`,
      `${A},${B} {"spec.suspend":false} false`,
      `${A},${B} {"spec.suspend":false} true`,
      `${A} {"spec.suspend":false} true`,
      '- - false',
    ]);
  });
});

describe('recovery after a restart', () => {
  it('finds every target whose held-by names a holder, across kinds and namespaces, skipping kinds not served', async () => {
    const ns1 = await newNamespace(kube, 'find-a');
    const ns2 = await newNamespace(kube, 'find-b');
    const repo = refOf(await kube.apply(ociRepository(ns1, 'payment')));
    const release = refOf(await kube.apply(helmRelease(ns2, 'payment')));
    const app = refOf(await kube.apply(application(ns2, 'payment', { automated: { prune: true } })));
    const other = refOf(await kube.apply(kustomization(ns1, 'other')));
    await holds.pin(repo, A, { digest: DIGEST });
    await holds.hold(release, A, SUSPEND);
    await holds.hold(app, A, SKIP);
    await holds.hold(app, B, SUSPEND);
    await holds.hold(other, B, SUSPEND);

    const kinds = [
      { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'OCIRepository' },
      HELM_RELEASE,
      APPLICATION,
      { apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization' },
      { apiVersion: 'example.tagguard.dev/v1', kind: 'NotInstalled' },
      { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'NotAKind' },
    ];
    const mine = (await holds.findHeldBy(A, kinds)).filter((h) => [ns1, ns2].includes(h.target.namespace));
    expect(mine.map((h) => h.target).sort((x, y) => x.kind.localeCompare(y.kind))).toEqual([
      app,
      release,
      repo,
    ]);
    expect(mine.find((h) => h.target.kind === 'Application')?.holders).toEqual([A, B]);
    const theirs = await holds.findHeldBy(B, kinds, ns1);
    expect(theirs.map((h) => h.target)).toEqual([other]);
  });
});
