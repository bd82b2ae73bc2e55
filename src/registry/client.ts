// The registry client everything in tagguard reads through: tag → digest resolution (one HEAD, GET
// fallback), manifests and blobs by digest (re-hashed and size-capped while streaming), referrers (OCI 1.1
// API with the sha256-<hex> tag-schema fallback) and tag listing. Identical in-flight reads are coalesced.
// Each call is one operation under the operation deadline; `operation()` groups several calls (a manifest
// and its blobs, a whole signature lookup) under one.
import { RegistryError } from './errors.ts';
import { algorithmOf, createDigester } from './digest.ts';
import { MANIFEST_ACCEPT, OCI_INDEX } from './media-types.ts';
import { parseManifest, type Descriptor, type Manifest } from './manifest.ts';
import { pullScope } from './auth.ts';
import { formatReference, isDigest, type OciReference } from './reference.ts';
import type { RegistryTransport } from './transport.ts';
import { readJson, type RegistryResponse } from './transport.ts';
import { discardBody } from './response-body.ts';

export interface RegistryClientLimits {
  /** Largest manifest or index read (default 4 MiB). */
  readonly maxManifestBytes: number;
  /** Largest blob read when the descriptor gives no smaller size (default 64 MiB). */
  readonly maxBlobBytes: number;
  /** Most tags listed for one repository (default 10 000). */
  readonly maxTags: number;
  /** Most referrers pages followed (default 20). */
  readonly maxReferrerPages: number;
  /** Tags asked for per page of the tag list (default 1000). */
  readonly tagsPageSize: number;
}

const defaultLimits: RegistryClientLimits = {
  maxManifestBytes: 4 * 1024 * 1024,
  maxBlobBytes: 64 * 1024 * 1024,
  maxTags: 10_000,
  maxReferrerPages: 20,
  tagsPageSize: 1000,
};

export interface ResolvedReference {
  readonly reference: OciReference;
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number | undefined;
}

export interface FetchedManifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly bytes: Buffer;
  readonly manifest: Manifest;
}

export interface Referrers {
  /** How they were found: the referrers API or the tag-schema index. */
  readonly via: 'referrers-api' | 'tag-schema';
  readonly manifests: readonly Descriptor[];
}

const tagSchemaTag = (digest: string): string => digest.replace(':', '-');

const parseLinkNext = (link: string | undefined): string | undefined => {
  const match = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null;
  return match?.[1];
};

/** Reads a body up to `max` bytes, hashing it; fails with TooLarge or DigestMismatch. */
const readVerified = async (
  res: RegistryResponse,
  expected: string | undefined,
  max: number,
  where: string,
  registry: string,
): Promise<{ bytes: Buffer; digest: string }> => {
  const declared = Number(res.header('content-length'));
  if (Number.isFinite(declared) && declared > max) {
    throw new RegistryError('TooLarge', `${where}: ${declared} bytes is more than the limit of ${max}`, {
      host: registry,
    });
  }
  const digester = createDigester(expected ? algorithmOf(expected) : 'sha256');
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > max) {
      discardBody(res.body);
      throw new RegistryError('TooLarge', `${where}: more than the limit of ${max} bytes`, {
        host: registry,
      });
    }
    digester.update(chunk);
    chunks.push(chunk);
  }
  const digest = digester.digest();
  if (expected !== undefined && digest !== expected) {
    throw new RegistryError('DigestMismatch', `${where}: content hashes to ${digest}, not ${expected}`, {
      host: registry,
    });
  }
  return { bytes: Buffer.concat(chunks, total), digest };
};

export class RegistryClient {
  private readonly transport: RegistryTransport;
  private readonly limits: RegistryClientLimits;
  private readonly inFlight = new Map<string, Promise<unknown>>();

  constructor(transport: RegistryTransport, limits: Partial<RegistryClientLimits> = {}) {
    this.transport = transport;
    this.limits = { ...defaultLimits, ...limits };
  }

  close(): Promise<void> {
    return this.transport.close();
  }

  /**
   * Runs `work` (calls of this client) as one operation on `registry` under one operation deadline, e.g.
   * `client.operation(ref.registry, 'signature lookup', async () => …)`. `what` names it in a Timeout.
   */
  operation<T>(registry: string, what: string, work: () => Promise<T>): Promise<T> {
    return this.transport.operation(registry, what, work);
  }

