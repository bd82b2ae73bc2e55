// Registry authentication data: WWW-Authenticate challenges (Bearer, Basic), the rule deciding where a
// token request may go and whether it carries the credentials, token responses, and a token cache keyed by
// the registry's origin (scheme, host, port), scope and credential identity that honours expires_in.
import { RegistryError } from './errors.ts';

export type Challenge =
  | { readonly scheme: 'basic'; readonly realm?: string }
  | { readonly scheme: 'bearer'; readonly realm: string; readonly service?: string; readonly scope?: string };

const PARAM = /([a-zA-Z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;

/** Parses a WWW-Authenticate header value; undefined when it offers no scheme we speak. */
export const parseChallenge = (header: string | undefined): Challenge | undefined => {
  if (!header) return undefined;
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const scheme = (match[1] ?? '').toLowerCase();
  const params: Record<string, string> = {};
  for (const [, name = '', quoted, bare] of (match[2] ?? '').matchAll(PARAM)) {
    params[name.toLowerCase()] = (quoted ?? bare ?? '').replace(/\\(.)/g, '$1');
  }
  if (scheme === 'basic') return { scheme: 'basic', ...(params.realm ? { realm: params.realm } : {}) };
  if (scheme !== 'bearer') return undefined;
  if (!params.realm) throw new RegistryError('InvalidResponse', 'Bearer challenge without a realm');
  return {
    scheme: 'bearer',
    realm: params.realm,
    ...(params.service ? { service: params.service } : {}),
    ...(params.scope ? { scope: params.scope } : {}),
  };
};

export interface TokenRealm {
  readonly url: URL;
  /** Whether the registry's credentials may go with the token request (else it is anonymous). */
  readonly withCredentials: boolean;
}

/**
 * Where a Bearer challenge's realm may be asked for a token. The challenge must already be known to come
 * from the registry's own origin (the transport refuses any other). Then:
 * - the realm is an http(s) URL without userinfo, else InvalidResponse;
 * - an HTTPS registry's realm must be HTTPS (any host: the registry names its token server over an
 *   authenticated channel, as docker, containerd and oras-go accept), else Unauthorized — no downgrade;
 * - a plain-HTTP registry (configured insecure) may name an HTTP or HTTPS realm, but the credentials go
 *   only to a realm on the registry's own host name; elsewhere the token is requested anonymously, since
 *   anyone on the path could have written that challenge.
 */
export const tokenRealm = (registryOrigin: URL, realm: string, registry: string): TokenRealm => {
  let url: URL;
  try {
    url = new URL(realm);
  } catch (cause) {
    throw new RegistryError('InvalidResponse', `${registry}: the token realm is not a URL`, {
      host: registry,
      cause,
    });
  }
  if (url.username !== '' || url.password !== '' || !['http:', 'https:'].includes(url.protocol)) {
    throw new RegistryError(
      'InvalidResponse',
      `${registry}: refusing token realm ${url.protocol}//${url.host}: not an http(s) URL without userinfo`,
      { host: registry },
    );
  }
  if (registryOrigin.protocol === 'https:') {
    if (url.protocol !== 'https:') {
      throw new RegistryError(
        'Unauthorized',
        `${registry}: refusing token realm ${url.origin} over plain HTTP for a registry on HTTPS`,
        { host: registry },
      );
    }
    return { url, withCredentials: true };
  }
  return { url, withCredentials: url.hostname === registryOrigin.hostname };
};

export interface TokenResponse {
  token: string;
  /** Lifetime in seconds. */
  expiresIn: number;
}

/** Distribution's token response: `token` or `access_token`, optional `expires_in` (default 60 s). */
export const parseTokenResponse = (body: unknown, realmHost: string): TokenResponse => {
  const record = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const token = typeof record.token === 'string' ? record.token : record.access_token;
  if (typeof token !== 'string' || token === '') {
    throw new RegistryError('InvalidResponse', `token endpoint ${realmHost} returned no token`, {
      host: realmHost,
    });
  }
  const expires = typeof record.expires_in === 'number' && record.expires_in > 0 ? record.expires_in : 60;
  return { token, expiresIn: expires };
};

/** The pull scope of a repository, as the token server expects it. */
export const pullScope = (repository: string): string => `repository:${repository}:pull`;

interface CachedToken {
  token: string;
  expiresAt: number;
}

/** Caches tokens until shortly before they expire. `now` is injected for tests. */
export class TokenCache {
  private readonly tokens = new Map<string, CachedToken>();
  private readonly now: () => number;
  private readonly maxEntries: number;

  constructor(now: () => number = Date.now, maxEntries = 1024) {
    this.now = now;
    this.maxEntries = maxEntries;
  }

  /** `origin` is the registry's scheme://host:port: a token is only ever sent back there. */
  static key(origin: string, scope: string, identity: string): string {
    return `${origin}\u0000${scope}\u0000${identity}`;
  }

  get(key: string): string | undefined {
    const cached = this.tokens.get(key);
    if (!cached) return undefined;
    if (cached.expiresAt <= this.now()) {
      this.tokens.delete(key);
      return undefined;
    }
    return cached.token;
  }

  set(key: string, response: TokenResponse): void {
    // Renew 10 s (or 10 %) early so a token never expires between the check and the request.
    const margin = Math.min(10, response.expiresIn * 0.1) * 1000;
    if (this.tokens.size >= this.maxEntries) {
      const oldest = this.tokens.keys().next().value;
      if (oldest !== undefined) this.tokens.delete(oldest);
    }
    this.tokens.set(key, {
      token: response.token,
      expiresAt: this.now() + response.expiresIn * 1000 - margin,
    });
  }

  delete(key: string): void {
    this.tokens.delete(key);
  }
}
