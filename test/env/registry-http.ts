// Raw reads from a test registry, independent of tagguard's own registry client, so tests can assert
// what is really stored (manifests, referrers, tag-schema indexes).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, fetch } from 'undici';
import type { RegistryEndpoint } from './registries.ts';
import { MANIFEST_ACCEPT } from '../../src/registry/media-types.ts';

export interface RegistryResponse {
  status: number;
  contentType: string;
  body: Buffer;
  json<T = unknown>(): T;
}

const ACCEPT = MANIFEST_ACCEPT.join(', ');

export const registryGet = async (registry: RegistryEndpoint, path: string): Promise<RegistryResponse> => {
  const scheme = registry.plainHttp ? 'http' : 'https';
  const dispatcher = new Agent({ connect: registry.caFile ? { ca: readFileSync(registry.caFile) } : {} });
  const headers: Record<string, string> = { accept: ACCEPT };
  if (registry.username && registry.password) {
    headers.authorization = `Basic ${Buffer.from(`${registry.username}:${registry.password}`).toString('base64')}`;
  }
  try {
    const res = await fetch(`${scheme}://${registry.host}${path}`, { headers, dispatcher });
    const body = Buffer.from(await res.arrayBuffer());
    return {
      status: res.status,
      contentType: res.headers.get('content-type') ?? '',
      body,
      json: <T>() => JSON.parse(body.toString('utf8')) as T,
    };
  } finally {
    await dispatcher.close();
  }
};

export const sha256 = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/**
 * The referrers of `digest` as the registry exposes them: the OCI 1.1 referrers API where it exists,
 * otherwise the `sha256-<hex>` tag-schema index. `via` says which was used.
 */
export const listReferrers = async (
  registry: RegistryEndpoint,
  repo: string,
  digest: string,
): Promise<{ via: 'referrers-api' | 'tag-schema' | 'none'; manifests: Descriptor[] }> => {
  const api = await registryGet(registry, `/v2/${repo}/referrers/${digest}`);
  if (api.status === 200)
    return { via: 'referrers-api', manifests: api.json<{ manifests: Descriptor[] }>().manifests };
  const tag = await registryGet(registry, `/v2/${repo}/manifests/${digest.replace(':', '-')}`);
  if (tag.status === 200)
    return { via: 'tag-schema', manifests: tag.json<{ manifests: Descriptor[] }>().manifests };
  return { via: 'none', manifests: [] };
};
