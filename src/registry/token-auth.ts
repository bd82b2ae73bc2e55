// The auth dance of one transport: the Authorization a request carries (Basic, or a Bearer token cached per
// registry origin, scope and identity), answering a 401's challenge, and the token request to its realm.
// Credentials stay bound to the registry's origin: a 401 from another host gets none, a realm gets them
// only by auth.ts's rule. The HTTP of the token request is the transport's (TLS, deadlines, metrics).
import { RegistryError } from './errors.ts';
import { TokenCache, parseChallenge, parseTokenResponse, tokenRealm, type Challenge } from './auth.ts';
import type { Credential } from './credentials.ts';

/** One token request as it goes out; redirects are not followed. */
export interface TokenRequest {
  readonly method: 'GET' | 'POST';
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

/**
 * Sends a token request to `realm` and returns its JSON body; any answer but 200 is a RegistryError. The
 * transport supplies it, so the token server is reached with the registry's TLS settings and deadlines.
 */
export type TokenFetch = (
  registry: string,
  realm: URL,
  request: TokenRequest,
  signal: AbortSignal,
) => Promise<unknown>;

/** Where a 401 came from and what it asked for. */
export interface Unauthorized {
  /** The URL that answered 401, after any redirects. */
  readonly url: URL;
  readonly wwwAuthenticate: string | undefined;
}

export class TokenAuth {
  private readonly tokens: TokenCache;
  /** The last challenge of each registry origin (scheme://host:port). */
  private readonly challenges = new Map<string, Challenge>();
  private readonly userAgent: string;
  private readonly fetchToken: TokenFetch;

  constructor(options: { userAgent: string; fetchToken: TokenFetch; now: () => number }) {
    this.userAgent = options.userAgent;
    this.fetchToken = options.fetchToken;
    this.tokens = new TokenCache(options.now);
  }

  /** The Authorization the origin's last challenge calls for, if it is known without asking. */
  cached(origin: URL, scope: string, credential: Credential): string | undefined {
    const challenge = this.challenges.get(origin.origin);
    if (challenge?.scheme === 'basic') return basicAuthorization(credential);
    if (challenge?.scheme === 'bearer') {
      const token = this.tokens.get(tokenKey(origin, scope, credential));
      return token === undefined ? undefined : `Bearer ${token}`;
    }
    return undefined;
  }

  /**
   * Answers a 401 with the Authorization to retry with; undefined when the challenge offers nothing we
   * can answer. A 401 from another origin (reached by a redirect) is refused: its credentials are the
   * registry's, not that host's.
   */
  async answer(
    registry: string,
    origin: URL,
    unauthorized: Unauthorized,
    scope: string,
    credential: Credential,
    signal: AbortSignal,
  ): Promise<string | undefined> {
    if (unauthorized.url.origin !== origin.origin) {
      throw new RegistryError(
        'Unauthorized',
        `${registry}: ${unauthorized.url.host}, reached by a redirect, asks for authentication; no credentials are sent to another host`,
        { host: registry, status: 401 },
      );
    }
    const challenge = parseChallenge(unauthorized.wwwAuthenticate);
    if (!challenge) return undefined;
    this.challenges.set(origin.origin, challenge);
    return this.authorize(registry, origin, challenge, scope, credential, signal);
  }

  /** Drops the token that was refused, so the next request asks for a new one. */
  forget(origin: URL, scope: string, credential: Credential): void {
    this.tokens.delete(tokenKey(origin, scope, credential));
  }

  /** Answers a challenge of the registry's own origin (the caller has checked that). */
  private async authorize(
    registry: string,
    origin: URL,
    challenge: Challenge,
    scope: string,
    credential: Credential,
    signal: AbortSignal,
  ): Promise<string | undefined> {
    if (challenge.scheme === 'basic') return basicAuthorization(credential);
    const { url: realm, withCredentials } = tokenRealm(origin, challenge.realm, registry);
    const params = new URLSearchParams();
    if (challenge.service) params.set('service', challenge.service);
    params.set('scope', scope);
    const headers: Record<string, string> = { 'user-agent': this.userAgent };
    let request: TokenRequest;
    if (withCredentials && credential.kind === 'identity-token') {
      // OAuth2 refresh-token grant, as docker does with an identity token.
      params.set('grant_type', 'refresh_token');
      params.set('refresh_token', credential.token);
      params.set('client_id', this.userAgent);
      headers['content-type'] = 'application/x-www-form-urlencoded';
      request = { method: 'POST', headers, body: params.toString() };
    } else {
      const basic = withCredentials ? basicAuthorization(credential) : undefined;
      if (basic) headers.authorization = basic;
      for (const [k, v] of params) realm.searchParams.set(k, v);
      request = { method: 'GET', headers };
    }
    const parsed = parseTokenResponse(await this.fetchToken(registry, realm, request, signal), realm.host);
    // Kept under this identity even when asked for anonymously: it is what this identity sends there.
    this.tokens.set(tokenKey(origin, scope, credential), parsed);
    return `Bearer ${parsed.token}`;
  }
}

/** `origin` is the registry's scheme://host:port: a token is only ever sent back there. */
const tokenKey = (origin: URL, scope: string, credential: Credential): string => {
  const identity = credential.kind === 'anonymous' ? '' : `${credential.kind}:${credential.username}`;
  return TokenCache.key(origin.origin, scope, identity);
};

const basicAuthorization = (credential: Credential): string | undefined =>
  credential.kind === 'basic'
    ? `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`
    : undefined;
