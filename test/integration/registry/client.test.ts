// The registry client against real registries: olareg (referrers API) and distribution (tag schema),
// plain HTTP, TLS with a private CA, and htpasswd authentication; charts pushed by helm, signatures by
// cosign v3 and notation.
import { readFile } from 'node:fs/promises';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { RegistryClient } from '../../../src/registry/client.ts';
import { RegistryTransport, type RegistryRequestEvent } from '../../../src/registry/transport.ts';
import { parseDockerConfig } from '../../../src/registry/credentials.ts';
import { parseReference } from '../../../src/registry/reference.ts';
import { RegistryError } from '../../../src/registry/errors.ts';
import { resolveCommand } from '../../../src/cli/resolve-command.ts';
import {
  COSIGN_BUNDLE_ARTIFACT_TYPE,
  NOTATION_SIGNATURE_ARTIFACT_TYPE,
} from '../../../src/registry/media-types.ts';
import { packageChart } from '../../env/charts.ts';
import { pushChart, type PushedArtifact } from '../../env/oci.ts';
import { createToolHome, type ToolHome } from '../../env/tool-home.ts';
import {
  createNotationTestSigner,
  generateCosignKeyPair,
  signCosignBundle,
  signNotation,
} from '../../env/sign.ts';
import type { RegistryEndpoint } from '../../env/registries.ts';

const env = inject('testEnv');
const HELM_CHART_LAYER = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';

interface ClientUnderTest {
  client: RegistryClient;
  events: RegistryRequestEvent[];
}

const clientFor = async (
  home: ToolHome,
  registry: RegistryEndpoint,
  options: { withCa?: boolean; withCredentials?: boolean; tagsPageSize?: number } = {},
): Promise<ClientUnderTest> => {
  const events: RegistryRequestEvent[] = [];
  const caPem =
    registry.caFile && options.withCa !== false ? await readFile(registry.caFile, 'utf8') : undefined;
  const credentials =
    options.withCredentials === false
      ? new Map()
      : parseDockerConfig(
          await readFile(join(home.env.DOCKER_CONFIG ?? '', 'config.json'), 'utf8'),
          'test config',
        );
  const transport = new RegistryTransport({
    credentials,
    hostOptions: () => ({ plainHttp: registry.plainHttp, ...(caPem ? { caPem } : {}) }),
    onRequest: (e) => events.push(e),
    retryBaseMs: 10,
  });
  return {
    client: new RegistryClient(transport, options.tagsPageSize ? { tagsPageSize: options.tagsPageSize } : {}),
    events,
  };
};

const refOf = (artifact: PushedArtifact) => parseReference(`${artifact.repository}:${artifact.tag}`);

