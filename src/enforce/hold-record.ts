// The hold record a target carries about itself: tagguard.dev/held-by (who holds it, sorted, deduplicated)
// and tagguard.dev/pre-hold (each field the hold changed, by a fixed key, with its value before the hold;
// null = the field was absent). Being on the target, the record survives any restart of tagguard.
import { isJsonObject, type JsonValue, type TargetObject } from './target-object.ts';

export const HELD_BY_ANNOTATION = 'tagguard.dev/held-by';
export const PRE_HOLD_ANNOTATION = 'tagguard.dev/pre-hold';
export const ARGOCD_SKIP_RECONCILE_ANNOTATION = 'argocd.argoproj.io/skip-reconcile';
/** Set to "hard" on release of an Application: Argo CD re-renders past its manifest cache, then removes it. */
export const ARGOCD_REFRESH_ANNOTATION = 'argocd.argoproj.io/refresh';

/** The fields a hold may change, named as they appear in tagguard.dev/pre-hold. */
export type PreHoldKey =
  | 'spec.suspend'
  | 'spec.syncPolicy.automated'
  | 'metadata.annotations.argocd.argoproj.io/skip-reconcile'
  | 'spec.ref.digest'
  /** Pin of an OCIRepository that had no spec.ref at all: release removes the whole ref again. */
  | 'spec.ref'
  /** Pin of an Argo CD Application's native OCI source (the tag or constraint it had before). */
  | 'spec.source.targetRevision'
  /** Version pin of a HelmRelease chart template (the range it had before; null: none, i.e. `*`). */
  | 'spec.chart.spec.version'
  /** Version pin of a HelmChart. */
  | 'spec.version';

export const PRE_HOLD_PATHS: Readonly<Record<PreHoldKey, readonly string[]>> = {
  'spec.suspend': ['spec', 'suspend'],
  'spec.syncPolicy.automated': ['spec', 'syncPolicy', 'automated'],
  'metadata.annotations.argocd.argoproj.io/skip-reconcile': [
    'metadata',
    'annotations',
    ARGOCD_SKIP_RECONCILE_ANNOTATION,
  ],
  'spec.ref.digest': ['spec', 'ref', 'digest'],
  'spec.ref': ['spec', 'ref'],
  'spec.source.targetRevision': ['spec', 'source', 'targetRevision'],
  'spec.chart.spec.version': ['spec', 'chart', 'spec', 'version'],
  'spec.version': ['spec', 'version'],
};

const isPreHoldKey = (key: string): key is PreHoldKey => Object.hasOwn(PRE_HOLD_PATHS, key);

/** Field → value before the hold (null: absent). */
export type PreHold = Readonly<Partial<Record<PreHoldKey, JsonValue>>>;

export interface HoldRecord {
  readonly holders: readonly string[];
  /** Undefined when the annotation is absent or cannot be read (see preHoldInvalid). */
  readonly preHold: PreHold | undefined;
  /** The annotation exists but is not a pre-hold record tagguard wrote. */
  readonly preHoldInvalid: boolean;
}

/** Holder names (`<ns>/<name>`) from the annotation: trimmed, empty entries dropped, sorted, unique. */
export const parseHolders = (value: string | undefined): string[] =>
  normalizeHolders((value ?? '').split(','));

export const normalizeHolders = (holders: readonly string[]): string[] =>
  [...new Set(holders.map((h) => h.trim()).filter((h) => h !== ''))].sort();

export const formatHolders = (holders: readonly string[]): string => normalizeHolders(holders).join(',');

export const sameHolders = (a: readonly string[], b: readonly string[]): boolean =>
  formatHolders(a) === formatHolders(b);

/** Reads a pre-hold annotation; undefined if it is not one (unknown keys, not a JSON object). */
export const parsePreHold = (text: string): PreHold | undefined => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isJsonObject(parsed)) return undefined;
  const entries = Object.entries(parsed);
  if (entries.length === 0 || !entries.every(([key]) => isPreHoldKey(key))) return undefined;
  return parsed;
};

/** The annotation value: keys sorted so the same record is always the same string. */
export const formatPreHold = (preHold: PreHold): string => {
  const sorted: Record<string, JsonValue> = {};
  for (const key of (Object.keys(preHold) as PreHoldKey[]).sort()) {
    const value = preHold[key];
    if (value !== undefined) sorted[key] = value;
  }
  return JSON.stringify(sorted);
};

export const preHoldKeys = (preHold: PreHold): PreHoldKey[] =>
  (Object.keys(preHold) as PreHoldKey[]).filter((key) => preHold[key] !== undefined);

export const readHoldRecord = (object: TargetObject): HoldRecord => {
  const annotations = object.metadata.annotations;
  const holders = parseHolders(annotations[HELD_BY_ANNOTATION]);
  const text = annotations[PRE_HOLD_ANNOTATION];
  if (text === undefined) return { holders, preHold: undefined, preHoldInvalid: false };
  const preHold = parsePreHold(text);
  return { holders, preHold, preHoldInvalid: preHold === undefined };
};
