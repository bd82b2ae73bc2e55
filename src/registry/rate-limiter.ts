// Requests per second per registry host (a token bucket per host), shared by every transport that talks to
// the same registries, so one operator stays a polite client however many credentials it uses. Waiting
// requests are served in arrival order, foreground ones before background ones (request-priority.ts).

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
  /** Waiting requests: the foreground queue is always served before the background one. */
  readonly foreground: (() => void)[];
  readonly background: (() => void)[];
  /** Whether a loop is handing out tokens to the queues. */
  pumping: boolean;
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

  /**
   * Resolves when a request to the registry may go out. `background` requests (poll ticks) get a token
   * only when no foreground request waits.
   */
  acquire(registry: string, background = false): Promise<void> {
    let bucket = this.buckets.get(registry);
    if (!bucket) {
      bucket = { tokens: this.burst, updated: this.now(), foreground: [], background: [], pumping: false };
      this.buckets.set(registry, bucket);
    }
    const current = bucket;
    return new Promise<void>((resolve) => {
      (background ? current.background : current.foreground).push(resolve);
      void this.pump(current);
    });
  }

  private async pump(bucket: Bucket): Promise<void> {
    if (bucket.pumping) return;
    bucket.pumping = true;
    try {
      while (bucket.foreground.length + bucket.background.length > 0) {
        const now = this.now();
        bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.updated) * this.perMs);
        bucket.updated = now;
        if (bucket.tokens < 1) {
          const wait = Math.ceil((1 - bucket.tokens) / this.perMs);
          await this.sleep(wait);
          bucket.tokens = Math.min(this.burst, bucket.tokens + wait * this.perMs);
          bucket.updated = this.now();
        }
        bucket.tokens -= 1;
        // Chosen after the wait: a foreground request that arrived meanwhile goes first.
        (bucket.foreground.shift() ?? bucket.background.shift())?.();
      }
    } finally {
      bucket.pumping = false;
    }
  }
}
