// Which ArtifactVerifications read which GitOps objects on their last reconcile, so that a change to one
// object wakes only the CRs that depend on it. Reads are recorded while a reconcile runs (the reconcile's
// async context carries the CR's key): a get of one object (found or not), or a list of a kind in a
// namespace (how consumers are discovered, so a new Kustomization or HelmRelease is noticed too).
import { AsyncLocalStorage } from 'node:async_hooks';

export interface ReadRecorder {
  recordGet(apiVersion: string, kind: string, namespace: string, name: string): void;
  recordList(apiVersion: string, kind: string, namespace: string | undefined): void;
}

/** "group/Kind": the version does not matter (an object is the same at v1beta2 and v1). */
const groupKind = (apiVersion: string, kind: string): string => {
  const slash = apiVersion.indexOf('/');
  return `${slash < 0 ? '' : apiVersion.slice(0, slash)}/${kind}`;
};

const objectKey = (apiVersion: string, kind: string, namespace: string, name: string): string =>
  `get ${groupKind(apiVersion, kind)} ${namespace}/${name}`;

const listKey = (apiVersion: string, kind: string, namespace: string | undefined): string =>
  `list ${groupKind(apiVersion, kind)} ${namespace ?? '*'}`;

export class DependencyIndex implements ReadRecorder {
  private readonly context = new AsyncLocalStorage<Set<string>>();
  private readonly readsOf = new Map<string, Set<string>>();
  private readonly readersOf = new Map<string, Set<string>>();

  /** Runs one reconcile of `cr` and makes what it read its dependencies (replacing the previous ones). */
  async track<T>(cr: string, reconcile: () => Promise<T>): Promise<T> {
    const reads = new Set<string>();
    try {
      return await this.context.run(reads, reconcile);
    } finally {
      this.replace(cr, reads);
    }
  }

  recordGet(apiVersion: string, kind: string, namespace: string, name: string): void {
    this.context.getStore()?.add(objectKey(apiVersion, kind, namespace, name));
  }

  recordList(apiVersion: string, kind: string, namespace: string | undefined): void {
    this.context.getStore()?.add(listKey(apiVersion, kind, namespace));
  }

  /** The CR is gone: it depends on nothing. */
  forget(cr: string): void {
    this.replace(cr, new Set());
  }

  /** CRs whose last reconcile read this object or listed its kind in its namespace (or everywhere). */
  dependents(apiVersion: string, kind: string, namespace: string, name: string): Set<string> {
    const found = new Set<string>();
    for (const key of [
      objectKey(apiVersion, kind, namespace, name),
      listKey(apiVersion, kind, namespace),
      listKey(apiVersion, kind, undefined),
    ])
      for (const cr of this.readersOf.get(key) ?? []) found.add(cr);
    return found;
  }

  /** How many CRs have a record (for tests and debugging). */
  get size(): number {
    return this.readsOf.size;
  }

  private replace(cr: string, reads: Set<string>): void {
    for (const key of this.readsOf.get(cr) ?? []) {
      const readers = this.readersOf.get(key);
      readers?.delete(cr);
      if (readers?.size === 0) this.readersOf.delete(key);
    }
    if (reads.size === 0) {
      this.readsOf.delete(cr);
      return;
    }
    this.readsOf.set(cr, reads);
    for (const key of reads) {
      let readers = this.readersOf.get(key);
      if (!readers) this.readersOf.set(key, (readers = new Set()));
      readers.add(cr);
    }
  }
}
