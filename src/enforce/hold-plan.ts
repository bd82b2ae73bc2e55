// Computes, without I/O, the one write that puts a target into the held state for a holder: the held
// fields, tagguard.dev/held-by and tagguard.dev/pre-hold together, guarded by the resourceVersion read.
// Server-side apply (field manager tagguard) when the hold only sets fields; a JSON merge patch when it
// must remove a field another manager owns (Argo CD spec.syncPolicy.automated), which apply cannot do.
import { isDigest } from '../registry/reference.ts';
import { EnforceError } from './errors.ts';
import { chooseMethod, classifyTarget, isPinMethod, isVersionPinMethod, pinFieldOf } from './hold-method.ts';
import {
  HELD_BY_ANNOTATION,
  PRE_HOLD_ANNOTATION,
  PRE_HOLD_PATHS,
  formatHolders,
  formatPreHold,
  normalizeHolders,
  preHoldKeys,
  readHoldRecord,
  sameHolders,
  type PreHold,
  type PreHoldKey,
} from './hold-record.ts';
import { restoreField, setAt, type JsonDraft } from './merge-patch.ts';
import { valueAt, type JsonObject, type JsonValue, type TargetObject } from './target-object.ts';
import type { HoldMethod, HoldOptions } from './types.ts';

/** One request: server-side apply or JSON merge patch; both carry metadata.resourceVersion. */
export interface TargetWrite {
  readonly type: 'apply' | 'merge-patch';
  readonly body: JsonObject;
}

export interface HoldPlan {
  readonly method: HoldMethod;
  readonly fellBackToSuspend: boolean;
  readonly reverted: boolean;
  readonly preHoldUnknown: boolean;
  /** Undefined: the target is already held as asked, nothing to write. */
  readonly write: TargetWrite | undefined;
}

const DIGEST_PATH = ['spec', 'ref', 'digest'] as const;

/** What a held field must be: a value, or absent. */
type HeldValue = { readonly value: JsonValue } | 'absent';

/**
 * Keys of a pin: a field that holds the verified digest (OCIRepository ref, Argo CD targetRevision) or
 * version (HelmRelease chart template, HelmChart). ("Digest" below means either.)
 */
const isDigestKey = (key: PreHoldKey): boolean =>
  key === 'spec.ref.digest' ||
  key === 'spec.ref' ||
  key === 'spec.source.targetRevision' ||
  key === 'spec.chart.spec.version' ||
  key === 'spec.version';

/** Where a pin's value is written. */
const pinPath = (key: PreHoldKey): readonly string[] =>
  key === 'spec.ref' || key === 'spec.ref.digest' ? DIGEST_PATH : PRE_HOLD_PATHS[key];

// fluxcd/pkg/version.ParseVersion: strict semver, an optional leading "v" (what a version pin may be).
const EXACT_VERSION =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

const currentValue = (object: TargetObject, key: PreHoldKey): JsonValue | undefined => {
  const value = valueAt(object.json, PRE_HOLD_PATHS[key]);
  return value === null ? undefined : value;
};

const currentDigest = (object: TargetObject, key: PreHoldKey): JsonValue | undefined =>
  valueAt(object.json, pinPath(key));

/** The digest a pre-hold entry records (null: there was none). */
const recordedDigest = (preHold: PreHold, key: PreHoldKey): JsonValue => {
  const recorded = preHold[key] ?? null;
  return key === 'spec.ref' ? (valueAt({ ref: recorded }, ['ref', 'digest']) ?? null) : recorded;
};

/** Where a pin is recorded: an existing entry, else spec.ref when the OCIRepository has no ref at all. */
const pinKey = (object: TargetObject, recorded: readonly PreHoldKey[]): PreHoldKey =>
  recorded.find(isDigestKey) ??
  (valueAt(object.json, ['spec', 'ref']) === undefined ? 'spec.ref' : 'spec.ref.digest');

