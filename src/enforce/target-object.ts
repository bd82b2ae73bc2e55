// A GitOps object as the hold logic sees it: checked once at the boundary (name, namespace, resource
// version, annotations, spec), then read by field path. JSON values only: what the API server returns.
import { EnforceError } from './errors.ts';
import type { TargetRef } from './types.ts';

export type JsonValue = null | boolean | number | string | readonly JsonValue[] | JsonObject;
export interface JsonObject {
  readonly [key: string]: JsonValue;
}

export interface TargetObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly resourceVersion: string;
    readonly annotations: Readonly<Record<string, string>>;
  };
  /** The whole object as JSON, for reading fields by path. */
  readonly json: JsonObject;
}

export const isJsonObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Parses an object read from the API server. Through @kubernetes/client-node the metadata may hold
 * class instances (dates); a JSON round trip gives the plain JSON the API server sent.
 */
export const toTargetObject = (raw: unknown): TargetObject => {
  const json: unknown = JSON.parse(JSON.stringify(raw));
  if (!isJsonObject(json)) throw invalidObject('not an object');
  const { apiVersion, kind, metadata } = json;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') throw invalidObject('no apiVersion/kind');
  if (!isJsonObject(metadata)) throw invalidObject('no metadata');
  const { name, namespace, resourceVersion, annotations = {} } = metadata;
  if (typeof name !== 'string' || typeof namespace !== 'string' || typeof resourceVersion !== 'string') {
    throw invalidObject(`${kind} without name, namespace or resourceVersion`);
  }
  if (!isJsonObject(annotations) || Object.values(annotations).some((v) => typeof v !== 'string')) {
    throw invalidObject(`${kind} ${namespace}/${name} has non-string annotations`);
  }
  return {
    apiVersion,
    kind,
    metadata: { name, namespace, resourceVersion, annotations: annotations as Record<string, string> },
    json,
  };
};

const invalidObject = (why: string): EnforceError =>
  new EnforceError('ApiError', `unexpected object from the API server: ${why}`);

export const refOf = (object: TargetObject): TargetRef => ({
  apiVersion: object.apiVersion,
  kind: object.kind,
  namespace: object.metadata.namespace,
  name: object.metadata.name,
});

/** The value at a path, or undefined when it (or a parent) is absent. */
export const valueAt = (object: JsonObject, path: readonly string[]): JsonValue | undefined => {
  let current: JsonValue | undefined = object;
  for (const segment of path) {
    if (!isJsonObject(current)) return undefined;
    current = current[segment];
  }
  return current;
};

/** Deep equality of JSON values (object key order ignored, as the API server ignores it). */
export const jsonEqual = (a: JsonValue | undefined, b: JsonValue | undefined): boolean => {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item: JsonValue, i) => jsonEqual(item, (b as readonly JsonValue[])[i]));
  }
  if (!isJsonObject(a) || !isJsonObject(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => key in b && jsonEqual(a[key], b[key]));
};
