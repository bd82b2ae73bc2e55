// Verification and scan results by digest + policy hash: a digest is checked once per policy, and
// identical concurrent checks share one promise. Bounded (least recently used out first). Errors are not
// cached: a registry hiccup must not stick.
import { createHash } from 'node:crypto';

/** A stable hash of plain data (object keys sorted), for cache keys. */
export const stableHash = (value: unknown): string =>
  createHash('sha256')
    .update(
      JSON.stringify(value, (_key, v: unknown) =>
        v && typeof v === 'object' && !Array.isArray(v)
          ? Object.fromEntries(
              Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
            )
          : v,
      ),
    )
    .digest('hex');

export class ResultCache<T> {
  private readonly entries = new Map<string, Promise<T>>();
  private readonly maxEntries: () => number;

  /**
   * `maxEntries`: a number, or a function read at each insertion, so the cache can grow with the work
   * (the operator sizes it from the number of CRs it watches: a cache smaller than the set of digests
   * being re-checked misses on every reconcile, issue 17).
   */
  constructor(maxEntries: number | (() => number) = 1000) {
    this.maxEntries = typeof maxEntries === 'number' ? () => maxEntries : maxEntries;
  }

  /** `options.refresh`: compute again even when a result (or a computation) is cached. */
  get(
    key: string,
    compute: () => Promise<T>,
    keep: (result: T) => boolean = () => true,
    options: { refresh?: boolean } = {},
  ): Promise<T> {
    const cached = options.refresh ? undefined : this.entries.get(key);
    if (cached) {
      this.entries.delete(key);
      this.entries.set(key, cached);
      return cached;
    }
    this.entries.delete(key);
    const promise: Promise<T> = compute().then(
      (result) => {
        if (!keep(result) && this.entries.get(key) === promise) this.entries.delete(key);
        return result;
      },
      (error: unknown) => {
        if (this.entries.get(key) === promise) this.entries.delete(key);
        throw error;
      },
    );
    this.entries.set(key, promise);
    const max = this.maxEntries();
    while (this.entries.size > max) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return promise;
  }

  get size(): number {
    return this.entries.size;
  }
}
