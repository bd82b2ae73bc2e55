// Records every version the API server stores of the objects an attack-race trial looks at (Deployments,
// Flux sources and appliers, ArtifactVerifications), cluster-wide, each with the moment it was seen. One
// watch per kind for all trials; a trial reads its namespace's history after the attack. A watch that ends
// resumes from the last resourceVersion (the API server replays what was missed), or re-lists after 410.
import { Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';

export type Stored = KubernetesObject & {
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
};

export interface Seen {
  /** performance.now() when the event arrived. */
  readonly at: number;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly object: Stored;
}

export const WATCHED = {
  Deployment: '/apis/apps/v1/deployments',
  OCIRepository: '/apis/source.toolkit.fluxcd.io/v1/ocirepositories',
  HelmChart: '/apis/source.toolkit.fluxcd.io/v1/helmcharts',
  HelmRelease: '/apis/helm.toolkit.fluxcd.io/v2/helmreleases',
  Kustomization: '/apis/kustomize.toolkit.fluxcd.io/v1/kustomizations',
  ArtifactVerification: '/apis/tagguard.dev/v1alpha1/artifactverifications',
} as const;
export type WatchedKind = keyof typeof WATCHED;

export class Recorder {
  private readonly history = new Map<string, Seen[]>();
  private readonly aborts = new Set<AbortController>();
  private readonly forgotten = new Set<string>();
  private stopped = false;
  private readonly watch: Watch;

  constructor(kubeConfig: KubeConfig) {
    this.watch = new Watch(kubeConfig);
  }

  async start(): Promise<void> {
    await Promise.all(
      (Object.keys(WATCHED) as WatchedKind[]).map((kind) => this.follow(kind, WATCHED[kind], '')),
    );
  }

  private async follow(kind: WatchedKind, path: string, resourceVersion: string): Promise<void> {
    let last = resourceVersion;
    const resume = (): void => {
      if (this.stopped) return;
      setTimeout(() => void this.follow(kind, path, last).catch(() => resume()), 500);
    };
    const abort = await this.watch.watch(
      path,
      { allowWatchBookmarks: true, ...(last !== '' ? { resourceVersion: last } : {}) },
      (type: string, object: Stored & { code?: number }) => {
        if (type === 'ERROR') {
          // 410 Gone: the resourceVersion is too old; the next watch starts with a fresh list.
          if (object.code === 410) last = '';
          return;
        }
        last = object.metadata?.resourceVersion ?? last;
        if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') return;
        if (this.forgotten.has(object.metadata?.namespace ?? '')) return;
        const key = `${object.metadata?.namespace ?? ''}/${kind}`;
        const list = this.history.get(key) ?? [];
        list.push({ at: performance.now(), type, object: { ...object, kind } });
        this.history.set(key, list);
      },
      () => {
        this.aborts.delete(abort);
        resume();
      },
    );
    this.aborts.add(abort);
  }

  /** Every version seen of `kind` objects in the namespace, oldest first. */
  seen(namespace: string, kind: WatchedKind, name?: string): Seen[] {
    const list = this.history.get(`${namespace}/${kind}`) ?? [];
    return name === undefined ? list : list.filter((s) => s.object.metadata?.name === name);
  }

  /** The newest version seen, or undefined (also after a DELETED). */
  latest(namespace: string, kind: WatchedKind, name: string): Stored | undefined {
    const last = this.seen(namespace, kind, name).at(-1);
    return last === undefined || last.type === 'DELETED' ? undefined : last.object;
  }

  /** Forgets a finished trial's namespace (memory stays bounded over hundreds of trials). */
  forget(namespace: string): void {
    this.forgotten.add(namespace);
    for (const kind of Object.keys(WATCHED)) this.history.delete(`${namespace}/${kind}`);
  }

  stop(): void {
    this.stopped = true;
    for (const abort of this.aborts) abort.abort();
    this.aborts.clear();
  }
}