describe('RegistryClient against real registries', () => {
  let home: ToolHome;
  beforeAll(async () => {
    home = await createToolHome(env);
  });

  it.each(Object.entries(env.registries))(
    '%s: resolves a tag with one HEAD and reads the manifest and chart layer by digest',
    async (_name, registry) => {
      const chart = await pushChart(
        home,
        registry,
        'client',
        await packageChart(home, home.dir, { version: '1.2.3' }),
      );
      const { client, events } = await clientFor(home, registry);
      try {
        const resolved = await client.resolve(refOf(chart));
        expect(resolved.digest).toBe(chart.digest);
        expect(resolved.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
        const heads = events.filter((e) => e.method === 'HEAD');
        expect(heads.map((e) => e.code).at(-1)).toBe('200');
        expect(heads).toHaveLength(registry.username ? 2 : 1); // the authenticated one answers 401 first

        const fetched = await client.getManifest(refOf(chart), chart.digest);
        expect(fetched.digest).toBe(chart.digest);
        expect(fetched.manifest.kind).toBe('manifest');
        const layer = fetched.manifest.kind === 'manifest' ? fetched.manifest.layers[0] : undefined;
        expect(layer?.mediaType).toBe(HELM_CHART_LAYER);
        const blob = await client.getBlob(refOf(chart), layer ?? { digest: '', size: 0 });
        expect(blob.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b])); // gzip
      } finally {
        await client.close();
      }
    },
  );

  it.each(Object.entries(env.registries))(
    '%s: keeps its connection open across resolutions (HTTP/1.1 HEAD included; TLS speaks HTTP/2)',
    async (_name, registry) => {
      const chart = await pushChart(
        home,
        registry,
        'keepalive',
        await packageChart(home, home.dir, { version: '1.0.0' }),
      );
      const { client, events } = await clientFor(home, registry);
      const port = registry.host.split(':').at(-1);
      let connects = 0;
      const onConnected = (message: unknown): void => {
        const params = (message as { connectParams?: { port?: string } }).connectParams;
        if (params?.port === port) connects++;
      };
      subscribe('undici:client:connected', onConnected);
      try {
        for (let i = 0; i < 10; i++) expect((await client.resolve(refOf(chart))).digest).toBe(chart.digest);
        expect(events.filter((e) => e.method === 'HEAD' && e.code === '200')).toHaveLength(10);
        // 10 over plain HTTP/1.1 when every HEAD closes its connection (undici's default). The pool may
        // open a second connection when the next request is queued before the first is marked idle.
        expect(connects).toBeLessThanOrEqual(2);
      } finally {
        unsubscribe('undici:client:connected', onConnected);
        await client.close();
      }
    },
  );

  it('reports Unauthorized on the authenticated registry without credentials', async () => {
    const registry = env.registries.authenticated;
    const chart = await pushChart(
      home,
      registry,
      'client',
      await packageChart(home, home.dir, { version: '1.0.1' }),
    );
    const { client } = await clientFor(home, registry, { withCredentials: false });
    try {
      await expect(client.resolve(refOf(chart))).rejects.toMatchObject({
        code: 'Unauthorized',
        host: registry.host,
      });
    } finally {
      await client.close();
    }
  });

  it('reports TlsFailure, without retrying, when the registry CA is not trusted', async () => {
    const registry = env.registries.tagSchemaTls;
    const chart = await pushChart(
      home,
      registry,
      'client',
      await packageChart(home, home.dir, { version: '1.0.2' }),
    );
    const { client, events } = await clientFor(home, registry, { withCa: false });
    try {
      await expect(client.resolve(refOf(chart))).rejects.toMatchObject({ code: 'TlsFailure' });
      expect(events).toHaveLength(1);
    } finally {
      await client.close();
    }
  });

  it('reports NotFound for a tag that does not exist', async () => {
    const registry = env.registries.referrers;
    const { client } = await clientFor(home, registry);
    try {
      const error = await client
        .resolve(parseReference(`${registry.host}/client/payment:9.9.9`))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RegistryError);
      expect((error as RegistryError).code).toBe('NotFound');
      expect((error as RegistryError).transient).toBe(false);
    } finally {
      await client.close();
    }
  });

  it('lists every tag across pages', async () => {
    const registry = env.registries.tagSchema;
    const versions = ['0.1.0', '0.2.0', '0.3.0', '0.4.0', '0.5.0'];
    for (const version of versions) {
      await pushChart(home, registry, 'paged', await packageChart(home, home.dir, { name: 'many', version }));
    }
    const { client, events } = await clientFor(home, registry, { tagsPageSize: 2 });
    try {
      const tags = await client.listTags({ registry: registry.host, repository: 'paged/many' });
      expect(tags.sort()).toEqual(versions);
      expect(events.filter((e) => e.method === 'GET').length).toBeGreaterThanOrEqual(3);
    } finally {
      await client.close();
    }
  });
});

