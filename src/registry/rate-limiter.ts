// Requests per second per registry host (a token bucket per host), shared by every transport that talks to
// the same registries, so one operator stays a polite client however many credentials it uses. Waiting
// requests are served in arrival order.

export interface RateLimiterOptions {
  /** Sustained requests per second per registry. */
  readonly perSecond: number;
  /** Requests allowed at once after a quiet period (default 2 × perSecond). */
  readonly burst?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

interface Bucket {
  tokens: number;
  updated: number;
  /** The tail of the queue of waiting requests. */
  queue: Promise<void>;
}

export class RateLimiter {
  private readonly perMs: number;
  private readonly burst: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly buckets = new Map<string, Bucket>();

  constructor(options: RateLimiterOptions) {
    if (!(options.perSecond > 0)) throw new RangeError('perSecond must be positive');
    this.perMs = options.perSecond / 1000;
    this.burst = Math.max(1, options.burst ?? Math.ceil(options.perSecond * 2));
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Resolves when a request to the registry may go out. */
  acquire(registry: string): Promise<void> {
    let bucket = this.buckets.get(registry);
    if (!bucket) {
      bucket = { tokens: this.burst, updated: this.now(), queue: Promise.resolve() };
      this.buckets.set(registry, bucket);
    }
    const current = bucket;
    const turn = current.queue.then(async () => {
      const now = this.now();
      current.tokens = Math.min(this.burst, current.tokens + (now - current.updated) * this.perMs);
      current.updated = now;
      if (current.tokens < 1) {
        const wait = Math.ceil((1 - current.tokens) / this.perMs);
        await this.sleep(wait);
        current.tokens = Math.min(this.burst, current.tokens + wait * this.perMs);
        current.updated = this.now();
      }
      current.tokens -= 1;
    });
    current.queue = turn;
    return turn;
  }
}
