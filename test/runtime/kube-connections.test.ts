// dispatcherKey: the identity a pool of API server connections is kept under (runtime/kube-connections.ts).
import { describe, expect, it } from 'vitest';
import { dispatcherKey } from '../../src/runtime/kube-connections.ts';

describe('dispatcherKey', () => {
  it('tells identities apart by the bytes of their material and ignores key order', () => {
    const a = { connect: { cert: Buffer.from('cert-a'), key: Buffer.from('k'), keepAlive: true } };
    const b = { connect: { cert: Buffer.from('cert-b'), key: Buffer.from('k'), keepAlive: true } };
    const aReordered = { connect: { keepAlive: true, key: Buffer.from('k'), cert: Buffer.from('cert-a') } };
    expect(dispatcherKey(a)).not.toBe(dispatcherKey(b));
    expect(dispatcherKey(a)).toBe(dispatcherKey(aReordered));
    expect(dispatcherKey(a)).not.toContain('cert-a');
  });
});
