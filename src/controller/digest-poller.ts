// One poller per distinct artifact key (registry, repository, tag or constraint, credentials), shared by
// every ArtifactVerification that watches it, ticking at the shortest interval any of them asks for. A
// tick resolves the tag (one HEAD) and, when the digest moved, wakes every subscriber. Reconciles read
// the poller's last answer when it is fresh enough instead of asking the registry again. A push
// notification (trigger) makes the matching keys tick now, at most once per key per minSpacingMs.
import type { ChartVersionEntry } from '../registry/helm-repository/index-reader.ts';
import { registryIdentity } from '../registry/reference.ts';
import { inBackground } from '../registry/request-priority.ts';

/** What a poll key watches, for matching push notifications against it (registry as registryIdentity). */
export type PollTarget = { readonly registry: string; readonly repository: string } & (
  { readonly kind: 'tag'; readonly tag: string } | { readonly kind: 'semver' } | { readonly kind: 'digest' }
);

export interface Resolution {
  readonly digest: string;
  readonly tag: string | undefined;
  readonly mediaType: string;
  readonly at: number;
  /** A chart of an HTTP repository: the index entry the digest was read from (what the checks fetch). */
  readonly entry?: ChartVersionEntry;
}

export type Resolver = () => Promise<Omit<Resolution, 'at'>>;

interface Subscription {
  readonly intervalMs: number;
  resolver: Resolver;
}

interface PollState {
  readonly subscribers: Map<string, Subscription>;
  /** What the key watches (undefined: a key no push can match). */
  readonly target: PollTarget | undefined;
  last?: Resolution;
  inFlight?: Promise<Resolution>;
  timer?: NodeJS.Timeout;
  intervalMs: number;
  /** When a triggered refresh last started, for the per-key spacing. */
  triggeredAt?: number;
  /** A triggered refresh waiting for its turn (spacing, or a resolve already in flight). */
  pending?: boolean;
}

/** A pushed artifact as a registry announced it; a digest-only push names no tag. */
export interface PushMatch {
  readonly registry: string;
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

/**
 * A digest key never moves; a semver key may pick any newly pushed tag; a tag key moves when its tag is
 * pushed, or when the push names no tag (a digest-only event could be any tag's new content).
 */
const pushMatches = (target: PollTarget | undefined, push: PushMatch): boolean => {
  if (!target || target.kind === 'digest') return false;
  if (target.registry !== registryIdentity(push.registry) || target.repository !== push.repository)
    return false;
  return target.kind === 'semver' || push.tag === undefined || push.tag === target.tag;
};

export interface DigestPollerOptions {
  /** Called with every subscriber of a key whose digest changed on a tick (or whose tick failed). */
  readonly onChange: (subscribers: readonly string[]) => void;
  readonly now?: () => number;
  /** What a key watches (registry-access's describePollKey); without it no push matches anything. */
  readonly describe?: (key: string) => PollTarget | undefined;
  /** Least time between two triggered resolves of one key (default 1 s): a flood of pushes costs one HEAD a second. */
  readonly minSpacingMs?: number;
  /** Called for each resolve a push triggered (for the metric). */
  readonly onTriggeredResolve?: () => void;
  /** [0, 1) for the jitter of each tick (default Math.random; fixed in tests). */
  readonly random?: () => number;
}

/**
 * Each tick comes up to this share of the interval early or late, drawn afresh every time: keys first
 * resolved together (an operator start over thousands of CRs) drift apart instead of ticking in bursts
 * forever after, and on average a key is polled exactly once per interval (issue 17: ≤ 1 request per tag
 * per interval). ±5 % is Flux's `--interval-jitter-percentage` default; a reconcile accepts an answer up
 * to the late bound old (freshEnough), so it never adds a request of its own between two ticks.
 */
export const TICK_JITTER = 0.05;

/** How old an answer a reconcile at its interval accepts: the latest a tick can come. */
export const freshEnough = (intervalMs: number): number => Math.ceil(intervalMs * (1 + TICK_JITTER));

export class DigestPoller {
  private readonly polls = new Map<string, PollState>();
  private readonly subscriberKeys = new Map<string, Set<string>>();
  private readonly onChange: (subscribers: readonly string[]) => void;
  private readonly now: () => number;
  private readonly describe: (key: string) => PollTarget | undefined;
  private readonly minSpacingMs: number;
  private readonly onTriggeredResolve: () => void;
  private stopped = false;
  private readonly random: () => number;

