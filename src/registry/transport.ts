// HTTP to OCI registries on undici: per-registry TLS settings and concurrency limit, the auth dance
// (Basic, Bearer tokens cached per scope), bounded redirects that never carry credentials to another
// host or downgrade to plain HTTP, typed errors, and retries with backoff and jitter for transient
// failures (honouring Retry-After). Knows HTTP and OCI, nothing of Kubernetes.
import { Agent, request, type Dispatcher } from 'undici';
import { RegistryError, type RegistryErrorCode } from './errors.ts';
import { TokenCache, parseChallenge, parseTokenResponse, type Challenge } from './auth.ts';
import { credentialFor, type Credential, type CredentialStore } from './credentials.ts';
import { apiHost } from './reference.ts';
import { Semaphore } from './semaphore.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { discardBody, readCapped } from './response-body.ts';

export interface RegistryHostOptions {
  /** Speak plain HTTP (lab and test registries), as Flux's spec.insecure. */
  readonly plainHttp?: boolean;
  /** PEM of a private CA that signs the registry's certificate. */
  readonly caPem?: string;
}

export interface RegistryRequestEvent {
  registry: string;
  method: string;
  /** HTTP status, or the error code when no answer came. */
  code: string;
  durationMs: number;
}

export interface TransportConfig {
  readonly credentials: CredentialStore;
  readonly hostOptions: (registry: string) => RegistryHostOptions;
  readonly maxConcurrencyPerRegistry: number;
  readonly maxRetries: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** A Retry-After longer than this is not waited for; the error is returned instead. */
  readonly maxRetryAfterMs: number;
  readonly timeoutMs: number;
  readonly maxRedirects: number;
  readonly userAgent: string;
  /** Requests per second per registry, shared between transports (none: unlimited). */
  readonly rateLimiter?: RateLimiter;
  readonly onRequest?: (event: RegistryRequestEvent) => void;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly now?: () => number;
}

export const defaultTransportConfig: TransportConfig = {
  credentials: new Map(),
  hostOptions: () => ({}),
  maxConcurrencyPerRegistry: 16,
  maxRetries: 3,
  retryBaseMs: 250,
  retryMaxMs: 10_000,
  maxRetryAfterMs: 60_000,
  timeoutMs: 30_000,
  maxRedirects: 5,
  userAgent: 'tagguard',
};

export type HttpMethod = 'GET' | 'HEAD' | 'POST';

export interface RegistryRequest {
  readonly registry: string;
  readonly method: 'GET' | 'HEAD';
  /** Path and query below the registry root, e.g. "/v2/charts/payment/manifests/3.1.0". */
  readonly path: string;
  readonly accept?: readonly string[];
  /** Token scope, e.g. "repository:charts/payment:pull". */
  readonly scope: string;
}

export interface RegistryResponse {
  readonly status: number;
  readonly url: URL;
  header(name: string): string | undefined;
  readonly body: Dispatcher.ResponseData['body'];
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);
const TLS_CODE = /^(CERT_|ERR_TLS|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_SSL)/;

/** Maps a network-level failure to a typed error. */
export const networkError = (error: unknown, host: string): RegistryError => {
  if (error instanceof RegistryError) return error;
  const code = (error as { code?: string }).code ?? '';
  const message = error instanceof Error ? error.message : String(error);
  let kind: RegistryErrorCode = 'ConnectionFailed';
  if (TIMEOUT_CODES.has(code) || (error as { name?: string }).name === 'TimeoutError') kind = 'Timeout';
  else if (TLS_CODE.test(code)) kind = 'TlsFailure';
  return new RegistryError(
    kind,
    `${host}: ${kind === 'TlsFailure' ? 'TLS verification failed' : 'request failed'} (${code || message})`,
    {
      host,
      cause: error,
    },
  );
};

/** Parses Retry-After (seconds or an HTTP date) into milliseconds. */
export const parseRetryAfter = (value: string | undefined, now: number): number | undefined => {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
};

