// Narrow readers for Kubernetes objects tagguard does not own (Flux, Argo CD, Secrets): each field is
// checked once, at the boundary, and a wrong type or a missing required field is an InvalidObject naming
// the object and the field path. Unknown fields are ignored, as the API server would.
import type { KubernetesObject } from '@kubernetes/client-node';
import { ANNOTATIONS } from '../api/artifact-verification.ts';
import { SourceError } from './errors.ts';

export type Fields = Readonly<Record<string, unknown>>;

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** "Kind/namespace/name", the way objects are named in messages and origins. */
export const objectName = (kind: string, namespace: string, name: string): string =>
  `${kind}/${namespace}/${name}`;

const invalid = (where: string, field: string, what: string): SourceError =>
  new SourceError('InvalidObject', `${where}: ${field} ${what}`);

/** Reads fields of one object part (spec, a source, …); `where` names the object, `prefix` the part. */
export class FieldReader {
  readonly where: string;
  private readonly prefix: string;
  private readonly fields: Fields;

  constructor(fields: Fields, where: string, prefix: string) {
    this.fields = fields;
    this.where = where;
    this.prefix = prefix;
  }

  private path(key: string): string {
    return this.prefix === '' ? key : `${this.prefix}.${key}`;
  }

  optionalString(key: string): string | undefined {
    const value = this.fields[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw invalid(this.where, this.path(key), 'must be a string');
    return value === '' ? undefined : value;
  }

  string(key: string): string {
    const value = this.optionalString(key);
    if (value === undefined) throw invalid(this.where, this.path(key), 'is missing');
    return value;
  }

  boolean(key: string): boolean {
    const value = this.fields[key];
    if (value === undefined || value === null) return false;
    if (typeof value !== 'boolean') throw invalid(this.where, this.path(key), 'must be a boolean');
    return value;
  }

  optionalInteger(key: string): number | undefined {
    const value = this.fields[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value))
      throw invalid(this.where, this.path(key), 'must be an integer');
    return value;
  }

  optionalObject(key: string): FieldReader | undefined {
    const value = this.fields[key];
    if (value === undefined || value === null) return undefined;
    if (!isRecord(value)) throw invalid(this.where, this.path(key), 'must be an object');
    return new FieldReader(value, this.where, this.path(key));
  }

  object(key: string): FieldReader {
    const value = this.optionalObject(key);
    if (value === undefined) throw invalid(this.where, this.path(key), 'is missing');
    return value;
  }

  /** The raw object at `key` (free-form data such as Helm values). */
  optionalRecord(key: string): Record<string, unknown> | undefined {
    const value = this.fields[key];
    if (value === undefined || value === null) return undefined;
    if (!isRecord(value)) throw invalid(this.where, this.path(key), 'must be an object');
    return value;
  }

  /** Each element of an array of objects; a missing array is empty. */
  objects(key: string): FieldReader[] {
    const value = this.fields[key];
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) throw invalid(this.where, this.path(key), 'must be an array');
    return value.map((element: unknown, i) => {
      const path = `${this.path(key)}[${i}]`;
      if (!isRecord(element)) throw invalid(this.where, path, 'must be an object');
      return new FieldReader(element, this.where, path);
    });
  }

  /** A { name } reference (LocalObjectReference); undefined when absent. */
  optionalName(key: string): string | undefined {
    return this.optionalObject(key)?.string('name');
  }
}

export interface ObjectHeader {
  readonly namespace: string;
  readonly name: string;
  readonly where: string;
  readonly spec: FieldReader;
  readonly status: FieldReader;
  readonly annotations: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
}

/** Name, namespace, spec and status of an object of the expected kind. */
export const readObject = (object: KubernetesObject, kind: string): ObjectHeader => {
  const raw: unknown = object;
  const name = object.metadata?.name ?? '';
  const namespace = object.metadata?.namespace ?? '';
  const where = objectName(kind, namespace, name);
  if (!isRecord(raw) || object.kind !== kind || name === '' || namespace === '') {
    throw new SourceError('InvalidObject', `${where}: not a namespaced ${kind} with a name`);
  }
  const root = new FieldReader(raw, where, '');
  return {
    namespace,
    name,
    where,
    spec: root.optionalObject('spec') ?? new FieldReader({}, where, 'spec'),
    status: root.optionalObject('status') ?? new FieldReader({}, where, 'status'),
    annotations: object.metadata?.annotations ?? {},
    labels: object.metadata?.labels ?? {},
  };
};

/**
 * What a field held before tagguard's Pin wrote into it, per the tagguard.dev/pre-hold record on the object
 * (`{ before: null }` when it was absent), or undefined when tagguard has not pinned that field. The field
 * then holds tagguard's value, not the user's, and the source to watch is what the user wrote (a pinned tag
 * keeps moving in the registry, and its mutations must still be seen).
 */
export const valueBeforePin = (
  annotations: Readonly<Record<string, string>>,
  key: string,
): { readonly before: unknown } | undefined => {
  const text = annotations[ANNOTATIONS.preHold];
  if (text === undefined) return undefined;
  try {
    const record: unknown = JSON.parse(text);
    return isRecord(record) && Object.hasOwn(record, key) ? { before: record[key] ?? null } : undefined;
  } catch {
    return undefined;
  }
};
