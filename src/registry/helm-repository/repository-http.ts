// One GET against an HTTP Helm repository on undici: redirects followed by hand (bounded, an https→http
// downgrade and userinfo refused), credentials — basic auth and the TLS client certificate — decided at
// every hop (the repository's own origin only, unless passCredentials), a byte cap enforced while the body
// streams and its SHA-256 computed on the way, one deadline over the whole exchange.
import { createHash } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { Agent, request, type Dispatcher } from 'undici';
import { RegistryError } from '../errors.ts';
import { deadlineError, withDeadline, currentDeadline } from '../deadline.ts';
import { discardBody } from '../response-body.ts';
import { networkError, statusError } from '../transport.ts';

export interface RepositoryCredentials {
  readonly username?: string;
  readonly password?: string;
  /** PEM of the TLS client certificate and its key (Flux certSecretRef tls.crt / tls.key). */
  readonly certPem?: string;
  readonly keyPem?: string;
}

export interface RepositoryHttpConfig {
  /** The repository's origin (scheme://host:port): where credentials go. */
  readonly origin: string;
  readonly credentials: RepositoryCredentials;
  /** PEM of a CA for the repository (Flux certSecretRef ca.crt): its origin trusts only it, others add it. */
  readonly caPem: string | undefined;
  /** Flux spec.passCredentials: credentials go to every host and hop, not only the repository's origin. */
  readonly passCredentials: boolean;
  /** Idle timeouts: connecting, waiting for headers, a pause in the body. */
  readonly timeoutMs: number;
  /** Deadline of one GET: redirects and the whole body. */
  readonly requestTimeoutMs: number;
  readonly maxRedirects: number;
  readonly userAgent: string;
}

export interface GetRequest {
  readonly url: URL;
  readonly maxBytes: number;
  /** Names the work in errors, e.g. "index.yaml" or "payment-3.1.0.tgz". */
  readonly what: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Statuses answered without an error or a body (304 for a conditional GET, 404 for a .prov). */
  readonly bodiless?: readonly number[];
}