const statusError = (
  status: number,
  host: string,
  path: string,
  retryAfterMs: number | undefined,
): RegistryError => {
  const where = `${host}${path.split('?')[0] ?? ''}`;
  const details = { host, status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  if (status === 404) return new RegistryError('NotFound', `${where}: not found`, details);
  if (status === 401) return new RegistryError('Unauthorized', `${where}: authentication failed`, details);
  if (status === 403) return new RegistryError('Denied', `${where}: access denied`, details);
  if (status === 429) return new RegistryError('RateLimited', `${where}: rate limited (429)`, details);
  if (status >= 500) return new RegistryError('Unavailable', `${where}: registry error ${status}`, details);
  return new RegistryError('InvalidResponse', `${where}: unexpected HTTP ${status}`, details);
};

const headerOf =
  (headers: Dispatcher.ResponseData['headers']) =>
  (name: string): string | undefined => {
    const value = headers[name.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  };

export class RegistryTransport {
  private readonly config: TransportConfig;
  private readonly tokens: TokenCache;
  private readonly challenges = new Map<string, Challenge>();
  private readonly semaphores = new Map<string, Semaphore>();
  private readonly agents = new Map<string, Agent>();
  private readonly defaultAgent: Agent;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(config: Partial<TransportConfig> = {}) {
    this.config = { ...defaultTransportConfig, ...config };
    this.now = this.config.now ?? Date.now;
    this.sleep = this.config.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = this.config.random ?? Math.random;
    this.tokens = new TokenCache(this.now);
    this.defaultAgent = this.newAgent(undefined);
  }

  async close(): Promise<void> {
    await Promise.all([...this.agents.values(), this.defaultAgent].map((a) => a.close()));
  }

  /**
   * Sends a request and hands the response to `consume`, retrying the whole exchange (request and body)
   * on transient failures. `consume` must read or dump the body.
   */
  async exchange<T>(req: RegistryRequest, consume: (res: RegistryResponse) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await this.send(req);
        try {
          return await consume(res);
        } catch (error) {
          discardBody(res.body);
          throw networkError(error, req.registry);
        }
      } catch (error) {
        const typed = networkError(error, req.registry);
        const delay = this.retryDelay(typed, attempt);
        if (delay === undefined) throw typed;
        await this.sleep(delay);
      }
    }
  }

  private retryDelay(error: RegistryError, attempt: number): number | undefined {
    if (!error.transient || attempt >= this.config.maxRetries) return undefined;
    if (error.retryAfterMs !== undefined) {
      return error.retryAfterMs <= this.config.maxRetryAfterMs ? error.retryAfterMs : undefined;
    }
    // Exponential backoff with full jitter.
    const cap = Math.min(this.config.retryMaxMs, this.config.retryBaseMs * 2 ** attempt);
    return Math.round(cap / 2 + (this.random() * cap) / 2);
  }

  private semaphore(registry: string): Semaphore {
    let semaphore = this.semaphores.get(registry);
    if (!semaphore) {
      semaphore = new Semaphore(this.config.maxConcurrencyPerRegistry);
      this.semaphores.set(registry, semaphore);
    }
    return semaphore;
  }

  private async send(req: RegistryRequest): Promise<RegistryResponse> {
    const release = await this.semaphore(req.registry).acquire();
    try {
      await this.config.rateLimiter?.acquire(req.registry);
      const credential = credentialFor(this.config.credentials, req.registry);
      let authorization = this.cachedAuthorization(req.registry, req.scope, credential);
      let res = await this.follow(req, authorization);
      if (res.status === 401) {
        const challenge = parseChallenge(res.header('www-authenticate'));
        await res.body.dump();
        if (challenge) this.challenges.set(req.registry, challenge);
        authorization = challenge
          ? await this.authorize(req.registry, challenge, req.scope, credential)
          : undefined;
        if (authorization === undefined) throw statusError(401, req.registry, req.path, undefined);
        res = await this.follow(req, authorization);
      }
      if (res.status >= 200 && res.status < 300) return res;
      await res.body.dump();
      if (res.status === 401) this.tokens.delete(this.tokenKey(req.registry, req.scope, credential));
      throw statusError(
        res.status,
        req.registry,
        req.path,
        parseRetryAfter(res.header('retry-after'), this.now()),
      );
    } finally {
      release();
    }
  }

  private baseUrl(registry: string): URL {
    const scheme = this.config.hostOptions(registry).plainHttp ? 'http' : 'https';
    return new URL(`${scheme}://${apiHost(registry)}`);
  }

  /** Sends one request, following redirects; credentials stay with the registry's own host. */
  private async follow(req: RegistryRequest, authorization: string | undefined): Promise<RegistryResponse> {
    const origin = this.baseUrl(req.registry);
    let url = new URL(req.path, origin);
    // A pagination Link may be absolute: credentials go only to the registry's own host.
    let sameHost = url.host === origin.host;
    for (let hop = 0; hop <= this.config.maxRedirects; hop++) {
      const headers: Record<string, string> = { 'user-agent': this.config.userAgent };
      if (req.accept) headers.accept = req.accept.join(', ');
      if (authorization !== undefined && sameHost) headers.authorization = authorization;
      const res = await this.timed(req.registry, req.method, () =>
        request(url, {
          method: req.method,
          headers,
          dispatcher: this.agentFor(req.registry, url),
          // Over HTTP/1.1 undici closes the connection after every HEAD unless told otherwise (a guard
          // against servers that send a body with it), so each resolution would open a new connection.
          // Registries answer HEAD correctly; a stray body breaks only that connection (retried).
          ...(req.method === 'HEAD' ? { reset: false } : {}),
        }),
      );
      const header = headerOf(res.headers);
      const location = header('location');
      if (!REDIRECTS.has(res.statusCode) || location === undefined) {
        return { status: res.statusCode, url, header, body: res.body };
      }
      await res.body.dump();
      const next = new URL(location, url);
      if (next.protocol !== 'https:' && !(next.protocol === 'http:' && url.protocol === 'http:')) {
        throw new RegistryError(
          'InvalidResponse',
          `${req.registry}: refusing redirect from ${url.protocol} to ${next.protocol}`,
          {
            host: req.registry,
          },
        );
      }
      if (next.host !== origin.host) sameHost = false;
      url = next;
    }
    throw new RegistryError(
      'InvalidResponse',
      `${req.registry}: more than ${this.config.maxRedirects} redirects`,
      {
        host: req.registry,
      },
    );
  }

  private async timed(
    registry: string,
    method: string,
    send: () => Promise<Dispatcher.ResponseData>,
  ): Promise<Dispatcher.ResponseData> {
    const started = performance.now();
    try {
      const res = await send();
      this.config.onRequest?.({
        registry,
        method,
        code: String(res.statusCode),
        durationMs: performance.now() - started,
      });
      return res;
    } catch (error) {
      const typed = networkError(error, registry);
      this.config.onRequest?.({
        registry,
        method,
        code: typed.code,
        durationMs: performance.now() - started,
      });
      throw typed;
    }
  }

  private agentFor(registry: string, url: URL): Agent {
    return url.host === apiHost(registry) ? this.registryAgent(registry) : this.defaultAgent;
  }

  /** The agent with the registry's TLS settings (its private CA). */
  private registryAgent(registry: string): Agent {
    let agent = this.agents.get(registry);
    if (!agent) {
      agent = this.newAgent(this.config.hostOptions(registry).caPem);
      this.agents.set(registry, agent);
    }
    return agent;
  }

  private newAgent(caPem: string | undefined): Agent {
    return new Agent({
      connect: { timeout: this.config.timeoutMs, ...(caPem ? { ca: caPem } : {}) },
      headersTimeout: this.config.timeoutMs,
      bodyTimeout: this.config.timeoutMs,
      connections: this.config.maxConcurrencyPerRegistry,
    });
  }

  private tokenKey(registry: string, scope: string, credential: Credential): string {
    const identity = credential.kind === 'anonymous' ? '' : `${credential.kind}:${credential.username}`;
    return TokenCache.key(registry, scope, identity);
  }

  private cachedAuthorization(registry: string, scope: string, credential: Credential): string | undefined {
    const challenge = this.challenges.get(registry);
    if (challenge?.scheme === 'basic') return basicAuthorization(credential);
    if (challenge?.scheme === 'bearer') {
      const token = this.tokens.get(this.tokenKey(registry, scope, credential));
      return token === undefined ? undefined : `Bearer ${token}`;
    }
    return undefined;
  }

  private async authorize(
    registry: string,
    challenge: Challenge,
    scope: string,
    credential: Credential,
  ): Promise<string | undefined> {
    if (challenge.scheme === 'basic') return basicAuthorization(credential);
    const realm = new URL(challenge.realm);
    const registryHost = apiHost(registry);
    if (realm.protocol !== 'https:' && !(realm.protocol === 'http:' && realm.host === registryHost)) {
      throw new RegistryError(
        'Unauthorized',
        `${registry}: refusing token realm ${realm.origin} over plain HTTP on another host`,
        {
          host: registry,
        },
      );
    }
    const params = new URLSearchParams();
    if (challenge.service) params.set('service', challenge.service);
    params.set('scope', scope);
    const headers: Record<string, string> = { 'user-agent': this.config.userAgent };
    let method: HttpMethod = 'GET';
    let body: string | undefined;
    if (credential.kind === 'identity-token') {
      // OAuth2 refresh-token grant, as docker does with an identity token.
      method = 'POST';
      params.set('grant_type', 'refresh_token');
      params.set('refresh_token', credential.token);
      params.set('client_id', this.config.userAgent);
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = params.toString();
    } else {
      const basic = basicAuthorization(credential);
      if (basic) headers.authorization = basic;
      for (const [k, v] of params) realm.searchParams.set(k, v);
    }
    // The token server is part of the registry's deployment (often another host name signed by the same
    // private CA), so it is reached with the registry's TLS settings, as Flux and docker do.
    const agent = this.registryAgent(registry);
    const res = await this.timed(registry, method, () =>
      request(realm, { method, headers, ...(body !== undefined ? { body } : {}), dispatcher: agent }),
    );
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw statusError(res.statusCode === 404 ? 502 : res.statusCode, realm.host, realm.pathname, undefined);
    }
    const parsed = parseTokenResponse(await readJson(res.body, 1024 * 1024, realm.host), realm.host);
    this.tokens.set(this.tokenKey(registry, scope, credential), parsed);
    return `Bearer ${parsed.token}`;
  }
}

const basicAuthorization = (credential: Credential): string | undefined =>
  credential.kind === 'basic'
    ? `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`
    : undefined;

/** Reads a small JSON body with a size cap. */
export const readJson = async (
  body: Dispatcher.ResponseData['body'],
  maxBytes: number,
  host: string,
): Promise<unknown> => {
  const bytes = await readCapped(
    body,
    maxBytes,
    () => new RegistryError('TooLarge', `${host}: response larger than ${maxBytes} bytes`, { host }),
  );
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (cause) {
    throw new RegistryError('InvalidResponse', `${host}: response is not valid JSON`, { host, cause });
  }
};
