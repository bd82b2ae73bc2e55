// Registry clients for the artifacts the controller watches, one per distinct (registry, TLS settings,
// credentials) so token caches and connection pools are shared between reconciles, and the tag → digest
// resolution (tag, semver constraint as Flux or Argo CD picks, or a fixed digest) behind the shared poller.
import { createHash } from 'node:crypto';
import { RegistryClient } from '../registry/client.ts';
import { RegistryTransport, type RegistryRequestEvent } from '../registry/transport.ts';
import { RateLimiter } from '../registry/rate-limiter.ts';
import {
  isDigest,
  registryIdentity,
  repositoryReference,
  type RepositoryReference,
} from '../registry/reference.ts';
import { pickSemverTag } from '../sources/tag-selection.ts';
import type { SemverRule } from '../sources/types.ts';
import type { Credential } from '../registry/credentials.ts';
import type { PollTarget, Resolution } from './digest-poller.ts';

/** One artifact to watch, with everything needed to reach it (credentials already read). */
export interface ArtifactAccess {
  /** An OCI artifact (a chart of an HTTP repository is a HelmChartAccess, helm-repositories.ts). */
  readonly kind?: 'oci';
  /** oci://host/repository, as the source wrote it: for messages, keys and status. */
  readonly url: string;
  /** The repository `url` names, parsed once where the source was read. */
  readonly reference: RepositoryReference;
  readonly tag?: string;
  readonly semver?: string;
  /** Whose rule picks the tag for `semver`; absent is Flux's. */
  readonly semverRule?: SemverRule;
  /** Flux `ref.semverFilter` (RE2, already checked to compile): tags it does not match are not candidates. */
  readonly semverFilter?: string;
  readonly digest?: string;
  readonly insecure: boolean;
  readonly caPem?: string;
  readonly credential: Credential;
  /** Identifies the credential without revealing it (a hash), for cache and poller keys. */
  readonly credentialId: string;
}

export const credentialId = (credential: Credential): string =>
  credential.kind === 'anonymous'
    ? 'anonymous'
    : createHash('sha256').update(JSON.stringify(credential)).digest('hex').slice(0, 16);

const semverKey = (access: ArtifactAccess): string | undefined =>
  access.semver !== undefined && access.semverRule !== undefined && access.semverRule !== 'flux'
    ? `${access.semver} (${access.semverRule})`
    : access.semver !== undefined && access.semverFilter !== undefined
      ? `${access.semver} (filter ${access.semverFilter})`
      : access.semver;

export const pollKey = (access: ArtifactAccess): string => {
  const semver = semverKey(access);
  return [
    access.url,
    // "semver:" keeps a constraint apart from a tag of the same text ("1.2.3"); a tag never holds a colon.
    access.digest ?? (semver !== undefined ? `semver:${semver}` : (access.tag ?? 'latest')),
    access.insecure ? 'http' : 'https',
    access.credentialId,
  ].join(' ');
};

/** The inverse of pollKey; undefined for a key it did not make. */
export const describePollKey = (key: string): PollTarget | undefined => {
  const parts = key.split(' ');
  const [url = '', scheme] = [parts[0], parts.at(-2)];
  if (parts.length < 4 || !/^oci:\/\//i.test(url) || (scheme !== 'http' && scheme !== 'https'))
    return undefined;
  const spec = parts.slice(1, -2).join(' ');
  let repository: RepositoryReference;
  try {
    repository = repositoryReference(url);
  } catch {
    return undefined;
  }
  const where = { registry: registryIdentity(repository.registry), repository: repository.repository };
  if (isDigest(spec)) return { ...where, kind: 'digest' };
  if (spec.startsWith('semver:')) return { ...where, kind: 'semver' };
  return { ...where, kind: 'tag', tag: spec };
};

export class RegistryAccess {
  private readonly clients = new Map<string, RegistryClient>();
  private readonly onRequest: (event: RegistryRequestEvent) => void;
  private readonly rateLimiter: RateLimiter | undefined;
  private readonly deadlines: { requestTimeoutMs?: number; operationTimeoutMs?: number };

  constructor(options: {
    onRequest: (event: RegistryRequestEvent) => void;
    requestsPerSecond: number;
    /** Per request attempt and per registry operation (--registry-request-timeout, --registry-operation-timeout). */
    requestTimeoutMs?: number;
    operationTimeoutMs?: number;
  }) {
    this.onRequest = options.onRequest;
    this.deadlines = {
      ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
      ...(options.operationTimeoutMs !== undefined ? { operationTimeoutMs: options.operationTimeoutMs } : {}),
    };
    this.rateLimiter =
      options.requestsPerSecond > 0 ? new RateLimiter({ perSecond: options.requestsPerSecond }) : undefined;
  }

  clientFor(access: ArtifactAccess): RegistryClient {
    const { registry } = access.reference;
    const key = [registry, access.insecure, access.caPem ?? '', access.credentialId].join('|');
    let client = this.clients.get(key);
    if (!client) {
      const transport = new RegistryTransport({
        credentials: new Map([[registry, access.credential]]),
        hostOptions: (host) =>
          host === registry
            ? { plainHttp: access.insecure, ...(access.caPem ? { caPem: access.caPem } : {}) }
            : {},
        onRequest: this.onRequest,
        ...this.deadlines,
        ...(this.rateLimiter ? { rateLimiter: this.rateLimiter } : {}),
      });
      client = new RegistryClient(transport);
      if (this.clients.size >= 256) {
        const [oldestKey, oldest] = this.clients.entries().next().value ?? [];
        if (oldestKey !== undefined) this.clients.delete(oldestKey);
        void oldest?.close();
      }
      this.clients.set(key, client);
    }
    return client;
  }

  /**
   * Resolves what the artifact names now: the digest, and for a semver constraint the tag chosen.
   * `client`: the artifact's, when the caller has looked it up already (the reconciler does, once).
   */
  async resolve(
    access: ArtifactAccess,
    client: RegistryClient = this.clientFor(access),
  ): Promise<Omit<Resolution, 'at'>> {
    const repository = access.reference;
    if (access.digest) {
      const resolved = await client.resolve({ ...repository, digest: access.digest });
      return { digest: resolved.digest, tag: undefined, mediaType: resolved.mediaType };
    }
    let tag = access.tag ?? 'latest';
    if (access.semver)
      tag = pickSemverTag(
        await client.listTags(repository),
        { ...access, semver: access.semver },
        access.url,
      );
    const resolved = await client.resolve({ ...repository, tag });
    return { digest: resolved.digest, tag, mediaType: resolved.mediaType };
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.close()));
    this.clients.clear();
  }
}
