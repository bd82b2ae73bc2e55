import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { meaningfulChange } from '../../src/controller/operator.ts';

const object = (metadata: KubernetesObject['metadata'], status?: unknown): KubernetesObject =>
  ({
    apiVersion: 'v1',
    kind: 'X',
    metadata: { name: 'a', namespace: 'n', ...metadata },
    status,
  }) as KubernetesObject;

describe('meaningfulChange (what wakes a reconcile)', () => {
  it('ignores a status-only update, such as the operator writing its own status', () => {
    expect(
      meaningfulChange({
        type: 'update',
        old: object({ generation: 1 }, { a: 1 }),
        object: object({ generation: 1 }, { a: 2 }),
      }),
    ).toBe(false);
  });

  it.each([
    ['a spec change (generation)', { generation: 1 }, { generation: 2 }],
    [
      'an annotation (requested-at, approve, held-by)',
      { generation: 1 },
      { generation: 1, annotations: { 'tagguard.dev/requested-at': 'now' } },
    ],
    ['a deletion timestamp', { generation: 1 }, { generation: 1, deletionTimestamp: new Date() }],
    ['a finalizer change', { generation: 1 }, { generation: 1, finalizers: ['x'] }],
  ])('reacts to %s', (_what, before, after) => {
    expect(meaningfulChange({ type: 'update', old: object(before), object: object(after) })).toBe(true);
  });

  it('reacts to adds and deletes', () => {
    expect(meaningfulChange({ type: 'add', object: object({}) })).toBe(true);
    expect(meaningfulChange({ type: 'delete', object: object({}) })).toBe(true);
  });
});