describe('referrers with fallback', () => {
  let home: ToolHome;
  beforeAll(async () => {
    home = await createToolHome(env);
    await createNotationTestSigner(home, 'referrers-test');
  });

  const signed = async (registry: RegistryEndpoint, namespace: string): Promise<PushedArtifact> => {
    const chart = await pushChart(
      home,
      registry,
      namespace,
      await packageChart(home, home.dir, { version: '4.0.0' }),
    );
    await signCosignBundle(home, registry, chart, await generateCosignKeyPair(home, `k-${namespace}`));
    await signNotation(home, registry, chart, 'jws');
    return chart;
  };

  it.each([
    ['referrers', 'referrers-api'],
    ['tagSchema', 'tag-schema'],
  ] as const)(
    'on %s finds cosign bundle and notation signatures via %s, and filters by artifactType',
    async (key, via) => {
      const registry = env.registries[key];
      const chart = await signed(registry, `refs-${key.toLowerCase()}`);
      const { client } = await clientFor(home, registry);
      try {
        const ref = refOf(chart);
        const all = await client.listReferrers(ref, chart.digest);
        expect(all.via).toBe(via);
        expect(all.manifests.map((m) => m.artifactType).sort()).toEqual(
          [COSIGN_BUNDLE_ARTIFACT_TYPE, NOTATION_SIGNATURE_ARTIFACT_TYPE].sort(),
        );
        const notation = await client.listReferrers(ref, chart.digest, NOTATION_SIGNATURE_ARTIFACT_TYPE);
        expect(notation.manifests.map((m) => m.artifactType)).toEqual([NOTATION_SIGNATURE_ARTIFACT_TYPE]);
        const signature = await client.getManifest(ref, notation.manifests[0]?.digest);
        expect(signature.manifest.subject?.digest).toBe(chart.digest);
      } finally {
        await client.close();
      }
    },
  );

  it('returns no referrers for an unsigned digest on either kind of registry', async () => {
    for (const registry of [env.registries.referrers, env.registries.tagSchema]) {
      const chart = await pushChart(
        home,
        registry,
        'unsigned',
        await packageChart(home, home.dir, { version: '4.1.0' }),
      );
      const { client } = await clientFor(home, registry);
      try {
        expect((await client.listReferrers(refOf(chart), chart.digest)).manifests).toEqual([]);
      } finally {
        await client.close();
      }
    }
  });
});

describe('tagguard resolve', () => {
  const run = async (argv: string[], dockerConfigFile = '/nonexistent/config.json') => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await resolveCommand(argv, {
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      environment: { dockerConfigFile },
    });
    return { code, stdout: out.join(''), stderr: err.join('') };
  };

  it('prints the digest as JSON and exits 0', async () => {
    const home = await createToolHome(env);
    const registry = env.registries.referrers;
    const chart = await pushChart(
      home,
      registry,
      'cli',
      await packageChart(home, home.dir, { version: '5.0.0' }),
    );
    const result = await run([`oci://${chart.repository}:${chart.tag}`, '--insecure', '--output', 'json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      digest: chart.digest,
      reference: `${chart.repository}:5.0.0`,
    });
  });

  it('uses --ca-file and --docker-config for a TLS registry with authentication', async () => {
    const home = await createToolHome(env);
    const registry = env.registries.authenticated;
    const chart = await pushChart(
      home,
      registry,
      'cli',
      await packageChart(home, home.dir, { version: '5.0.1' }),
    );
    const config = join(home.env.DOCKER_CONFIG ?? '', 'config.json');
    const args = [`${chart.repository}:${chart.tag}`, '--ca-file', env.registryCaFile, '--output', 'json'];
    expect((await run([...args, '--docker-config', config])).code).toBe(0);
    const anonymous = await run(args);
    expect(anonymous.code).toBe(3);
    expect(anonymous.stderr).toContain('Unauthorized');
    expect(anonymous.stderr).not.toContain(registry.password ?? 'no-password');
  });

  it('exits 2 for an invalid reference and 3 for a missing tag', async () => {
    expect((await run(['Not/Valid'])).code).toBe(2);
    const missing = await run([`${env.registries.tagSchema.host}/cli/nothing:1.0.0`, '--insecure']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('NotFound');
  });
});
