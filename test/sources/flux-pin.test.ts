import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseOCIRepository } from '../../src/sources/flux/objects.ts';

const repo = (ref: Record<string, string>, preHold?: string): KubernetesObject =>
  ({
    apiVersion: 'source.toolkit.fluxcd.io/v1',
    kind: 'OCIRepository',
    metadata: {
      name: 'web',
      namespace: 'apps',
      ...(preHold ? { annotations: { 'tagguard.dev/pre-hold': preHold } } : {}),
    },
    spec: { url: 'oci://registry.test/charts/web', ref },
  }) as KubernetesObject;

const pinned = `sha256:${'a'.repeat(64)}`;
const users = `sha256:${'b'.repeat(64)}`;

describe('an OCIRepository pinned by tagguard', () => {
  it('is watched by its tag, not by the digest tagguard wrote', () => {
    expect(
      parseOCIRepository(repo({ tag: '2.0.0', digest: pinned }, '{"spec.ref.digest":null}')).ref,
    ).toEqual({ tag: '2.0.0' });
  });

  it('keeps the digest the user had set before the pin', () => {
    expect(
      parseOCIRepository(repo({ tag: '2.0.0', digest: pinned }, JSON.stringify({ 'spec.ref.digest': users })))
        .ref,
    ).toEqual({
      tag: '2.0.0',
      digest: users,
    });
  });

  it("keeps a digest that is not tagguard's (no pin record, or a suspend-only record)", () => {
    expect(parseOCIRepository(repo({ digest: users })).ref).toEqual({ digest: users });
    expect(parseOCIRepository(repo({ digest: users }, '{"spec.suspend":null}')).ref).toEqual({
      digest: users,
    });
  });
});
