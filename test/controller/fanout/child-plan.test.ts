// The children of a HelmRepository parent: deterministic names within Kubernetes' limits, the parent's spec
// with the sourceRef replaced, owner and labels, and the plan from the children that exist (create, update
// on drift, delete when the consumer is gone; a child being deleted is left alone).
import { describe, expect, it } from 'vitest';
import type { ArtifactVerification } from '../../../src/api/artifact-verification.ts';
import {
  childName,
  desiredChild,
  parentKeyOf,
  parentLabelValue,
  planChildren,
} from '../../../src/controller/fanout/child-plan.ts';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

const parent = (
  name = 'charts',
  extra: Partial<ArtifactVerification['metadata']> = {},
): ArtifactVerification => ({
  apiVersion: 'tagguard.dev/v1alpha1',
  kind: 'ArtifactVerification',
  metadata: { name, namespace: 'apps', uid: 'uid-parent', generation: 3, ...extra },
  spec: {
    sourceRef: { kind: 'HelmRepository', name: 'charts' },
    interval: '1m',
    action: 'Suspend',
    verify: { minSignatures: 1, cosign: [{ name: 'release', publicKey: 'PEM' }] },
    scan: { failOn: 'high' },
  },
});

const payment = { kind: 'HelmRelease', namespace: 'apps', name: 'payment' } as const;
const billing = { kind: 'HelmRelease', namespace: 'apps', name: 'billing' } as const;
const audit = { kind: 'HelmChart', namespace: 'apps', name: 'audit' } as const;

/** A child as the API server returns it: keys in another order, a uid, a resourceVersion, a status. */
const asStored = (child: ArtifactVerification): ArtifactVerification =>
  JSON.parse(
    JSON.stringify({
      status: { observedGeneration: 1 },
      spec: Object.fromEntries(Object.entries(child.spec).reverse()),
      metadata: { ...child.metadata, uid: `uid-${child.metadata.name}`, resourceVersion: '7', generation: 1 },
      kind: child.kind,
      apiVersion: child.apiVersion,
    }),
  ) as ArtifactVerification;

describe('child names', () => {
  it('are stable, differ per consumer and per parent', () => {
    expect(childName('charts', payment)).toBe(childName('charts', payment));
    expect(childName('charts', payment)).not.toBe(childName('charts', billing));
    expect(childName('charts', payment)).not.toBe(childName('charts', { ...payment, kind: 'HelmChart' }));
    expect(childName('charts', payment)).not.toBe(childName('other', payment));
    expect(childName('charts', payment)).toMatch(/^charts-[0-9a-f]{10}$/);
  });

  it.each([
    ['a short name', 'charts'],
    ['a 253-character name', `${'a'.repeat(240)}.${'b'.repeat(12)}`],
    ['a name cut right after a dot', `${'a'.repeat(241)}.${'b'.repeat(11)}`],
    ['a name cut on dashes', `a${'-'.repeat(250)}bc`],
  ])('fit the object name and label value limits for %s', (_what, name) => {
    const child = childName(name, payment);
    expect(child.length).toBeLessThanOrEqual(253);
    expect(child).toMatch(DNS_SUBDOMAIN);
    const label = parentLabelValue(name);
    expect(label.length).toBeLessThanOrEqual(63);
    expect(label).toMatch(LABEL_VALUE);
  });

  it('keep two long parents that share a prefix apart in the label', () => {
    const long = 'x'.repeat(70);
    expect(parentLabelValue(`${long}a`)).not.toBe(parentLabelValue(`${long}b`));
  });
});

