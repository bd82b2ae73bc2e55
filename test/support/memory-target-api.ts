// An in-memory TargetApi (tagguard's own narrow interface under HoldManager) for unit tests of what sits
// above the enforce layer: writes are applied as JSON merge patches guarded by resourceVersion, every write
// is logged, and a target's writes can be made to fail. Field-manager semantics are the integration tests'.
import { EnforceError } from '../../src/enforce/errors.ts';
import { applyMergePatch } from '../../src/enforce/merge-patch.ts';
import type { TargetApi } from '../../src/enforce/target-api.ts';
import {
  isJsonObject,
  toTargetObject,
  type JsonObject,
  type TargetObject,
} from '../../src/enforce/target-object.ts';
import type { TargetKind, TargetRef } from '../../src/enforce/types.ts';

export interface MemoryWrite {
  readonly type: 'apply' | 'merge-patch';
  /** `Kind namespace/name` */
  readonly target: string;
  readonly body: JsonObject;
}

export interface MemoryTargetApi extends TargetApi {
  /** The object as stored now (undefined when absent). */
  object(target: Pick<TargetRef, 'kind' | 'namespace' | 'name'>): TargetObject | undefined;
  /** Every write taken, in order (failed ones are not listed). */
  readonly writes: MemoryWrite[];
  /** Writes to these targets (`Kind namespace/name`) fail with EnforceError ApiError. */
  readonly failWrites: Set<string>;
}

const keyOf = (kind: string, namespace: string, name: string): string => `${kind} ${namespace}/${name}`;

const identityOf = (body: JsonObject): { kind: string; namespace: string; name: string; rv: string } => {
  const metadata = isJsonObject(body['metadata']) ? body['metadata'] : {};
  const text = (value: unknown): string => (typeof value === 'string' ? value : '');
  return {
    kind: text(body['kind']),
    namespace: text(metadata['namespace']),
    name: text(metadata['name']),
    rv: text(metadata['resourceVersion']),
  };
};

/** Objects are given as the API server would return them (metadata.resourceVersion set). */
export const memoryTargetApi = (objects: readonly unknown[]): MemoryTargetApi => {
  const store = new Map<string, TargetObject>();
  for (const raw of objects) {
    const object = toTargetObject(raw);
    store.set(keyOf(object.kind, object.metadata.namespace, object.metadata.name), object);
  }
  const writes: MemoryWrite[] = [];
  const failWrites = new Set<string>();

  const write = (type: MemoryWrite['type'], body: JsonObject): Promise<TargetObject> => {
    const { kind, namespace, name, rv } = identityOf(body);
    const key = keyOf(kind, namespace, name);
    if (failWrites.has(key)) return Promise.reject(new EnforceError('ApiError', `writing ${key}: HTTP 500`));
    const current = store.get(key);
    if (current === undefined)
      return Promise.reject(new EnforceError('TargetNotFound', `writing ${key}: not found`));
    if (rv !== current.metadata.resourceVersion)
      return Promise.reject(new EnforceError('Conflict', `writing ${key}: changed concurrently`));
    const patched = applyMergePatch(current.json, body);
    if (!isJsonObject(patched) || !isJsonObject(patched['metadata']))
      return Promise.reject(new Error('the patch lost the object'));
    const { annotations, ...metadata } = patched['metadata'];
    // The API server drops an annotations map left empty.
    const keep = isJsonObject(annotations) && Object.keys(annotations).length > 0 ? { annotations } : {};
    const next = toTargetObject({
      ...patched,
      metadata: { ...metadata, ...keep, resourceVersion: String(Number(rv) + 1) },
    });
    store.set(key, next);
    writes.push({ type, target: key, body });
    return Promise.resolve(next);
  };

  return {
    writes,
    failWrites,
    object: (t) => store.get(keyOf(t.kind, t.namespace, t.name)),
    read: (t) => Promise.resolve(store.get(keyOf(t.kind, t.namespace, t.name))),
    apply: (body) => write('apply', body),
    mergePatch: (body) => write('merge-patch', body),
    list: (kind: TargetKind, namespace?: string) =>
      Promise.resolve(
        [...store.values()].filter(
          (o) =>
            o.apiVersion === kind.apiVersion &&
            o.kind === kind.kind &&
            (namespace === undefined || o.metadata.namespace === namespace),
        ),
      ),
  };
};
