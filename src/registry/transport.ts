// HTTP to OCI registries on undici: per-registry TLS settings and concurrency limit, bounded redirects,
// typed errors, retries with backoff and jitter for transient failures (honouring Retry-After), and
// deadlines per request and per operation besides undici's idle timeouts. Credentials are bound to the
// registry's origin (scheme, host, port) at every hop: a redirect elsewhere carries none; answering a
// challenge is token-auth.ts's. Knows HTTP and OCI, nothing of Kubernetes.
import { isBackground } from './request-priority.ts';
import { rootCertificates } from 'node:tls';
import { Agent, request, type Dispatcher } from 'undici';
import { RegistryError, type RegistryErrorCode } from './errors.ts';
import { TokenAuth, type TokenRequest } from './token-auth.ts';
import { currentDeadline, deadlineError, untilAborted, withDeadline } from './deadline.ts';
import { credentialFor, type CredentialStore } from './credentials.ts';
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
  /** Idle timeouts: connecting, waiting for headers, and any pause in a body. */
  readonly timeoutMs: number;
  /** Overall deadline of one attempt of one request: its redirects, token request and whole body. */
  readonly requestTimeoutMs: number;
  /** Overall deadline of one operation (a resolve, a fetch, a listing), retries and waits included. */
  readonly operationTimeoutMs: number;
  readonly maxRedirects: number;
  readonly userAgent: string;
  /** Requests per second per registry, shared between transports (none: unlimited). */
  readonly rateLimiter?: RateLimiter;
  readonly onRequest?: (event: RegistryRequestEvent) => void;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly now?: () => number;
}

const defaultTransportConfig: TransportConfig = {
  credentials: new Map(),
  hostOptions: () => ({}),
  maxConcurrencyPerRegistry: 16,
  maxRetries: 3,
  retryBaseMs: 250,
  retryMaxMs: 10_000,
  maxRetryAfterMs: 60_000,
  timeoutMs: 30_000,
  requestTimeoutMs: 30_000,
  operationTimeoutMs: 120_000,
  maxRedirects: 5,
  userAgent: 'tagguard',
};

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

/** Bytes of an unwanted body (a redirect, a 401) read to keep the connection; past that it is closed. */
const DUMP_LIMIT = 128 * 1024;

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
    { host, cause: error, ...(kind === 'Timeout' ? { deadline: 'idle' as const } : {}) },
  );
};

/** Parses Retry-After (seconds or an HTTP date) into milliseconds. */
export const parseRetryAfter = (value: string | undefined, now: number): number | undefined => {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
};

