// What wakes which CR: the objects its last reconcile read (found or not), the kinds it listed in a
// namespace; a new reconcile replaces the record, a deleted CR has none; reads outside a reconcile and
// in concurrent reconciles are kept apart.
import { describe, expect, it } from 'vitest';
import { DependencyIndex } from '../../src/controller/dependency-index.ts';

const SOURCE = 'source.toolkit.fluxcd.io/v1';
const KUSTOMIZE = 'kustomize.toolkit.fluxcd.io/v1';
const tick = () => new Promise((resolve) => setTimeout(resolve, 1));
/** A reconcile that only reads. */
const reading = (read: () => void) => async (): Promise<void> => {
  await tick();
  read();
};

describe('DependencyIndex', () => {
  it('wakes the CRs that read an object, whatever its API version, and no others', async () => {
    const index = new DependencyIndex();
    await index.track('flux-system/payment', async () => {
      await tick();
      index.recordGet(SOURCE, 'OCIRepository', 'flux-system', 'payment');
    });
    await index.track(
      'flux-system/billing',
      reading(() => index.recordGet(SOURCE, 'OCIRepository', 'flux-system', 'billing')),
    );
    expect([...index.dependents(SOURCE, 'OCIRepository', 'flux-system', 'payment')]).toEqual([
      'flux-system/payment',
    ]);
    expect([
      ...index.dependents('source.toolkit.fluxcd.io/v1beta2', 'OCIRepository', 'flux-system', 'payment'),
    ]).toEqual(['flux-system/payment']);
    expect(index.dependents(SOURCE, 'OCIRepository', 'other', 'payment').size).toBe(0);
    expect(index.dependents(SOURCE, 'HelmChart', 'flux-system', 'payment').size).toBe(0);
  });

  it('wakes a CR that listed a kind in a namespace for any object of that kind there (a new consumer)', async () => {
    const index = new DependencyIndex();
    await index.track(
      'apps/payment',
      reading(() => index.recordList(KUSTOMIZE, 'Kustomization', 'apps')),
    );
    await index.track(
      'apps/everywhere',
      reading(() => index.recordList(KUSTOMIZE, 'Kustomization', undefined)),
    );
    expect([...index.dependents(KUSTOMIZE, 'Kustomization', 'apps', 'brand-new')].sort()).toEqual([
      'apps/everywhere',
      'apps/payment',
    ]);
    expect([...index.dependents(KUSTOMIZE, 'Kustomization', 'elsewhere', 'x')]).toEqual(['apps/everywhere']);
  });

  it('replaces a CR record on each reconcile (also when it threw) and drops it when the CR is forgotten', async () => {
    const index = new DependencyIndex();
    await index.track(
      'ns/cr',
      reading(() => index.recordGet(SOURCE, 'OCIRepository', 'ns', 'old')),
    );
    await expect(
      index.track(
        'ns/cr',
        reading(() => {
          index.recordGet(SOURCE, 'OCIRepository', 'ns', 'new');
          throw new Error('registry down');
        }),
      ),
    ).rejects.toThrow('registry down');
    expect(index.dependents(SOURCE, 'OCIRepository', 'ns', 'old').size).toBe(0);
    expect([...index.dependents(SOURCE, 'OCIRepository', 'ns', 'new')]).toEqual(['ns/cr']);
    index.forget('ns/cr');
    expect(index.dependents(SOURCE, 'OCIRepository', 'ns', 'new').size).toBe(0);
    expect(index.size).toBe(0);
  });

  it('keeps concurrent reconciles apart and ignores reads outside any reconcile', async () => {
    const index = new DependencyIndex();
    index.recordGet(SOURCE, 'OCIRepository', 'ns', 'stray');
    await Promise.all([
      index.track('ns/a', async () => {
        await tick();
        index.recordGet(SOURCE, 'OCIRepository', 'ns', 'a');
      }),
      index.track('ns/b', async () => {
        index.recordGet(SOURCE, 'OCIRepository', 'ns', 'b');
        await tick();
      }),
    ]);
    expect([...index.dependents(SOURCE, 'OCIRepository', 'ns', 'a')]).toEqual(['ns/a']);
    expect([...index.dependents(SOURCE, 'OCIRepository', 'ns', 'b')]).toEqual(['ns/b']);
    expect(index.dependents(SOURCE, 'OCIRepository', 'ns', 'stray').size).toBe(0);
  });
});