  private coalesce<T>(key: string, run: () => Promise<T>): Promise<T> {
    const existing = this.inFlight.get(key);
    if (existing) return existing as Promise<T>;
    const promise = run().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, promise);
    return promise;
  }

  /**
   * Resolves a reference to its digest with one HEAD; falls back to GET (hashing the body) when the
   * registry gives no usable Docker-Content-Digest. A reference that carries a digest resolves to it.
   */
  resolve(ref: OciReference): Promise<ResolvedReference> {
    const target = ref.digest ?? ref.tag;
    if (target === undefined)
      throw new RegistryError('InvalidReference', `${formatReference(ref)} has no tag or digest`);
    return this.operation(ref.registry, `resolve ${formatReference(ref)}`, () =>
      this.coalesce(`resolve ${ref.registry}/${ref.repository}:${target}`, () =>
        this.resolveNow(ref, target),
      ),
    );
  }

  private async resolveNow(ref: OciReference, target: string): Promise<ResolvedReference> {
    const path = `/v2/${ref.repository}/manifests/${target}`;
    const request = {
      registry: ref.registry,
      path,
      accept: MANIFEST_ACCEPT,
      scope: pullScope(ref.repository),
    };
    const head = await this.transport
      .exchange({ ...request, method: 'HEAD' }, async (res) => {
        await res.body.dump();
        const digest = res.header('docker-content-digest');
        const length = Number(res.header('content-length'));
        return {
          digest: digest !== undefined && isDigest(digest) ? digest : undefined,
          mediaType: res.header('content-type')?.split(';')[0]?.trim() ?? '',
          size: Number.isSafeInteger(length) ? length : undefined,
        };
      })
      .catch((error: unknown) => {
        // Some registries (and proxies) refuse HEAD on manifests; GET below still works.
        if (error instanceof RegistryError && (error.status === 405 || error.status === 501))
          return undefined;
        throw error;
      });
    if (head?.digest !== undefined && (ref.digest === undefined || head.digest === ref.digest)) {
      return { reference: ref, digest: head.digest, mediaType: head.mediaType, size: head.size };
    }
    const fetched = await this.getManifest(ref, ref.digest);
    return {
      reference: ref,
      digest: fetched.digest,
      mediaType: fetched.mediaType,
      size: fetched.bytes.length,
    };
  }

  /** A manifest by digest (verified) or, without one, by tag (hashed to learn its digest). */
  getManifest(
    ref: Pick<OciReference, 'registry' | 'repository' | 'tag'>,
    digest?: string,
  ): Promise<FetchedManifest> {
    const target = digest ?? ref.tag ?? 'latest';
    const where = `${ref.registry}/${ref.repository}@${target}`;
    return this.operation(ref.registry, `manifest ${where}`, () =>
      this.coalesce(`manifest ${where}`, () =>
        this.transport.exchange(
          {
            registry: ref.registry,
            method: 'GET',
            path: `/v2/${ref.repository}/manifests/${target}`,
            accept: MANIFEST_ACCEPT,
            scope: pullScope(ref.repository),
          },
          async (res) => {
            const { bytes, digest: actual } = await readVerified(
              res,
              digest,
              this.limits.maxManifestBytes,
              where,
              ref.registry,
            );
            const manifest = parseManifest(bytes, res.header('content-type'), where);
            return { digest: actual, mediaType: manifest.mediaType, bytes, manifest };
          },
        ),
      ),
    );
  }

  /** A blob by digest, verified and capped at the descriptor's size (or the blob limit). */
  getBlob(
    ref: Pick<OciReference, 'registry' | 'repository'>,
    descriptor: Pick<Descriptor, 'digest' | 'size'>,
  ): Promise<Buffer> {
    if (descriptor.size > this.limits.maxBlobBytes) {
      return Promise.reject(
        new RegistryError(
          'TooLarge',
          `blob ${descriptor.digest} of ${descriptor.size} bytes exceeds the limit of ${this.limits.maxBlobBytes}`,
          {
            host: ref.registry,
          },
        ),
      );
    }
    return this.operation(ref.registry, `blob ${ref.registry}/${ref.repository}@${descriptor.digest}`, () =>
      this.blobNow(ref, descriptor),
    );
  }

  private blobNow(
    ref: Pick<OciReference, 'registry' | 'repository'>,
    descriptor: Pick<Descriptor, 'digest' | 'size'>,
  ): Promise<Buffer> {
    return this.transport.exchange(
      {
        registry: ref.registry,
        method: 'GET',
        path: `/v2/${ref.repository}/blobs/${descriptor.digest}`,
        scope: pullScope(ref.repository),
      },
      async (res) => {
        const where = `${ref.registry}/${ref.repository}@${descriptor.digest}`;
        const { bytes } = await readVerified(res, descriptor.digest, descriptor.size, where, ref.registry);
        if (bytes.length !== descriptor.size) {
          throw new RegistryError(
            'DigestMismatch',
            `${where}: ${bytes.length} bytes, descriptor says ${descriptor.size}`,
            {
              host: ref.registry,
            },
          );
        }
        return bytes;
      },
    );
  }

  /**
   * Referrers of a digest, optionally of one artifactType: the OCI 1.1 referrers API (paginated, filtered
   * here when the registry did not apply the filter), or on 404 the `sha256-<hex>` tag-schema index.
   */
  listReferrers(
    ref: Pick<OciReference, 'registry' | 'repository'>,
    digest: string,
    artifactType?: string,
  ): Promise<Referrers> {
    return this.operation(ref.registry, `referrers of ${ref.registry}/${ref.repository}@${digest}`, () =>
      this.referrersNow(ref, digest, artifactType),
    );
  }

  private async referrersNow(
    ref: Pick<OciReference, 'registry' | 'repository'>,
    digest: string,
    artifactType: string | undefined,
  ): Promise<Referrers> {
    const scope = pullScope(ref.repository);
    const keep = (d: Descriptor): boolean => artifactType === undefined || d.artifactType === artifactType;
    const manifests: Descriptor[] = [];
    let path: string | undefined =
      `/v2/${ref.repository}/referrers/${digest}${artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : ''}`;
    try {
      for (let page = 0; path !== undefined; page++) {
        if (page >= this.limits.maxReferrerPages) {
          throw new RegistryError(
            'TooLarge',
            `${ref.registry}: more than ${this.limits.maxReferrerPages} pages of referrers`,
            {
              host: ref.registry,
            },
          );
        }
        const current: string = path;
        const result = await this.transport.exchange(
          { registry: ref.registry, method: 'GET', path: current, accept: [OCI_INDEX], scope },
          async (res) => {
            const where = `${ref.registry}/${ref.repository} referrers of ${digest}`;
            const { bytes } = await readVerified(
              res,
              undefined,
              this.limits.maxManifestBytes,
              where,
              ref.registry,
            );
            const index = parseManifest(bytes, res.header('content-type'), where);
            if (index.kind !== 'index')
              throw new RegistryError('InvalidResponse', `${where}: not an image index`);
            return { index, next: parseLinkNext(res.header('link')) };
          },
        );
        manifests.push(...result.index.manifests.filter(keep));
        path = result.next;
      }
      return { via: 'referrers-api', manifests };
    } catch (error) {
      if (!(error instanceof RegistryError) || error.code !== 'NotFound') throw error;
    }
    try {
      const fallback = await this.getManifest({ ...ref, tag: tagSchemaTag(digest) });
      if (fallback.manifest.kind !== 'index') return { via: 'tag-schema', manifests: [] };
      return { via: 'tag-schema', manifests: fallback.manifest.manifests.filter(keep) };
    } catch (error) {
      if (error instanceof RegistryError && error.code === 'NotFound')
        return { via: 'tag-schema', manifests: [] };
      throw error;
    }
  }

  /** Every tag of a repository, following pagination, up to the tag limit. */
  listTags(ref: Pick<OciReference, 'registry' | 'repository'>): Promise<string[]> {
    return this.operation(ref.registry, `tag list of ${ref.registry}/${ref.repository}`, () =>
      this.tagsNow(ref),
    );
  }

  private async tagsNow(ref: Pick<OciReference, 'registry' | 'repository'>): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = `/v2/${ref.repository}/tags/list?n=${this.limits.tagsPageSize}`;
    while (path !== undefined) {
      const current: string = path;
      const page = await this.transport.exchange(
        { registry: ref.registry, method: 'GET', path: current, scope: pullScope(ref.repository) },
        async (res) => ({
          body: await readJson(res.body, this.limits.maxManifestBytes, ref.registry),
          next: parseLinkNext(res.header('link')),
        }),
      );
      const list = (page.body as { tags?: unknown }).tags;
      if (
        list !== null &&
        list !== undefined &&
        (!Array.isArray(list) || list.some((t) => typeof t !== 'string'))
      ) {
        throw new RegistryError(
          'InvalidResponse',
          `${ref.registry}/${ref.repository}: tags list is malformed`,
          { host: ref.registry },
        );
      }
      tags.push(...((list as string[] | null | undefined) ?? []));
      if (tags.length > this.limits.maxTags) {
        throw new RegistryError(
          'TooLarge',
          `${ref.registry}/${ref.repository}: more than ${this.limits.maxTags} tags`,
          {
            host: ref.registry,
          },
        );
      }
      path = page.next;
    }
    return tags;
  }
}
