import { afterEach, describe, expect, it, vi } from 'vitest';
import { DigestPoller } from '../../src/controller/digest-poller.ts';

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
    await vi.advanceTimersByTimeAsync(10_000);
    expect(woken).toEqual([['ns/fast', 'ns/slow']]);
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
