// HTTP for certificate revocation data (OCSP, CRL) on undici: GET and POST to plain http: URLs only, a
// timeout per request, a size cap read while streaming, up to 3 redirects that stay on http:, no cookies,
// no credentials. The caller builds it and hands it to verify/'s RevocationChecker (its RevocationHttp).
import { Agent, request, type Dispatcher } from 'undici';
import { BaseError } from '../errors.ts';
import { discardBody, readCapped } from './response-body.ts';

export type RevocationFetchErrorCode =
  /** The location is not a plain http: URL (notation reads CRLs and OCSP over http only). */
  | 'UnsupportedUrl'
  /** No answer, a timeout, a refused connection, an HTTP status other than 200, too many redirects. */
  | 'FetchFailed'
  /** More bytes than the limit. */
  | 'TooLarge';

/** Why revocation data could not be had; the revocation checker makes the certificate's status unknown. */
export class RevocationFetchError extends BaseError<RevocationFetchErrorCode> {}

/** What verify/'s RevocationHttp needs, and close() for the owner. */
export interface RevocationHttpClient {
  get(url: string, maxBytes: number): Promise<Buffer>;
  post(url: string, body: Buffer, contentType: string, maxBytes: number): Promise<Buffer>;
  close(): Promise<void>;
}

export interface RevocationHttpOptions {
  readonly timeoutMs: number;
  readonly userAgent: string;
}

const MAX_REDIRECTS = 3;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

const httpUrl = (location: string, base?: URL): URL => {
  let url: URL;
  try {
    url = new URL(location, base);
  } catch (cause) {
    throw new RevocationFetchError('UnsupportedUrl', `${JSON.stringify(location)} is not a URL`, { cause });
  }
  if (url.protocol !== 'http:')
    throw new RevocationFetchError('UnsupportedUrl', `${url.origin}: only http: revocation URLs are read`);
  if (url.username || url.password)
    throw new RevocationFetchError(
      'UnsupportedUrl',
      `${url.host}: revocation URLs may not carry credentials`,
    );
  return url;
};

export const createRevocationHttp = (options: RevocationHttpOptions): RevocationHttpClient => {
  const agent = new Agent({
    connect: { timeout: options.timeoutMs },
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });

  const send = async (
    location: string,
    method: 'GET' | 'POST',
    maxBytes: number,
    body?: { bytes: Buffer; contentType: string },
  ): Promise<Buffer> => {
    let url = httpUrl(location);
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const where = `${url.origin}${url.pathname}`;
      let res: Dispatcher.ResponseData;
      try {
        res = await request(url, {
          method,
          dispatcher: agent,
          headers: {
            'user-agent': options.userAgent,
            ...(body ? { 'content-type': body.contentType } : {}),
          },
          ...(body ? { body: body.bytes } : {}),
          signal: AbortSignal.timeout(options.timeoutMs),
        });
      } catch (cause) {
        throw new RevocationFetchError(
          'FetchFailed',
          `${where}: ${(cause as Error).message ?? 'request failed'}`,
          {
            cause,
          },
        );
      }
      const next = res.headers.location;
      if (REDIRECTS.has(res.statusCode) && typeof next === 'string') {
        await res.body.dump();
        url = httpUrl(next, url);
        continue;
      }
      if (res.statusCode !== 200) {
        await res.body.dump();
        throw new RevocationFetchError('FetchFailed', `${where}: HTTP ${res.statusCode}`);
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) {
        discardBody(res.body);
        throw new RevocationFetchError('TooLarge', `${where}: ${declared} bytes is more than ${maxBytes}`);
      }
      try {
        return await readCapped(
          res.body,
          maxBytes,
          () => new RevocationFetchError('TooLarge', `${where}: more than ${maxBytes} bytes`),
        );
      } catch (cause) {
        if (cause instanceof RevocationFetchError) throw cause;
        throw new RevocationFetchError('FetchFailed', `${where}: reading the body failed`, { cause });
      }
    }
    throw new RevocationFetchError('FetchFailed', `${location}: more than ${MAX_REDIRECTS} redirects`);
  };

  return {
    get: (url, maxBytes) => send(url, 'GET', maxBytes),
    post: (url, bytes, contentType, maxBytes) => send(url, 'POST', maxBytes, { bytes, contentType }),
    close: () => agent.close(),
  };
};
