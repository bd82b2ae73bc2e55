// Poll ticks wait behind the first judgement of a digest: with a slow rate limit and a small connection
// budget toward the real olareg, routine HEADs marked background (as the poller's ticks are) are queued
// first, yet a foreground resolve issued after them goes out before all but the ones already on the wire.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RegistryClient } from '../../../src/registry/client.ts';
import { RateLimiter } from '../../../src/registry/rate-limiter.ts';
import { parseReference, type OciReference } from '../../../src/registry/reference.ts';
import { inBackground } from '../../../src/registry/request-priority.ts';
import { RegistryTransport } from '../../../src/registry/transport.ts';
import { packageChart } from '../../env/charts.ts';
import { pushChart } from '../../env/oci.ts';
import { createToolHome } from '../../env/tool-home.ts';

const env = inject('testEnv');

describe('request priority toward a real registry', () => {
  let ref: OciReference;
  let client: RegistryClient;

  beforeAll(async () => {
    const home = await createToolHome(env);
    const registry = env.registries.referrers;
    const chart = await pushChart(home, registry, 'priority', await packageChart(home, home.dir, {}));
    ref = parseReference(`${registry.host}/priority/payment:${chart.tag}`);
    client = new RegistryClient(
      new RegistryTransport({
        hostOptions: () => ({ plainHttp: true }),
        rateLimiter: new RateLimiter({ perSecond: 10, burst: 1 }),
        maxConcurrencyPerRegistry: 2,
      }),
    );
  });

  afterAll(async () => {
    await client?.close();
  });

  it('serves a foreground resolve before background ones queued earlier', async () => {
    const done: string[] = [];
    // Twelve distinct tags (identical resolves in flight would share one request); missing ones answer 404.
    const ticks = Array.from({ length: 12 }, (_, i) =>
      inBackground(() => client.resolve({ ...ref, tag: `missing-${i}` }))
        .catch(() => undefined)
        .then(() => done.push(`tick-${i}`)),
    );
    // Let the background requests reach the queues first.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const judged = client.resolve(ref).then(() => done.push('judge'));
    await Promise.all([...ticks, judged]);
    // At most the two ticks holding connections and the one holding the next token finish before it.
    expect(done.indexOf('judge')).toBeLessThanOrEqual(3);
    expect(done).toHaveLength(13);
  });
});
