import { afterEach, describe, expect, it, vi } from 'vitest';
import { DigestPoller } from '../../src/controller/digest-poller.ts';
import { describePollKey } from '../../src/controller/registry-access.ts';
import { isBackground } from '../../src/registry/request-priority.ts';

const d = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`;

describe('DigestPoller', () => {
  afterEach(() => vi.useRealTimers());

  it('shares one resolution per key between subscribers and reuses a fresh answer', async () => {
    let calls = 0;
    const poller = new DigestPoller({ onChange: () => undefined });
    const resolver = () => Promise.resolve({ digest: d(++calls), tag: '1.0.0', mediaType: 'm' });
    const a = await poller.resolve('key', 'ns/a', 60_000, resolver, 60_000);
    const b = await poller.resolve('key', 'ns/b', 30_000, resolver, 60_000);
    expect(a.digest).toBe(b.digest);
    expect(calls).toBe(1);
    const fresh = await poller.resolve('key', 'ns/a', 60_000, resolver, 0);
    expect(fresh.digest).toBe(d(2));
    poller.stop();
  });

  it('ticks at the shortest interval asked for and wakes every subscriber when the digest moves', async () => {
    vi.useFakeTimers();
    let digest = d(1);
    const woken: string[][] = [];
    const poller = new DigestPoller({ onChange: (s) => woken.push([...s].sort()) });
    const resolver = () => Promise.resolve({ digest, tag: 't', mediaType: 'm' });
    await poller.resolve('key', 'ns/slow', 60_000, resolver, 0);
    await poller.resolve('key', 'ns/fast', 10_000, resolver, 60_000);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(woken).toEqual([]);
    digest = d(2);
    // A tick comes within ±5 % of the interval.
    await vi.advanceTimersByTimeAsync(10_500);
    expect(woken).toEqual([['ns/fast', 'ns/slow']]);
    poller.stop();
  });

  it('ticks within ±5 % of the interval, once per interval on average, so keys started together drift apart', async () => {
    vi.useFakeTimers();
    const ticks = new Map<string, number[]>();
    let draw = 0;
    // Ten keys started at once, each drawing its own jitter.
    const poller = new DigestPoller({ onChange: () => undefined, random: () => (draw += 0.37) % 1 });
    const started = Date.now();
    for (let k = 0; k < 10; k += 1) {
      const key = `k${k}`;
      await poller.resolve(
        key,
        `ns/${key}`,
        60_000,
        () => {
          ticks.set(key, [...(ticks.get(key) ?? []), Date.now() - started]);
          return Promise.resolve({ digest: d(1), tag: 't', mediaType: 'm' });
        },
        0,
      );
    }
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    const all: number[] = [];
    for (const times of ticks.values()) {
      const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
      expect(gaps.length).toBeGreaterThanOrEqual(4);
      for (const gap of gaps) {
        expect(gap).toBeLessThanOrEqual(63_000);
        expect(gap).toBeGreaterThanOrEqual(57_000);
      }
      all.push(...gaps);
    }
    // Both sides of the interval are drawn, and the mean stays at the interval.
    expect(Math.min(...all)).toBeLessThan(59_000);
    expect(Math.max(...all)).toBeGreaterThan(61_000);
    const mean = all.reduce((a, b) => a + b, 0) / all.length;
    expect(Math.abs(mean - 60_000)).toBeLessThan(1_000);
    // The first polls after the start are spread over seconds, not all at the same instant.
    const second = [...ticks.values()].map((t) => t[1] ?? 0);
    expect(Math.max(...second) - Math.min(...second)).toBeGreaterThan(3_000);
    poller.stop();
  });

  it('resolves in background on a tick only, and wakes the subscribers in the foreground', async () => {
    vi.useFakeTimers();
    let digest = d(1);
    const seen: boolean[] = [];
    const wokenIn: boolean[] = [];
    const poller = new DigestPoller({ onChange: () => wokenIn.push(isBackground()) });
    const resolver = () => {
      seen.push(isBackground());
      return Promise.resolve({ digest, tag: 't', mediaType: 'm' });
    };
    await poller.resolve('key', 'ns/a', 10_000, resolver, 0);
    digest = d(2);
    await vi.advanceTimersByTimeAsync(10_500);
    expect(seen).toEqual([false, true]);
    expect(wokenIn).toEqual([false]);
    // A reconcile asking for a fresh answer after the tick is a foreground request again.
    await poller.resolve('key', 'ns/a', 10_000, resolver, 0);
    expect(seen).toEqual([false, true, false]);
    poller.stop();
  });

  it('drops a key when its last subscriber lets go', async () => {
    const poller = new DigestPoller({ onChange: () => undefined });
    const resolver = () => Promise.resolve({ digest: d(1), tag: 't', mediaType: 'm' });
    await poller.resolve('k1', 'ns/a', 60_000, resolver, 0);
    await poller.resolve('k2', 'ns/a', 60_000, resolver, 0);
    await poller.resolve('k2', 'ns/b', 60_000, resolver, 0);
    poller.retain('ns/a', ['k1']);
    expect(poller.size).toBe(2);
    poller.forget('ns/a');
    expect(poller.size).toBe(1);
    poller.forget('ns/b');
    expect(poller.size).toBe(0);
    poller.stop();
  });
});

describe('DigestPoller.trigger (push notifications)', () => {
  afterEach(() => vi.useRealTimers());

  const url = 'oci://registry.example.com:443/charts/web';
  const tagKey = `${url} 1.0.0 https anonymous`;
  const otherTagKey = `${url} 2.0.0 https anonymous`;
  const semverKey = `${url} semver:>=1.0.0 https anonymous`;
  const digestKey = `${url} ${d(9)} https anonymous`;

  const setup = async (options: { minSpacingMs?: number } = {}) => {
    const woken: string[] = [];
    const calls = new Map<string, number>();
    let triggered = 0;
    const digests = new Map<string, string>();
    const poller = new DigestPoller({
      onChange: (s) => woken.push(...s),
      describe: describePollKey,
      onTriggeredResolve: () => (triggered += 1),
      ...options,
    });
    const resolverFor = (key: string) => () => {
      calls.set(key, (calls.get(key) ?? 0) + 1);
      return Promise.resolve({ digest: digests.get(key) ?? d(1), tag: 't', mediaType: 'm' });
    };
    for (const [key, subscriber] of [
      [tagKey, 'ns/tag'],
      [otherTagKey, 'ns/other'],
      [semverKey, 'ns/semver'],
      [digestKey, 'ns/digest'],
    ] as const)
      await poller.resolve(key, subscriber, 3_600_000, resolverFor(key), 0);
    calls.clear();
    return {
      poller,
      woken,
      calls,
      digests,
      triggered: () => triggered,
    };
  };

  it('resolves the tag named by the push and every semver key of the repository, not other tags or digests', async () => {
    vi.useFakeTimers();
    const { poller, woken, calls, digests, triggered } = await setup();
    digests.set(tagKey, d(2));
    const matched = poller.trigger({
      registry: 'REGISTRY.example.com',
      repository: 'charts/web',
      tag: '1.0.0',
    });
    expect(matched).toBe(2);
    await vi.advanceTimersByTimeAsync(0);
    expect([...calls.keys()].sort()).toEqual([tagKey, semverKey].sort());
    expect(triggered()).toBe(2);
    // Only the key whose digest moved wakes its subscribers, as a tick does.
    expect(woken).toEqual(['ns/tag']);
    poller.stop();
  });

  it('treats a digest-only push as a push of every tag of the repository', async () => {
    vi.useFakeTimers();
    const { poller, calls } = await setup();
    expect(poller.trigger({ registry: 'registry.example.com', repository: 'charts/web', digest: d(5) })).toBe(
      3,
    );
    await vi.advanceTimersByTimeAsync(0);
    expect([...calls.keys()].sort()).toEqual([tagKey, otherTagKey, semverKey].sort());
    poller.stop();
  });

  it('matches nothing in another repository or registry', async () => {
    const { poller, calls } = await setup();
    expect(poller.trigger({ registry: 'registry.example.com', repository: 'charts/api', tag: '1.0.0' })).toBe(
      0,
    );
    expect(poller.trigger({ registry: 'other.example.com', repository: 'charts/web', tag: '1.0.0' })).toBe(0);
    expect(calls.size).toBe(0);
    poller.stop();
  });

  it('coalesces a flood of pushes for one key into one resolve per spacing', async () => {
    vi.useFakeTimers();
    const { poller, calls } = await setup({ minSpacingMs: 1_000 });
    const push = { registry: 'registry.example.com', repository: 'charts/web', tag: '2.0.0' };
    for (let i = 0; i < 50; i += 1) poller.trigger(push);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.get(otherTagKey)).toBe(1);
    // Pushes during the spacing are absorbed by one deferred resolve at its end.
    for (let i = 0; i < 50; i += 1) poller.trigger(push);
    await vi.advanceTimersByTimeAsync(999);
    expect(calls.get(otherTagKey)).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls.get(otherTagKey)).toBe(2);
    // Over 10 s of continuous pushes: at most one resolve a second.
    for (let ms = 0; ms < 10_000; ms += 100) {
      poller.trigger(push);
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(calls.get(otherTagKey)).toBeLessThanOrEqual(12);
    poller.stop();
  });

  it('resolves again after a resolve that was already in flight when the push arrived', async () => {
    vi.useFakeTimers();
    let release: () => void = () => undefined;
    let calls = 0;
    const woken: string[] = [];
    const poller = new DigestPoller({
      onChange: (s) => woken.push(...s),
      describe: describePollKey,
      minSpacingMs: 0,
    });
    const resolver = () => {
      calls += 1;
      const digest = d(calls);
      return calls === 2
        ? new Promise<{ digest: string; tag: string; mediaType: string }>((resolve) => {
            release = () => resolve({ digest, tag: '1.0.0', mediaType: 'm' });
          })
        : Promise.resolve({ digest, tag: '1.0.0', mediaType: 'm' });
    };
    await poller.resolve(tagKey, 'ns/a', 3_600_000, resolver, 0);
    const slow = poller.resolve(tagKey, 'ns/a', 3_600_000, resolver, 0);
    poller.trigger({ registry: 'registry.example.com', repository: 'charts/web', tag: '1.0.0' });
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(2);
    release();
    await slow;
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(3);
    expect(woken).toEqual(['ns/a']);
    poller.stop();
  });

  it('looks once more a spacing later when the push arrived before the tag moved', async () => {
    vi.useFakeTimers();
    const { poller, woken, calls, digests } = await setup({ minSpacingMs: 1_000 });
    const push = { registry: 'registry.example.com', repository: 'charts/web', tag: '1.0.0' };
    poller.trigger(push);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.get(tagKey)).toBe(1);
    expect(woken).toEqual([]);
    digests.set(tagKey, d(2)); // the registry links the tag only now
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls.get(tagKey)).toBe(2);
    expect(woken).toEqual(['ns/tag']);
    // One follow-up only: nothing more without another push.
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls.get(tagKey)).toBe(2);
    // A push whose first look already sees the move needs no follow-up.
    digests.set(tagKey, d(3));
    poller.trigger(push);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(calls.get(tagKey)).toBe(3);
    poller.stop();
  });

  it('does nothing after stop', async () => {
    const { poller, calls } = await setup();
    poller.stop();
    expect(poller.trigger({ registry: 'registry.example.com', repository: 'charts/web' })).toBe(0);
    expect(calls.size).toBe(0);
  });
});
