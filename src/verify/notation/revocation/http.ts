// RevocationHttp on undici: GET and POST to plain http: URLs only, a timeout per request, a size cap
// read while streaming, up to 3 redirects that stay on http:, no cookies, no credentials.
import { Agent, request, type Dispatcher } from 'undici';
import { RevocationError } from './errors.ts';
import type { RevocationHttp } from './types.ts';
import { discardBody, readCapped } from '../../../registry/response-body.ts';

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
    throw new RevocationError('UnsupportedUrl', `${JSON.stringify(location)} is not a URL`, { cause });
  }
  if (url.protocol !== 'http:')
    throw new RevocationError('UnsupportedUrl', `${url.origin}: only http: revocation URLs are read`);
  if (url.username || url.password)
    throw new RevocationError('UnsupportedUrl', `${url.host}: revocation URLs may not carry credentials`);
  return url;
};

export const createRevocationHttp = (
  options: RevocationHttpOptions,
): RevocationHttp & { close(): Promise<void> } => {
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
        throw new RevocationError(
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
        throw new RevocationError('FetchFailed', `${where}: HTTP ${res.statusCode}`);
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) {
        discardBody(res.body);
        throw new RevocationError('TooLarge', `${where}: ${declared} bytes is more than ${maxBytes}`);
      }
      try {
        return await readCapped(
          res.body,
          maxBytes,
          () => new RevocationError('TooLarge', `${where}: more than ${maxBytes} bytes`),
        );
      } catch (cause) {
        if (cause instanceof RevocationError) throw cause;
        throw new RevocationError('FetchFailed', `${where}: reading the body failed`, { cause });
      }
    }
    throw new RevocationError('FetchFailed', `${location}: more than ${MAX_REDIRECTS} redirects`);
  };

  return {
    get: (url, maxBytes) => send(url, 'GET', maxBytes),
    post: (url, bytes, contentType, maxBytes) => send(url, 'POST', maxBytes, { bytes, contentType }),
    close: () => agent.close(),
  };
};