  constructor(options: DigestPollerOptions) {
    this.random = options.random ?? Math.random;
    this.onChange = options.onChange;
    this.now = options.now ?? Date.now;
    this.describe = options.describe ?? (() => undefined);
    this.minSpacingMs = options.minSpacingMs ?? 1_000;
    this.onTriggeredResolve = options.onTriggeredResolve ?? (() => undefined);
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

  /**
   * A registry announced a push: the keys it can concern resolve now (or after the per-key spacing;
   * repeated pushes in between coalesce into that one resolve) and wake their subscribers when the digest
   * moved, as a tick does. Returns how many keys matched. A push never changes what is trusted: it only
   * makes the poller look sooner.
   */
  trigger(push: PushMatch): number {
    if (this.stopped) return 0;
    let matched = 0;
    for (const [key, state] of this.polls) {
      if (!pushMatches(state.target, push)) continue;
      matched += 1;
      this.refreshSoon(key, state);
    }
    return matched;
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
      state = { subscribers: new Map(), intervalMs, target: this.describe(key) };
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
    const delay = state.intervalMs * (1 + TICK_JITTER * (2 * this.random() - 1));
    state.timer = setTimeout(() => void this.tick(key, state), delay);
    state.timer.unref();
  }

  private async tick(key: string, state: PollState): Promise<void> {
    if (this.polls.get(key) !== state) return;
    await this.refresh(key, state, true);
    if (this.polls.get(key) === state) this.schedule(key, state);
  }

  /**
   * Resolves the key now and wakes its subscribers when the digest moved (or the registry failed).
   * `routine` (a tick): its registry requests wait behind any first judgement of a digest
   * (request-priority.ts); only the resolve runs so, never the reconciles it wakes.
   */
  private async refresh(key: string, state: PollState, routine = false): Promise<boolean> {
    const before = state.last?.digest;
    const resolver = [...state.subscribers.values()][0]?.resolver;
    if (!resolver) return false;
    let changed: boolean;
    try {
      const now = await (routine ? inBackground(() => this.run(state, resolver)) : this.run(state, resolver));
      changed = now.digest !== before;
    } catch {
      // A failing registry wakes the subscribers so their status says so; they retry with backoff.
      changed = true;
    }
    if (changed && this.polls.get(key) === state) this.onChange([...state.subscribers.keys()]);
    return changed;
  }

  /**
   * One triggered refresh per key at a time: a resolve already in flight may have asked the registry
   * before the push, so the refresh waits for it and runs after; and no sooner than minSpacingMs after
   * the previous triggered one. Pushes arriving meanwhile are absorbed by the pending refresh. A
   * refresh that finds the digest unchanged looks once more after the spacing: a registry may announce
   * a push before the tag moves (distribution emits the event when the manifest is stored, before it
   * links the tag), so the first look can be too early.
   */
  private refreshSoon(key: string, state: PollState, followUp = true): void {
    if (state.pending || this.stopped || this.polls.get(key) !== state) return;
    state.pending = true;
    const go = (): void => {
      if (this.stopped || this.polls.get(key) !== state) return;
      if (state.inFlight) {
        void state.inFlight.catch(() => undefined).then(go);
        return;
      }
      const wait = (state.triggeredAt ?? -Infinity) + this.minSpacingMs - this.now();
      if (wait > 0) {
        setTimeout(go, wait).unref();
        return;
      }
      state.pending = false;
      state.triggeredAt = this.now();
      this.onTriggeredResolve();
      void this.refresh(key, state).then((changed) => {
        if (!changed && followUp) this.refreshSoon(key, state, false);
      });
    };
    go();
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