const methodKey = (method: HoldMethod, object: TargetObject, recorded: readonly PreHoldKey[]): PreHoldKey => {
  switch (method) {
    case 'spec.suspend':
      return 'spec.suspend';
    case 'spec.syncPolicy.automated':
      return 'spec.syncPolicy.automated';
    case 'skip-reconcile':
      return 'metadata.annotations.argocd.argoproj.io/skip-reconcile';
    case 'spec.ref.digest':
      return pinKey(object, recorded);
    case 'spec.source.targetRevision':
    case 'spec.chart.spec.version':
    case 'spec.version':
      return method;
  }
};

const heldValue = (key: PreHoldKey, digest: string): HeldValue => {
  switch (key) {
    case 'spec.suspend':
      return { value: true };
    case 'spec.syncPolicy.automated':
      return 'absent';
    case 'metadata.annotations.argocd.argoproj.io/skip-reconcile':
      return { value: 'true' };
    case 'spec.ref.digest':
    case 'spec.ref':
    case 'spec.source.targetRevision':
    case 'spec.chart.spec.version':
    case 'spec.version':
      return { value: digest };
  }
};

/** The path a held value is written at (a pin recorded as spec.ref still writes only the digest). */
const heldPath = (key: PreHoldKey): readonly string[] =>
  isDigestKey(key) ? pinPath(key) : PRE_HOLD_PATHS[key];

const inPlace = (object: TargetObject, key: PreHoldKey, digest: string): boolean => {
  const held = heldValue(key, digest);
  const current = valueAt(object.json, heldPath(key));
  return held === 'absent' ? current === undefined || current === null : current === held.value;
};

/** A recorded field is back at its pre-hold value (a moved pin is not undone). */
const undone = (object: TargetObject, key: PreHoldKey, preHold: PreHold): boolean => {
  if (isDigestKey(key)) return (currentDigest(object, key) ?? null) === recordedDigest(preHold, key);
  const held = heldValue(key, '');
  const current = currentValue(object, key);
  return held === 'absent' ? current !== undefined : current !== held.value;
};

/**
 * The digest to hold a recorded pin at: the caller's, else the one on the target unless the pin was
 * undone. Undefined when nobody knows the verified digest any more.
 */
const pinnedDigest = (
  object: TargetObject,
  options: HoldOptions,
  method: HoldMethod,
  preHold: PreHold,
  key: PreHoldKey | undefined,
): string | undefined => {
  if (isVersionPinMethod(method)) return options.pinVersion;
  if (isPinMethod(method)) return options.pinDigest;
  if (key === undefined || undone(object, key, preHold)) return undefined;
  const digest = currentDigest(object, key);
  return typeof digest === 'string' ? digest : undefined;
};

