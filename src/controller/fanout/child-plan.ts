// The children a HelmRepository parent should have — one ArtifactVerification per consumer, named
// deterministically, owned by the parent, its spec the parent's with the sourceRef replaced — and the
// plan that gets there from the children that exist: create, update (drift overwritten), delete. Pure.
import { createHash } from 'node:crypto';
import {
  ANNOTATIONS,
  API_VERSION,
  CHILD_ANNOTATIONS,
  CHILD_LABELS,
  KIND,
  type ArtifactVerification,
  type OwnerReference,
} from '../../api/artifact-verification.ts';
import type { HelmRepositoryConsumer } from '../../sources/resolve-source.ts';
import { Reason } from '../../api/conditions.ts';
import { ReconcileError } from '../reconcile-error.ts';
import { canonicalJson } from './canonical-json.ts';

/** Kubernetes limits: a label value, and an object name (DNS subdomain). */
const MAX_LABEL_VALUE = 63;
const MAX_NAME = 253;
const HASH_LENGTH = 10;

/** Annotations the parent hands down as they are: approving a digest and asking for a re-check. */
export const PROPAGATED_ANNOTATIONS: readonly string[] = [ANNOTATIONS.approve, ANNOTATIONS.requestedAt];

const hash = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, HASH_LENGTH);

/** Cut to `max`, then trimmed back to an alphanumeric end (a name or label value may not end in - or .). */
const cut = (text: string, max: number): string => text.slice(0, max).replace(/[^a-z0-9]+$/, '');

export const consumerKey = (consumer: HelmRepositoryConsumer): string =>
  `${consumer.kind}/${consumer.namespace}/${consumer.name}`;

/**
 * `<parent>-<10 hex of sha256(parent, consumer)>`: stable across reconciles and restarts, at most 253
 * characters (the parent's name is cut when it would not fit; the hash keeps the names apart).
 */
export const childName = (parentName: string, consumer: HelmRepositoryConsumer): string =>
  `${cut(parentName, MAX_NAME - HASH_LENGTH - 1)}-${hash(`${parentName}\n${consumerKey(consumer)}`)}`;

/** The parent's name as a label value: itself up to 63 characters, else a cut prefix and a hash of it. */
export const parentLabelValue = (parentName: string): string =>
  parentName.length <= MAX_LABEL_VALUE
    ? parentName
    : `${cut(parentName, MAX_LABEL_VALUE - HASH_LENGTH - 1)}-${hash(parentName)}`;

/** The label selector that lists a parent's children. */
export const childSelector = (parentName: string): string =>
  `${CHILD_LABELS.parent}=${parentLabelValue(parentName)}`;

/** The parent this object is a child of (its controller owner reference of our kind), as "namespace/name". */
export const parentKeyOf = (object: {
  readonly metadata?: {
    readonly namespace?: string;
    readonly ownerReferences?: readonly Partial<OwnerReference>[];
  };
}): string | undefined => {
  const owner = object.metadata?.ownerReferences?.find(
    (o) => o.controller === true && o.kind === KIND && o.apiVersion === API_VERSION,
  );
  return owner?.name ? `${object.metadata?.namespace ?? ''}/${owner.name}` : undefined;
};

const ownerReference = (parent: ArtifactVerification): OwnerReference => {
  const uid = parent.metadata.uid;
  if (!uid)
    throw new ReconcileError(
      'Generic',
      Reason.InternalError,
      `ArtifactVerification ${parent.metadata.name} has no uid: it was not read from the API server`,
    );
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: parent.metadata.name,
    uid,
    controller: true,
    blockOwnerDeletion: true,
  };
};

const propagated = (parent: ArtifactVerification): Record<string, string> => {
  const annotations: Record<string, string> = {};
  for (const key of PROPAGATED_ANNOTATIONS) {
    const value = parent.metadata.annotations?.[key];
    if (value !== undefined) annotations[key] = value;
  }
  return annotations;
};

