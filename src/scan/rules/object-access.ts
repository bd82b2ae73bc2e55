// Narrow, allocation-free accessors over untyped Kubernetes objects: the rules read only the fields they
// need and treat anything of the wrong shape as absent.
import type { KubeObject } from '../manifests.ts';

export type Json = Record<string, unknown>;

export const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export const record = (value: unknown): Json | undefined => (isRecord(value) ? value : undefined);

export const records = (value: unknown): Json[] => (Array.isArray(value) ? value.filter(isRecord) : []);

export const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

/** Follows a path of keys (own properties only); undefined when any step is missing or not an object. */
export const dig = (value: unknown, ...keys: readonly string[]): unknown => {
  let current = value;
  for (const key of keys) {
    if (!isRecord(current) || !Object.hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return current;
};

/** "Kind/name", or "namespace/Kind/name" when the object names its namespace. */
export const resourceOf = (object: KubeObject): string => {
  const name = dig(object, 'metadata', 'name') ?? dig(object, 'metadata', 'generateName');
  const namespace = dig(object, 'metadata', 'namespace');
  const base = `${object.kind}/${typeof name === 'string' && name !== '' ? name : '<unnamed>'}`;
  return typeof namespace === 'string' && namespace !== '' ? `${namespace}/${base}` : base;
};