export const planHold = (object: TargetObject, holder: string, options: HoldOptions): HoldPlan => {
  const choice = chooseMethod(classifyTarget(object), options, pinFieldOf(object.kind, object.json.spec));
  if (options.pinOnly === true && choice.fellBackToSuspend)
    return { ...choice, reverted: false, preHoldUnknown: false, write: undefined };
  if (isVersionPinMethod(choice.method)) {
    if (!EXACT_VERSION.test(options.pinVersion ?? ''))
      throw new EnforceError(
        'InvalidVersion',
        `refusing to pin to version "${options.pinVersion}": not exact`,
      );
  } else if (isPinMethod(choice.method) && !isDigest(options.pinDigest ?? '')) {
    throw new EnforceError('InvalidDigest', `refusing to pin to "${options.pinDigest}": not a digest`);
  }
  const record = readHoldRecord(object);
  const hadRecord = record.holders.length > 0 || record.preHold !== undefined || record.preHoldInvalid;
  // The record is gone or unreadable although someone holds the target: recompute it from what is there.
  const preHoldLost = record.preHold === undefined && (hadRecord || options.expectHeld === true);

  const recorded = record.preHold ? preHoldKeys(record.preHold) : [];
  const preHold: Partial<Record<PreHoldKey, JsonValue>> = { ...record.preHold };
  const keys = new Set<PreHoldKey>([...recorded, methodKey(choice.method, object, recorded)]);
  // A pin taking over from this holder's own suspend (the digest was quarantined before anything was
  // trusted, and is trusted now): the pin is set and the suspend restored in the same write. Releasing
  // first and pinning after would leave a moment in which the source follows the tag again (seen with the
  // real source-controller). Another holder's suspend stays: it is not this holder's to lift.
  const resumed =
    options.pinOnly === true &&
    isPinMethod(choice.method) &&
    record.preHold !== undefined &&
    record.holders.every((h) => h === holder)
      ? recorded.filter((key) => !isDigestKey(key))
      : [];
  const restores = resumed.map((key) => ({ path: PRE_HOLD_PATHS[key], before: preHold[key] ?? null }));
  for (const key of resumed) {
    keys.delete(key);
    delete preHold[key];
  }
  const digest = pinnedDigest(object, options, choice.method, preHold, recorded.find(isDigestKey));
  // An undone pin whose digest this holder does not know stays to its owner's next pin; this holder's
  // own method (then always spec.suspend) holds the target meanwhile.
  const enforced = [...keys].filter((key) => !isDigestKey(key) || digest !== undefined);

  let preHoldUnknown = false;
  for (const key of keys) {
    if (preHold[key] !== undefined) continue;
    preHold[key] = key === 'spec.ref' ? null : (currentValue(object, key) ?? null);
    if (preHoldLost && inPlace(object, key, digest ?? '')) preHoldUnknown = true;
  }

  // Annotations removed by someone count as an undone hold too.
  const recordTampered =
    preHoldLost ||
    (record.preHold !== undefined && record.holders.length === 0) ||
    (options.expectHeld === true && !record.holders.includes(holder));
  const reverted =
    recordTampered ||
    recorded
      .filter((key) => !resumed.includes(key))
      .some((key) => undone(object, key, preHold) && !inPlace(object, key, digest ?? ''));
  const holders = normalizeHolders([...record.holders, holder]);
  const preHoldText = formatPreHold(preHold);
  const recordChanged =
    !sameHolders(holders, record.holders) || preHoldText !== object.metadata.annotations[PRE_HOLD_ANNOTATION];
  const allInPlace = enforced.every((key) => inPlace(object, key, digest ?? ''));
  const base = { ...choice, reverted, preHoldUnknown };
  if (!recordChanged && allInPlace && resumed.length === 0) return { ...base, write: undefined };

  const fields = enforced.map((key) => ({ path: heldPath(key), held: heldValue(key, digest ?? '') }));
  const mustRemove =
    resumed.length > 0 ||
    fields.some(({ path, held }) => held === 'absent' && valueAt(object.json, path) !== undefined);
  const body = writeBase(object);
  for (const { path, held } of fields) {
    if (held !== 'absent') setAt(body, path, held.value);
    else if (mustRemove) setAt(body, path, null);
  }
  for (const { path, before } of restores) restoreField(body, object.json, path, before);
  setAt(body, ['metadata', 'annotations', HELD_BY_ANNOTATION], formatHolders(holders));
  setAt(body, ['metadata', 'annotations', PRE_HOLD_ANNOTATION], preHoldText);
  return { ...base, write: { type: mustRemove ? 'merge-patch' : 'apply', body: body } };
};

/** Identity and the resourceVersion precondition: the write fails with 409 if the target changed. */
export const writeBase = (object: TargetObject): JsonDraft => ({
  apiVersion: object.apiVersion,
  kind: object.kind,
  metadata: {
    name: object.metadata.name,
    namespace: object.metadata.namespace,
    resourceVersion: object.metadata.resourceVersion,
  },
});