/** The child of `parent` for `consumer`, as it should be. */
export const desiredChild = (
  parent: ArtifactVerification,
  consumer: HelmRepositoryConsumer,
): ArtifactVerification => {
  const namespace = parent.metadata.namespace ?? '';
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: {
      name: childName(parent.metadata.name, consumer),
      namespace,
      // The parent's labels too: a shard's --watch-label-selector (docs/sharding.md) picks the children
      // of the parents it picks, so one shard reconciles a repository and all its charts.
      labels: {
        ...parent.metadata.labels,
        [CHILD_LABELS.parent]: parentLabelValue(parent.metadata.name),
        [CHILD_LABELS.consumerKind]: consumer.kind,
      },
      annotations: { [CHILD_ANNOTATIONS.consumer]: consumerKey(consumer), ...propagated(parent) },
      ownerReferences: [ownerReference(parent)],
    },
    // The parent's spec is the source of truth: everything but the sourceRef is copied as it is.
    spec: {
      ...parent.spec,
      sourceRef: {
        kind: consumer.kind,
        name: consumer.name,
        ...(consumer.namespace !== namespace ? { namespace: consumer.namespace } : {}),
      },
    },
  };
};

/**
 * `existing` brought to `desired`: the spec replaced, our labels and annotations set (the propagated ones
 * removed when the parent has none), the parent as the controller owner; other labels, annotations and
 * owners (someone else's) kept, and the resourceVersion, so the update fails if the child changed meanwhile.
 */
export const updatedChild = (
  existing: ArtifactVerification,
  desired: ArtifactVerification,
): ArtifactVerification => {
  const annotations: Record<string, string> = { ...existing.metadata.annotations };
  for (const key of PROPAGATED_ANNOTATIONS) delete annotations[key];
  return {
    ...existing,
    metadata: {
      ...existing.metadata,
      labels: { ...existing.metadata.labels, ...desired.metadata.labels },
      annotations: { ...annotations, ...desired.metadata.annotations },
      ownerReferences: [
        ...(desired.metadata.ownerReferences ?? []),
        ...(existing.metadata.ownerReferences ?? []).filter((o) => o.controller !== true),
      ],
    },
    spec: desired.spec,
  };
};

const upToDate = (existing: ArtifactVerification, desired: ArtifactVerification): boolean =>
  canonicalJson(existing.spec) === canonicalJson(desired.spec) &&
  canonicalJson(updatedChild(existing, desired).metadata) === canonicalJson(existing.metadata);

export interface ChildPlan {
  /** Consumers without a child. */
  readonly create: readonly ArtifactVerification[];
  /** Children whose spec, labels, propagated annotations or owner drifted: replaced by these. */
  readonly update: readonly ArtifactVerification[];
  /** Children whose consumer is gone (their finalizer releases their holds). */
  readonly remove: readonly ArtifactVerification[];
  /** Each consumer's child name, in the consumers' order. */
  readonly children: readonly { readonly consumer: HelmRepositoryConsumer; readonly name: string }[];
}

/**
 * From the consumers found and the children listed (by the parent label) to what must change. A child
 * being deleted is left alone: a consumer whose child is still going away gets its new child on a later
 * reconcile (the deletion wakes the parent).
 */
export const planChildren = (
  parent: ArtifactVerification,
  consumers: readonly HelmRepositoryConsumer[],
  existing: readonly ArtifactVerification[],
): ChildPlan => {
  const byName = new Map(existing.map((child) => [child.metadata.name, child]));
  const create: ArtifactVerification[] = [];
  const update: ArtifactVerification[] = [];
  const children: { consumer: HelmRepositoryConsumer; name: string }[] = [];
  const wanted = new Set<string>();
  for (const consumer of consumers) {
    const desired = desiredChild(parent, consumer);
    const name = desired.metadata.name;
    if (wanted.has(name)) continue;
    wanted.add(name);
    children.push({ consumer, name });
    const current = byName.get(name);
    if (current === undefined) create.push(desired);
    else if (current.metadata.deletionTimestamp === undefined && !upToDate(current, desired))
      update.push(updatedChild(current, desired));
  }
  const remove = existing.filter(
    (child) => !wanted.has(child.metadata.name) && child.metadata.deletionTimestamp === undefined,
  );
  return { create, update, remove, children };
};