export interface GetResponse {
  readonly status: number;
  /** Where the answer came from, after redirects. */
  readonly url: URL;
  header(name: string): string | undefined;
  /** The body of a 2xx answer; empty for a bodiless status. */
  readonly bytes: Buffer;
  /** sha256 hex of `bytes`. */
  readonly sha256: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const DUMP_LIMIT = 128 * 1024;

const headerOf =
  (headers: Dispatcher.ResponseData['headers']) =>
  (name: string): string | undefined => {
    const value = headers[name.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  };

/** host:port of a URL, for messages (never the path or query, which may hold a token). */
const hostOf = (url: URL): string => url.host;

export class RepositoryHttp {
  private readonly config: RepositoryHttpConfig;
  private readonly agents = new Map<string, Agent>();

  constructor(config: RepositoryHttpConfig) {
    this.config = config;
  }

  async close(): Promise<void> {
    await Promise.all([...this.agents.values()].map((a) => a.close()));
  }

  /** GET with the repository's rules; a 2xx body is read whole, up to maxBytes. */
  get(req: GetRequest): Promise<GetResponse> {
    const ms = this.config.requestTimeoutMs;
    const host = hostOf(req.url);
    return withDeadline(
      ms,
      () => deadlineError('request', host, `GET ${req.what}`, ms),
      () => this.exchange(req, currentDeadline() as AbortSignal),
    );
  }

  private withCredentials(url: URL): boolean {
    return this.config.passCredentials || url.origin === this.config.origin;
  }

  private async exchange(req: GetRequest, signal: AbortSignal): Promise<GetResponse> {
    let url = req.url;
    for (let hop = 0; hop <= this.config.maxRedirects; hop++) {
      const res = await this.send(url, req, signal);
      const header = headerOf(res.headers);
      const location = header('location');
      if (REDIRECTS.has(res.statusCode) && location !== undefined) {
        await res.body.dump({ signal, limit: DUMP_LIMIT }).catch(() => undefined);
        url = this.nextHop(url, location);
        continue;
      }
      if (req.bodiless?.includes(res.statusCode) === true) {
        await res.body.dump({ signal, limit: DUMP_LIMIT }).catch(() => undefined);
        return { status: res.statusCode, url, header, bytes: Buffer.alloc(0), sha256: '' };
      }
      if (res.statusCode < 200 || res.statusCode > 299) {
        await res.body.dump({ signal, limit: DUMP_LIMIT }).catch(() => undefined);
        throw statusError(res.statusCode, hostOf(url), `/${req.what}`, undefined);
      }
      const { bytes, sha256 } = await this.readBody(res, header, req, url);
      return { status: res.statusCode, url, header, bytes, sha256 };
    }
    throw new RegistryError(
      'InvalidResponse',
      `${hostOf(req.url)}: more than ${this.config.maxRedirects} redirects for ${req.what}`,
      {
        host: hostOf(req.url),
      },
    );
  }

  private nextHop(from: URL, location: string): URL {
    let next: URL;
    try {
      next = new URL(location, from);
    } catch (cause) {
      throw new RegistryError('InvalidResponse', `${hostOf(from)}: redirect to an invalid URL`, {
        host: hostOf(from),
        cause,
      });
    }
    if (next.username !== '' || next.password !== '')
      throw new RegistryError(
        'InvalidResponse',
        `${hostOf(from)}: refusing a redirect that carries userinfo`,
        { host: hostOf(from) },
      );
    if (next.protocol !== 'https:' && !(next.protocol === 'http:' && from.protocol === 'http:'))
      throw new RegistryError(
        'InvalidResponse',
        `${hostOf(from)}: refusing redirect from ${from.protocol} to ${next.protocol}`,
        {
          host: hostOf(from),
        },
      );
    return next;
  }

  private async send(url: URL, req: GetRequest, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
    const credentials = this.withCredentials(url);
    const headers: Record<string, string> = { 'user-agent': this.config.userAgent, ...req.headers };
    const { username, password } = this.config.credentials;
    // As helm: basic auth only when both are set.
    if (credentials && username && password)
      headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    try {
      return await request(url, {
        method: 'GET',
        headers,
        signal,
        dispatcher: this.agentFor(url, credentials),
      });
    } catch (error) {
      throw networkError(error, hostOf(url));
    }
  }

  /** Streams the body: the cap holds before anything past it is kept, the hash is computed on the way. */
  private async readBody(
    res: Dispatcher.ResponseData,
    header: (name: string) => string | undefined,
    req: GetRequest,
    url: URL,
  ): Promise<{ bytes: Buffer; sha256: string }> {
    const tooLarge = (): RegistryError =>
      new RegistryError('TooLarge', `${hostOf(url)}: ${req.what} is larger than ${req.maxBytes} bytes`, {
        host: hostOf(url),
      });
    const declared = Number(header('content-length') ?? Number.NaN);
    if (Number.isFinite(declared) && declared > req.maxBytes) {
      discardBody(res.body);
      throw tooLarge();
    }
    const hash = createHash('sha256');
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        total += chunk.length;
        if (total > req.maxBytes) {
          discardBody(res.body);
          throw tooLarge();
        }
        hash.update(chunk);
        chunks.push(chunk);
      }
    } catch (error) {
      discardBody(res.body);
      throw networkError(error, hostOf(url));
    }
    return { bytes: Buffer.concat(chunks, total), sha256: hash.digest('hex') };
  }

  /**
   * The repository's origin with its CA only (as helm and Flux: the CA file replaces the system roots);
   * other origins with the public roots plus that CA. The client certificate only where credentials go.
   */
  private agentFor(url: URL, credentials: boolean): Agent {
    const own = url.origin === this.config.origin;
    const { certPem, keyPem } = this.config.credentials;
    const withCert = credentials && certPem !== undefined && keyPem !== undefined;
    const key = `${own ? 'own' : 'other'}/${withCert ? 'cert' : 'anonymous'}`;
    let agent = this.agents.get(key);
    if (agent === undefined) {
      const caPem = this.config.caPem;
      const ca = caPem === undefined ? undefined : own ? caPem : [...rootCertificates, caPem];
      agent = new Agent({
        connect: {
          timeout: this.config.timeoutMs,
          ...(ca !== undefined ? { ca } : {}),
          ...(withCert ? { cert: certPem, key: keyPem } : {}),
        },
        headersTimeout: this.config.timeoutMs,
        bodyTimeout: this.config.timeoutMs,
      });
      this.agents.set(key, agent);
    }
    return agent;
  }
}
