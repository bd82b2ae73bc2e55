import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { WebhookSecretSource } from '../../src/webhook/webhook-secret.ts';

const token = (t: string) => ({ token: Buffer.from(t) });

describe('WebhookSecretSource', () => {
  const setup = (reads: (() => Promise<Record<string, Buffer> | undefined>)[]) => {
    let now = 0;
    let calls = 0;
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const source = new WebhookSecretSource(
      () => {
        const read = reads[Math.min(calls, reads.length - 1)];
        calls += 1;
        return read ? read() : Promise.resolve(undefined);
      },
      { name: 'ns/hook', logger, refreshMs: 30_000, now: () => now },
    );
    return { source, advance: (ms: number) => (now += ms), calls: () => calls, lines };
  };

  it('re-reads a rotated Secret after the refresh period, not before', async () => {
    const { source, advance, calls } = setup([
      () => Promise.resolve(token('first-token-0123456789')),
      () => Promise.resolve(token('second-token-0123456789')),
    ]);
    expect((await source.get())?.token?.toString()).toBe('first-token-0123456789');
    advance(29_000);
    expect((await source.get())?.token?.toString()).toBe('first-token-0123456789');
    expect(calls()).toBe(1);
    advance(1_000);
    expect((await source.get())?.token?.toString()).toBe('second-token-0123456789');
  });

  it('keeps the last good value when the API server fails, and asks again after 5 s, not at every request', async () => {
    const { source, advance, calls } = setup([
      () => Promise.resolve(token('first-token-0123456789')),
      () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
    ]);
    await source.get();
    advance(30_000);
    expect((await source.get())?.token?.toString()).toBe('first-token-0123456789');
    for (let i = 0; i < 10; i += 1) await source.get();
    expect(calls()).toBe(2);
    advance(5_000);
    await source.get();
    expect(calls()).toBe(3);
  });

  it('stops authenticating when the Secret is deleted or unusable, and logs no value', async () => {
    const { source, advance, lines } = setup([
      () => Promise.resolve(token('first-token-0123456789')),
      () => Promise.resolve(undefined),
      () => Promise.resolve(token('short-secret')),
    ]);
    expect(await source.get()).toBeDefined();
    advance(30_000);
    expect(await source.get()).toBeUndefined();
    advance(30_000);
    expect(await source.get()).toBeUndefined();
    const log = lines.join('');
    expect(log).toContain('not found');
    expect(log).toContain('at least 16 bytes');
    expect(log).not.toContain('first-token');
    expect(log).not.toContain('short-secret');
  });
});
