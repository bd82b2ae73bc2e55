// One poller per distinct artifact key (registry, repository, tag or constraint, credentials), shared by
// every ArtifactVerification that watches it, ticking at the shortest interval any of them asks for. A
// tick resolves the tag (one HEAD) and, when the digest moved, wakes every subscriber. Reconciles read
// the poller's last answer when it is fresh enough instead of asking the registry again.

export interface Resolution {
  readonly digest: string;
  readonly tag: string | undefined;
  readonly mediaType: string;
  readonly at: number;
}

export type Resolver = () => Promise<Omit<Resolution, 'at'>>;

interface Subscription {
  readonly intervalMs: number;
  resolver: Resolver;
}

interface PollState {
  readonly subscribers: Map<string, Subscription>;
  last?: Resolution;
  inFlight?: Promise<Resolution>;
  timer?: NodeJS.Timeout;
  intervalMs: number;
}

export interface DigestPollerOptions {
  /** Called with every subscriber of a key whose digest changed on a tick (or whose tick failed). */
  readonly onChange: (subscribers: readonly string[]) => void;
  readonly now?: () => number;
}

export class DigestPoller {
  private readonly polls = new Map<string, PollState>();
  private readonly subscriberKeys = new Map<string, Set<string>>();
  private readonly onChange: (subscribers: readonly string[]) => void;
  private readonly now: () => number;
  private stopped = false;

  constructor(options: DigestPollerOptions) {
    this.onChange = options.onChange;
    this.now = options.now ?? Date.now;
  }

  /**
   * Registers `subscriber` (a CR key) for `key` at `intervalMs` and returns the resolution, reusing the
   * last one when it is younger than maxAgeMs. Keys a subscriber no longer uses are dropped by retain().
   */
  async resolve(
    key: string,
    subscriber: string,
    intervalMs: number,
    resolver: Resolver,
    maxAgeMs: number,
  ): Promise<Resolution> {
    const state = this.subscribe(key, subscriber, intervalMs, resolver);
    if (state.last && maxAgeMs > 0 && this.now() - state.last.at < maxAgeMs) return state.last;
    return this.run(state, resolver);
  }

  /** Keeps only these keys for the subscriber (after a reconcile found what it watches now). */
  retain(subscriber: string, keys: readonly string[]): void {
    const keep = new Set(keys);
    for (const key of this.subscriberKeys.get(subscriber) ?? [])
      if (!keep.has(key)) this.unsubscribeKey(key, subscriber);
    if (keep.size === 0) this.subscriberKeys.delete(subscriber);
  }

  forget(subscriber: string): void {
    this.retain(subscriber, []);
  }

  stop(): void {
    this.stopped = true;
    for (const state of this.polls.values()) clearTimeout(state.timer);
    this.polls.clear();
    this.subscriberKeys.clear();
  }

  get size(): number {
    return this.polls.size;
  }

  private subscribe(key: string, subscriber: string, intervalMs: number, resolver: Resolver): PollState {
    let state = this.polls.get(key);
    if (!state) {
      state = { subscribers: new Map(), intervalMs };
      this.polls.set(key, state);
    }
    state.subscribers.set(subscriber, { intervalMs, resolver });
    let keys = this.subscriberKeys.get(subscriber);
    if (!keys) this.subscriberKeys.set(subscriber, (keys = new Set()));
    keys.add(key);
    const shortest = Math.min(...[...state.subscribers.values()].map((s) => s.intervalMs));
    if (state.timer === undefined || shortest !== state.intervalMs) {
      state.intervalMs = shortest;
      this.schedule(key, state);
    }
    return state;
  }

  private unsubscribeKey(key: string, subscriber: string): void {
    this.subscriberKeys.get(subscriber)?.delete(key);
    const state = this.polls.get(key);
    if (!state) return;
    state.subscribers.delete(subscriber);
    if (state.subscribers.size > 0) return;
    clearTimeout(state.timer);
    this.polls.delete(key);
  }

  private schedule(key: string, state: PollState): void {
    clearTimeout(state.timer);
    if (this.stopped) return;
    state.timer = setTimeout(() => void this.tick(key, state), state.intervalMs);
    state.timer.unref();
  }

  private async tick(key: string, state: PollState): Promise<void> {
    if (this.polls.get(key) !== state) return;
    const before = state.last?.digest;
    const resolver = [...state.subscribers.values()][0]?.resolver;
    let changed = false;
    if (resolver) {
      try {
        const now = await this.run(state, resolver);
        changed = now.digest !== before;
      } catch {
        // A failing registry wakes the subscribers so their status says so; they retry with backoff.
        changed = true;
      }
    }
    if (changed && this.polls.get(key) === state) this.onChange([...state.subscribers.keys()]);
    if (this.polls.get(key) === state) this.schedule(key, state);
  }

  private run(state: PollState, resolver: Resolver): Promise<Resolution> {
    if (state.inFlight) return state.inFlight;
    const promise = resolver()
      .then((resolution) => {
        state.last = { ...resolution, at: this.now() };
        return state.last;
      })
      .finally(() => {
        delete state.inFlight;
      });
    state.inFlight = promise;
    return promise;
  }
}