describe('desiredChild', () => {
  it("is the parent's spec with the consumer as sourceRef, owned by the parent, labelled for it", () => {
    const child = desiredChild(parent(), payment);
    expect(child.spec).toEqual({ ...parent().spec, sourceRef: { kind: 'HelmRelease', name: 'payment' } });
    expect(child.metadata).toMatchObject({
      namespace: 'apps',
      labels: { 'tagguard.dev/parent': 'charts', 'tagguard.dev/consumer-kind': 'HelmRelease' },
      annotations: { 'tagguard.dev/consumer': 'HelmRelease/apps/payment' },
      ownerReferences: [
        {
          apiVersion: 'tagguard.dev/v1alpha1',
          kind: 'ArtifactVerification',
          name: 'charts',
          uid: 'uid-parent',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    });
    expect(parentKeyOf(child)).toBe('apps/charts');
  });

  it("carries the parent's labels (a shard's selector picks parent and children alike), its own on top", () => {
    const child = desiredChild(
      parent('charts', {
        labels: { 'sharding.tagguard.dev/key': 'shard2', 'tagguard.dev/parent': 'forged' },
      }),
      payment,
    );
    expect(child.metadata.labels).toEqual({
      'sharding.tagguard.dev/key': 'shard2',
      'tagguard.dev/parent': 'charts',
      'tagguard.dev/consumer-kind': 'HelmRelease',
    });
  });

  it("names the consumer's namespace when it is another one", () => {
    const child = desiredChild(parent(), { kind: 'HelmRelease', namespace: 'team-b', name: 'shop' });
    expect(child.spec.sourceRef).toEqual({ kind: 'HelmRelease', name: 'shop', namespace: 'team-b' });
  });

  it('carries the approve and requested-at annotations of the parent', () => {
    const annotations = { 'tagguard.dev/approve': 'sha256:ab', 'tagguard.dev/requested-at': '1', other: 'x' };
    const child = desiredChild(parent('charts', { annotations }), payment);
    expect(child.metadata.annotations).toEqual({
      'tagguard.dev/consumer': 'HelmRelease/apps/payment',
      'tagguard.dev/approve': 'sha256:ab',
      'tagguard.dev/requested-at': '1',
    });
  });
});

describe('planChildren', () => {
  const names = (children: readonly ArtifactVerification[]) => children.map((c) => c.metadata.name);

  it('creates a child per new consumer', () => {
    const plan = planChildren(parent(), [payment, audit], []);
    expect(names(plan.create)).toEqual([childName('charts', payment), childName('charts', audit)]);
    expect(plan.update).toEqual([]);
    expect(plan.remove).toEqual([]);
    expect(plan.children.map((c) => c.name)).toEqual(names(plan.create));
  });

  it('leaves children that are as they should be (whatever the key order the API server returns)', () => {
    const stored = [payment, audit].map((c) => asStored(desiredChild(parent(), c)));
    const plan = planChildren(parent(), [payment, audit], stored);
    expect([plan.create, plan.update, plan.remove]).toEqual([[], [], []]);
  });

  it.each([
    [
      'a spec edited by hand',
      (c: ArtifactVerification) => ({ ...c, spec: { ...c.spec, action: 'Warn' as const } }),
    ],
    [
      'a sourceRef pointed elsewhere',
      (c: ArtifactVerification) => ({
        ...c,
        spec: { ...c.spec, sourceRef: { kind: 'HelmRelease' as const, name: 'x' } },
      }),
    ],
    [
      'a parent label removed',
      (c: ArtifactVerification) => ({
        ...c,
        metadata: { ...c.metadata, labels: { team: 'a', 'tagguard.dev/consumer-kind': 'HelmRelease' } },
      }),
    ],
    [
      'an owner reference removed (an orphan is adopted)',
      (c: ArtifactVerification) => ({ ...c, metadata: { ...c.metadata, ownerReferences: [] } }),
    ],
    [
      'a requested-at the parent does not have',
      (c: ArtifactVerification) => ({
        ...c,
        metadata: {
          ...c.metadata,
          annotations: { ...c.metadata.annotations, 'tagguard.dev/requested-at': '9' },
        },
      }),
    ],
  ])('overwrites %s from the parent, keeping resourceVersion and foreign labels', (_what, drift) => {
    const stored = asStored(desiredChild(parent(), payment));
    const drifted = drift({
      ...stored,
      metadata: { ...stored.metadata, labels: { ...stored.metadata.labels, team: 'a' } },
    });
    const plan = planChildren(parent(), [payment], [drifted]);
    expect(plan.create).toEqual([]);
    const [updated] = plan.update;
    expect(updated?.spec).toEqual(desiredChild(parent(), payment).spec);
    expect(updated?.metadata.resourceVersion).toBe('7');
    expect(updated?.metadata.uid).toBe(stored.metadata.uid);
    expect(parentKeyOf(updated ?? stored)).toBe('apps/charts');
    expect(updated?.metadata.annotations?.['tagguard.dev/requested-at']).toBeUndefined();
    expect(updated?.metadata.labels).toMatchObject({ team: 'a', 'tagguard.dev/parent': 'charts' });
    // Once written, the next plan leaves it.
    expect(planChildren(parent(), [payment], [asStored(updated as ArtifactVerification)]).update).toEqual([]);
  });

  it("follows a change of the parent's spec", () => {
    const stored = asStored(desiredChild(parent(), payment));
    const changed = { ...parent(), spec: { ...parent().spec, scan: { failOn: 'low' as const } } };
    const plan = planChildren(changed, [payment], [stored]);
    expect(plan.update[0]?.spec.scan).toEqual({ failOn: 'low' });
  });

  it('deletes children whose consumer is gone, but not one already being deleted', () => {
    const gone = asStored(desiredChild(parent(), billing));
    const going = {
      ...asStored(desiredChild(parent(), audit)),
      metadata: {
        ...asStored(desiredChild(parent(), audit)).metadata,
        deletionTimestamp: '2026-01-01T00:00:00Z',
      },
    };
    const plan = planChildren(parent(), [payment], [gone, going]);
    expect(names(plan.remove)).toEqual([gone.metadata.name]);
    expect(names(plan.create)).toEqual([childName('charts', payment)]);
  });

  it('waits for a child being deleted before it makes the same consumer a new one', () => {
    const stored = asStored(desiredChild(parent(), payment));
    const going = { ...stored, metadata: { ...stored.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } };
    const plan = planChildren(parent(), [payment], [going]);
    expect([plan.create, plan.update, plan.remove]).toEqual([[], [], []]);
  });
});
