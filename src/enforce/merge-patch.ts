// Building request bodies field by field, and JSON merge patches (RFC 7386) that turn one value into
// another exactly: keys present now but not wanted are nulled, so a restored object is the recorded one
// and not a union with whatever is there at release time.
import { isJsonObject, jsonEqual, valueAt, type JsonObject, type JsonValue } from './target-object.ts';

/** A mutable JSON object under construction. */
export type JsonDraft = { [key: string]: JsonValue | JsonDraft };

/** Sets a value at a path, creating parent objects as needed. */
export const setAt = (draft: JsonDraft, path: readonly string[], value: JsonValue): void => {
  const parents = path.slice(0, -1);
  const last = path.at(-1);
  if (last === undefined) throw new Error('setAt needs a non-empty path');
  let node = draft;
  for (const segment of parents) {
    const child = node[segment];
    if (isJsonObject(child)) {
      node = child;
    } else {
      const created: JsonDraft = {};
      node[segment] = created;
      node = created;
    }
  }
  node[last] = value;
};

/**
 * The merge patch that turns `current` into `desired` (desired must not contain nulls: merge patch cannot
 * express a null value, and the API server never returns one for the fields tagguard records).
 */
export const mergePatchValue = (current: JsonValue | undefined, desired: JsonValue): JsonValue => {
  if (!isJsonObject(desired) || !isJsonObject(current)) return desired;
  const patch: Record<string, JsonValue> = {};
  for (const key of Object.keys(current)) {
    if (!(key in desired)) patch[key] = null;
  }
  for (const [key, value] of Object.entries(desired)) {
    if (!jsonEqual(current[key], value)) patch[key] = mergePatchValue(current[key], value);
  }
  return patch;
};

/**
 * Writes into the draft what brings the field at `path` of `current` back to `before` (null: the field was
 * absent, so it is removed); nothing when it is already so. Release and a pin lifting a suspend share it.
 */
export const restoreField = (
  draft: JsonDraft,
  current: JsonObject,
  path: readonly string[],
  before: JsonValue,
): void => {
  const now = valueAt(current, path);
  if (before === null) {
    if (now !== undefined) setAt(draft, path, null);
  } else if (!jsonEqual(now, before)) setAt(draft, path, mergePatchValue(now, before));
};

/** Applies a merge patch (RFC 7386) to a value: what the API server does with a merge-patch body. */
export const applyMergePatch = (target: JsonValue | undefined, patch: JsonValue): JsonValue | undefined => {
  if (!isJsonObject(patch)) return patch;
  const result: Record<string, JsonValue> = isJsonObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete result[key];
    } else {
      const merged = applyMergePatch(result[key], value);
      if (merged !== undefined) result[key] = merged;
    }
  }
  return result;
};