export const statusError = (
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
  private readonly auth: TokenAuth;
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
    this.auth = new TokenAuth({
      userAgent: this.config.userAgent,
      now: this.now,
      fetchToken: (registry, realm, request, signal) => this.fetchToken(registry, realm, request, signal),
    });
    this.defaultAgent = this.newAgent(undefined);
  }

  async close(): Promise<void> {
    await Promise.all([...this.agents.values(), this.defaultAgent].map((a) => a.close()));
  }

  /**
   * Runs `work` as one operation on `host` under the operation deadline (nested operations keep the
   * earliest). `what` names it in the Timeout error, e.g. "resolve ghcr.io/acme/app:1.0".
   */
  operation<T>(host: string, what: string, work: () => Promise<T>): Promise<T> {
    const ms = this.config.operationTimeoutMs;
    return withDeadline(ms, () => deadlineError('operation', host, what, ms), work);
  }

  /**
   * Sends a request and hands the response to `consume`, retrying the whole exchange (request and body)
   * on transient failures. `consume` must read or dump the body. Outside an operation it is one.
   */
  async exchange<T>(req: RegistryRequest, consume: (res: RegistryResponse) => Promise<T>): Promise<T> {
    const operation = currentDeadline();
    if (!operation) {
      return this.operation(req.registry, `${req.method} ${pathOf(req.path)}`, () =>
        this.exchange(req, consume),
      );
    }
    for (let attempt = 0; ; attempt++) {
      const attemptTimeout = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      try {
        const background = isBackground();
        const release = await this.semaphore(req.registry).acquire(operation, background);
        let res: RegistryResponse;
        try {
          if (this.config.rateLimiter)
            await untilAborted(this.config.rateLimiter.acquire(req.registry, background), operation);
          // The request deadline starts once the request may go out: queueing is the operation's time.
          const ms = this.config.requestTimeoutMs;
          timer = setTimeout(
            () =>
              attemptTimeout.abort(
                deadlineError('request', req.registry, `${req.method} ${pathOf(req.path)}`, ms),
              ),
            ms,
          );
          res = await this.send(req, AbortSignal.any([operation, attemptTimeout.signal]));
        } finally {
          release();
        }
        try {
          return await consume(res);
        } catch (error) {
          discardBody(res.body);
          throw networkError(error, req.registry);
        }
      } catch (error) {
        if (operation.aborted) throw operation.reason as Error;
        const typed = networkError(
          attemptTimeout.signal.aborted ? attemptTimeout.signal.reason : error,
          req.registry,
        );
        const delay = this.retryDelay(typed, attempt);
        if (delay === undefined) throw typed;
        await untilAborted(this.sleep(delay), operation);
      } finally {
        clearTimeout(timer);
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

  private async send(req: RegistryRequest, signal: AbortSignal): Promise<RegistryResponse> {
    const origin = this.baseUrl(req.registry);
    const credential = credentialFor(this.config.credentials, req.registry);
    let authorization = this.auth.cached(origin, req.scope, credential);
    let res = await this.follow(req, authorization, signal);
    if (res.status === 401) {
      await res.body.dump({ signal, limit: DUMP_LIMIT });
      const unauthorized = { url: res.url, wwwAuthenticate: res.header('www-authenticate') };
      authorization = await this.auth.answer(
        req.registry,
        origin,
        unauthorized,
        req.scope,
        credential,
        signal,
      );
      if (authorization === undefined) throw statusError(401, req.registry, req.path, undefined);
      res = await this.follow(req, authorization, signal);
    }
    if (res.status >= 200 && res.status < 300) return res;
    await res.body.dump({ signal, limit: DUMP_LIMIT });
    if (res.status === 401) this.auth.forget(origin, req.scope, credential);
    throw statusError(
      res.status,
      req.registry,
      req.path,
      parseRetryAfter(res.header('retry-after'), this.now()),
    );
  }

  private baseUrl(registry: string): URL {
    const scheme = this.config.hostOptions(registry).plainHttp ? 'http' : 'https';
    return new URL(`${scheme}://${apiHost(registry)}`);
  }

  /** Refuses a hop that would downgrade to plain HTTP or that carries userinfo. */
  private checkHop(registry: string, from: URL, to: URL): void {
    if (to.username !== '' || to.password !== '') {
      throw new RegistryError('InvalidResponse', `${registry}: refusing a URL that carries userinfo`, {
        host: registry,
      });
    }
    if (to.protocol !== 'https:' && !(to.protocol === 'http:' && from.protocol === 'http:')) {
      throw new RegistryError(
        'InvalidResponse',
        `${registry}: refusing redirect from ${from.protocol} to ${to.protocol}`,
        { host: registry },
      );
    }
  }

  /**
   * Sends one request, following redirects. The Authorization header goes to the registry's own origin
   * only, decided at every hop: a blob store's presigned URL, another host or another port gets none.
   */
  private async follow(
    req: RegistryRequest,
    authorization: string | undefined,
    signal: AbortSignal,
  ): Promise<RegistryResponse> {
    const origin = this.baseUrl(req.registry);
    // A pagination Link may be absolute: it is checked as a redirect would be.
    let url = new URL(req.path, origin);
    this.checkHop(req.registry, origin, url);
    for (let hop = 0; hop <= this.config.maxRedirects; hop++) {
      const headers: Record<string, string> = { 'user-agent': this.config.userAgent };
      if (req.accept) headers.accept = req.accept.join(', ');
      if (authorization !== undefined && url.origin === origin.origin) headers.authorization = authorization;
      const target = url;
      const res = await this.timed(req.registry, req.method, () =>
        request(target, {
          method: req.method,
          headers,
          signal,
          dispatcher: this.agentFor(req.registry, target),
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
      await res.body.dump({ signal, limit: DUMP_LIMIT });
      let next: URL;
      try {
        next = new URL(location, url);
      } catch (cause) {
        throw new RegistryError('InvalidResponse', `${req.registry}: redirect to an invalid URL`, {
          host: req.registry,
          cause,
        });
      }
      this.checkHop(req.registry, url, next);
      url = next;
    }
    throw new RegistryError(
      'InvalidResponse',
      `${req.registry}: more than ${this.config.maxRedirects} redirects`,
      { host: req.registry },
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

  /**
   * The registry's own origin is reached with its TLS settings (its private CA only, as Flux does); other
   * origins it sends us to (blob storage, its token server) with the public roots plus that CA, since
   * such deployments often sign both with one private CA while a cloud bucket has a public certificate.
   */
  private agentFor(registry: string, url: URL): Agent {
    if (url.origin === this.baseUrl(registry).origin) return this.registryAgent(registry);
    const caPem = this.config.hostOptions(registry).caPem;
    return caPem === undefined
      ? this.defaultAgent
      : this.cachedAgent(`elsewhere ${registry}`, [...rootCertificates, caPem]);
  }

  /** The agent with the registry's TLS settings (its private CA). */
  private registryAgent(registry: string): Agent {
    return this.cachedAgent(registry, this.config.hostOptions(registry).caPem);
  }

  private cachedAgent(key: string, ca: string | string[] | undefined): Agent {
    let agent = this.agents.get(key);
    if (!agent) {
      agent = this.newAgent(ca);
      this.agents.set(key, agent);
    }
    return agent;
  }

  private newAgent(caPem: string | string[] | undefined): Agent {
    return new Agent({
      connect: { timeout: this.config.timeoutMs, ...(caPem ? { ca: caPem } : {}) },
      headersTimeout: this.config.timeoutMs,
      bodyTimeout: this.config.timeoutMs,
      connections: this.config.maxConcurrencyPerRegistry,
    });
  }

  /** A token request for `auth`: sent with the transport's TLS settings and metrics, its JSON body read. */
  private async fetchToken(
    registry: string,
    realm: URL,
    { method, headers, body }: TokenRequest,
    signal: AbortSignal,
  ): Promise<unknown> {
    // The token server is part of the registry's deployment (often another host name signed by the same
    // private CA), so the registry's CA is trusted for it too. Its redirects are not followed.
    const agent = this.agentFor(registry, realm);
    const res = await this.timed(registry, method, () =>
      request(realm, {
        method,
        headers,
        signal,
        ...(body !== undefined ? { body } : {}),
        dispatcher: agent,
      }),
    );
    if (res.statusCode !== 200) {
      await res.body.dump({ signal, limit: DUMP_LIMIT });
      throw statusError(res.statusCode === 404 ? 502 : res.statusCode, realm.host, realm.pathname, undefined);
    }
    return readJson(res.body, 1024 * 1024, realm.host);
  }
}

/** The path of a request without its query (which may hold a presigned URL's signature). */
const pathOf = (path: string): string => {
  try {
    return new URL(path, 'http://x').pathname;
  } catch {
    return path.split('?')[0] ?? '';
  }
};

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
