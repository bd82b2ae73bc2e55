// Pushes T tags to a test registry with the OCI distribution HTTP API from this process (no oras or helm
// process per tag): one shared config and layer blob (a Flux artifact, as `flux push artifact` makes it),
// mounted into each repository, and T small manifests that differ only by an annotation, so T digests.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FLUX_CONFIG, FLUX_CONTENT } from '../../test/env/oci.ts';
import type { RegistryEndpoint } from '../../test/env/registries.ts';
import { mapBounded } from './bounded.ts';

export const PUSH_USER_AGENT = 'scale-bench-push';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

export interface PushedTag {
  /** Repository path, e.g. "scale/app-3". */
  readonly repository: string;
  readonly tag: string;
  readonly digest: string;
}

const sha256 = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

const call = async (
  url: string,
  init: { method: string; body?: Buffer; contentType?: string },
  expected: readonly number[],
): Promise<Response> => {
  const headers: Record<string, string> = { 'user-agent': PUSH_USER_AGENT };
  if (init.contentType) headers['content-type'] = init.contentType;
  const res = await fetch(url, { method: init.method, headers, ...(init.body ? { body: init.body } : {}) });
  if (!expected.includes(res.status))
    throw new Error(`${init.method} ${url}: ${res.status} ${await res.text().catch(() => '')}`);
  return res;
};

/** A blob into a repository: a cross-repository mount when `from` holds it, else a two-step upload. */
const putBlob = async (base: string, repository: string, data: Buffer, from?: string): Promise<void> => {
  const digest = sha256(data);
  const mount = from ? `?mount=${digest}&from=${from}` : '';
  const started = await call(
    `${base}/v2/${repository}/blobs/uploads/${mount}`,
    { method: 'POST' },
    [201, 202],
  );
  await started.arrayBuffer();
  if (started.status === 201) return;
  const location = started.headers.get('location');
  if (!location) throw new Error(`no upload location for ${repository}`);
  const url = new URL(location, base);
  url.searchParams.set('digest', digest);
  const put = await call(
    url.toString(),
    { method: 'PUT', body: data, contentType: 'application/octet-stream' },
    [201],
  );
  await put.arrayBuffer();
};

/** The layer: a tar+gzip of one harmless manifest, made by the system tar as `flux push artifact` would. */
const fluxLayer = async (workDir: string): Promise<Buffer> => {
  const content = join(workDir, 'content');
  await mkdir(content, { recursive: true });
  await writeFile(
    join(content, 'configmap.yaml'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: scale\ndata:\n  key: value\n',
  );
  const archive = join(workDir, 'artifact.tgz');
  await promisify(execFile)('tar', ['-czf', archive, '-C', content, '.']);
  return readFile(archive);
};

/**
 * Pushes `count` tags (`t<i>`) spread over repositories of `tagsPerRepo` tags each (`scale/app-<r>`), with
 * `concurrency` requests in flight. Returns the tags in order, tag i at index i.
 */
export const pushTags = async (
  registry: RegistryEndpoint,
  workDir: string,
  count: number,
  tagsPerRepo: number,
  concurrency = 16,
): Promise<PushedTag[]> => {
  if (!registry.plainHttp) throw new Error('pushTags speaks plain HTTP only');
  const base = `http://${registry.host}`;
  const config = Buffer.from('{}');
  const layer = await fluxLayer(workDir);
  const repos = Array.from({ length: Math.ceil(count / tagsPerRepo) }, (_, r) => `scale/app-${r}`);
  const [first = 'scale/app-0', ...rest] = repos;
  await putBlob(base, first, config);
  await putBlob(base, first, layer);
  await mapBounded(rest, concurrency, async (repo) => {
    await putBlob(base, repo, config, first);
    await putBlob(base, repo, layer, first);
  });
  const indexes = Array.from({ length: count }, (_, i) => i);
  return mapBounded(indexes, concurrency, async (i) => {
    const repository = repos[Math.floor(i / tagsPerRepo)] ?? first;
    const tag = `t${i}`;
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: FLUX_CONFIG, digest: sha256(config), size: config.length },
        layers: [{ mediaType: FLUX_CONTENT, digest: sha256(layer), size: layer.length }],
        annotations: {
          'org.opencontainers.image.created': '2026-01-01T00:00:00Z',
          'org.opencontainers.image.source': `https://example.test/${repository}`,
          'org.opencontainers.image.revision': `${tag}@sha1:${createHash('sha1').update(tag).digest('hex')}`,
        },
      }),
    );
    const res = await call(
      `${base}/v2/${repository}/manifests/${tag}`,
      { method: 'PUT', body: manifest, contentType: OCI_MANIFEST },
      [201],
    );
    await res.arrayBuffer();
    const digest = sha256(manifest);
    const stored = res.headers.get('docker-content-digest');
    if (stored !== null && stored !== digest) throw new Error(`registry stored ${stored} for ${digest}`);
    return { repository, tag, digest };
  });
};
