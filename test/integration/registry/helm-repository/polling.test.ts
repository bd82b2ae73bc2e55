// Polling an index through a real nginx: a server without validators (the SHA-256 of the bytes stands in
// for the ETag), the charts filter and conditional requests, and a server too slow for the request deadline.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessSupervisor } from '../../../env/processes.ts';
import { startNginx, type NginxServer } from '../../../env/nginx.ts';
import { HelmRepositoryClient } from '../../../../src/registry/helm-repository/helm-repository-client.ts';
import { isRegistryError } from '../../../../src/registry/errors.ts';

let base: string;
let supervisor: ProcessSupervisor;
let www: string;
let plain: NginxServer;
let bare: NginxServer;
let slow: NginxServer;

const index = (versions: readonly string[]): string =>
  `apiVersion: v1\nentries:\n${['payment', 'ledger']
    .map(
      (name) =>
        `  ${name}:\n${versions
          .map(
            (v) =>
              `  - apiVersion: v2\n    digest: ${'a'.repeat(64)}\n    name: ${name}\n    urls:\n    - ${name}-${v}.tgz\n    version: ${v}\n`,
          )
          .join('')}`,
    )
    .join('')}generated: "2026-01-01T00:00:00Z"\n`;

const withClient = async <T>(
  url: string,
  work: (c: HelmRepositoryClient) => Promise<T>,
  requestTimeoutMs?: number,
): Promise<T> => {
  const c = new HelmRepositoryClient(url, requestTimeoutMs !== undefined ? { requestTimeoutMs } : {});
  try {
    return await work(c);
  } finally {
    await c.close();
  }
};

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'tg-nginx-poll-'));
  supervisor = new ProcessSupervisor(base);
  www = join(base, 'www');
  await mkdir(www, { recursive: true });
  await writeFile(join(www, 'index.yaml'), index(['1.0.0', '1.1.0']));
  plain = await startNginx(supervisor, base, { name: 'nginx-poll', root: www });
  bare = await startNginx(supervisor, base, { name: 'nginx-bare', root: www, noValidators: true });
  slow = await startNginx(supervisor, base, { name: 'nginx-slow', root: www, limitRate: 1024 });
});

afterAll(async () => {
  await supervisor?.stopAll();
  await rm(base, { recursive: true, force: true });
});

describe('polling index.yaml', () => {
  it('without ETag or Last-Modified from the server: same bytes, same parse; new bytes, new parse', async () => {
    await withClient(bare.url, async (c) => {
      const first = await c.fetchIndex();
      expect(first.snapshot.etag).toBeUndefined();
      const second = await c.fetchIndex(first.snapshot);
      expect(second.changed).toBe(false);
      expect(second.bytesTransferred).toBe(first.snapshot.size);
      expect(second.snapshot.index).toBe(first.snapshot.index);
      await writeFile(join(www, 'index.yaml'), index(['1.0.0', '1.1.0', '1.2.0']));
      const third = await c.fetchIndex(second.snapshot);
      expect(third.changed).toBe(true);
      expect(third.snapshot.index.chart('payment').map((e) => e.version)).toEqual([
        '1.2.0',
        '1.1.0',
        '1.0.0',
      ]);
    });
  });

  it('keeps only the charts asked for, and asks conditionally only for the same set', async () => {
    await withClient(plain.url, async (c) => {
      const payment = new Set(['payment']);
      const first = await c.fetchIndex(undefined, payment);
      expect(first.snapshot.index.chart('payment').length).toBeGreaterThan(0);
      expect(() => first.snapshot.index.chart('ledger')).toThrow(
        expect.objectContaining({ code: 'ChartNotFound' }),
      );
      const before = (await plain.accessLog()).length;
      const same = await c.fetchIndex(first.snapshot, new Set(['payment']));
      const other = await c.fetchIndex(first.snapshot, new Set(['payment', 'ledger']));
      expect([same.changed, other.changed]).toEqual([false, true]);
      expect(other.snapshot.index.chart('ledger').length).toBeGreaterThan(0);
      expect((await plain.accessLog()).slice(before).map((e) => e.status)).toEqual([304, 200]);
    });
  });

  it('gives up on a server slower than the request deadline, with a Timeout naming the deadline', async () => {
    await writeFile(join(www, 'index.yaml'), index(Array.from({ length: 400 }, (_, i) => `1.0.${i}`)));
    const error = await withClient(
      slow.url,
      (c) =>
        c.fetchIndex().then(
          () => undefined,
          (e: unknown) => e,
        ),
      1000,
    );
    expect(isRegistryError(error, 'Timeout')).toBe(true);
    expect((error as { deadline?: string }).deadline).toBe('request');
  });
});
