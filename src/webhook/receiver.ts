// The push-notification endpoint of `tagguard run --webhook-addr`: POST /webhook/<provider>[/<urlToken>].
// Per request, in this order and with bounded memory and time: a known path, POST, a JSON content type,
// a Content-Length within the cap (413 before reading anything), the credentials of the Secret (header
// credentials are checked before the body is read; an HMAC needs the body, read to the cap and no
// further), JSON no deeper than 32 levels, the provider's parser, then dispatch to the poller. A body,
// a header value or a credential is never logged. What a request can cause is a sooner resolve.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { ListenAddress } from '../config/operator-config.ts';
import {
  bearerMatches,
  hasSignature,
  signatureMatches,
  urlTokenMatches,
  type WebhookSecret,
} from './auth.ts';
import { parseJsonBody } from './json-body.ts';
import { parsePush } from './parse-push.ts';
import { WEBHOOK_PROVIDERS, WebhookError, type PushEvent, type WebhookProvider } from './push-event.ts';

export type WebhookResult =
  | 'accepted'
  | 'no_match'
  | 'unauthorized'
  | 'malformed'
  | 'too_large'
  | 'unsupported_media_type'
  | 'method_not_allowed'
  | 'not_found'
  | 'unavailable';

export const MAX_BODY_BYTES = 1024 * 1024;
/** Pushes one notification may name (each is matched against every poll key): a bound on the CPU a body costs. */
export const MAX_EVENTS = 256;

export interface WebhookReceiverOptions {
  readonly address: ListenAddress;
  /** The current credentials; undefined while the Secret is missing or unusable (503, the sender retries). */
  readonly secret: () => Promise<WebhookSecret | undefined>;
  /** Hands the events to the poller: how many poll keys matched, or undefined when this replica is not the leader. */
  readonly dispatch: (events: readonly PushEvent[]) => number | undefined;
  readonly onRequest: (provider: WebhookProvider | 'unknown', result: WebhookResult) => void;
  readonly logger: Logger;
  readonly maxBodyBytes?: number;
  /** Whole request, headers and body (default 10 s). */
  readonly requestTimeoutMs?: number;
}

export interface WebhookReceiver {
  readonly address: AddressInfo;
  close(): Promise<void>;
}

const PATH = /^\/webhook\/([a-z]+)(?:\/([A-Za-z0-9_-]{1,512}))?\/?$/;
const JSON_TYPE = /^application\/(?:json|[a-z0-9.+-]+\+json)$/;

const isProvider = (name: string): name is WebhookProvider =>
  (WEBHOOK_PROVIDERS as readonly string[]).includes(name);

const STATUS: Record<WebhookResult, number> = {
  accepted: 202,
  no_match: 202,
  unauthorized: 401,
  malformed: 400,
  too_large: 413,
  unsupported_media_type: 415,
  method_not_allowed: 405,
  not_found: 404,
  unavailable: 503,
};

/** Reads the body up to `max` bytes; a WebhookError TooLarge past that (the rest is never buffered). */
const readCapped = (req: IncomingMessage, max: number): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > max) {
        req.off('data', onData);
        reject(new WebhookError('TooLarge', `the body is larger than ${max} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
  });

const mediaType = (req: IncomingMessage): string =>
  (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';

export const startWebhookReceiver = async (options: WebhookReceiverOptions): Promise<WebhookReceiver> => {
  const max = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  const log = options.logger;

  const answer = (
    req: IncomingMessage,
    res: ServerResponse,
    provider: WebhookProvider | 'unknown',
    result: WebhookResult,
    extra: { headers?: Record<string, string>; body?: string } = {},
  ): void => {
    options.onRequest(provider, result);
    if (result !== 'accepted' && result !== 'no_match')
      log.debug({ provider, result, remote: req.socket.remoteAddress }, 'push notification refused');
    const unread = !req.complete;
    res.writeHead(STATUS[result], {
      'content-type': 'application/json',
      ...(unread ? { connection: 'close' } : {}),
      ...extra.headers,
    });
    res.end(extra.body ?? `${JSON.stringify({ result })}\n`);
    if (unread) {
      // Let the client finish sending so it reads the answer, but buffer nothing, and cut a sender that
      // goes on far past the cap (the request timeout bounds the time).
      let drained = 0;
      req.on('data', (chunk: Buffer) => {
        drained += chunk.length;
        if (drained > 4 * max) req.socket.destroy();
      });
      req.resume();
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const route = PATH.exec((req.url ?? '/').split('?')[0] ?? '/');
    const name = route?.[1] ?? '';
    if (!route || !isProvider(name)) return answer(req, res, 'unknown', 'not_found');
    const provider = name;
    const pathToken = route[2];
    if (req.method === 'OPTIONS' && provider === 'cloudevents') {
      // CloudEvents HTTP webhook abuse protection: the handshake Azure Event Grid sends before delivering.
      const origin = req.headers['webhook-request-origin'];
      const allowed =
        typeof origin === 'string' && /^[A-Za-z0-9.-]{1,253}$/.test(origin) ? origin : undefined;
      res.writeHead(allowed ? 200 : 400, allowed ? { 'webhook-allowed-origin': allowed, allow: 'POST' } : {});
      res.end();
      return;
    }
    if (req.method !== 'POST')
      return answer(req, res, provider, 'method_not_allowed', { headers: { allow: 'POST' } });
    if (!JSON_TYPE.test(mediaType(req))) return answer(req, res, provider, 'unsupported_media_type');
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > max) return answer(req, res, provider, 'too_large');
    const secret = await options.secret();
    if (!secret) return answer(req, res, provider, 'unavailable', { headers: { 'retry-after': '30' } });
    const byHeader = bearerMatches(secret, req.headers.authorization) || urlTokenMatches(secret, pathToken);
    if (!byHeader && !(secret.hmacKey && hasSignature(req.headers)))
      return answer(req, res, provider, 'unauthorized');
    let body: Buffer;
    try {
      body = await readCapped(req, max);
    } catch (error) {
      if (error instanceof WebhookError) return answer(req, res, provider, 'too_large');
      throw error;
    }
    if (!byHeader && !signatureMatches(secret, req.headers, body))
      return answer(req, res, provider, 'unauthorized');
    let events: PushEvent[];
    try {
      events = parsePush(provider, parseJsonBody(body), req.headers);
      if (events.length > MAX_EVENTS)
        throw new WebhookError('Malformed', `a notification names at most ${MAX_EVENTS} pushes`);
    } catch (error) {
      if (error instanceof WebhookError) return answer(req, res, provider, 'malformed');
      throw error;
    }
    const matched = events.length > 0 ? options.dispatch(events) : 0;
    // A replica that is not the leader must not swallow the event: 503 makes distribution and Harbor retry.
    if (matched === undefined)
      return answer(req, res, provider, 'unavailable', { headers: { 'retry-after': '5' } });
    log.info(
      {
        provider,
        pushed: events.slice(0, 10).map((e) => `${e.registry}/${e.repository}${e.tag ? `:${e.tag}` : ''}`),
        matched,
      },
      'push notification',
    );
    // Every authenticated, well-formed notification is acknowledged, even one that concerns nothing watched:
    // distribution retries anything else forever and its queue would back up.
    answer(req, res, provider, matched > 0 ? 'accepted' : 'no_match', {
      body: `${JSON.stringify({ events: events.length, matched })}\n`,
    });
  };

  const server: Server = createServer(
    {
      requestTimeout: timeoutMs,
      headersTimeout: Math.min(5_000, timeoutMs),
      // node checks the two timeouts every connectionsCheckingInterval (30 s by default): a stalled
      // sender would hold its connection three times longer than the timeout says.
      connectionsCheckingInterval: Math.min(1_000, timeoutMs),
      maxHeaderSize: 16 * 1024,
    },
    (req, res) => {
      handle(req, res).catch((error: unknown) => {
        log.error(
          { err: error instanceof Error ? error.message : String(error) },
          'push notification failed',
        );
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json', connection: 'close' });
        res.end();
      });
    },
  );
  server.keepAliveTimeout = 5_000;
  // Unauthenticated senders cost a socket each until the request timeout: bound how many at once.
  server.maxConnections = 256;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.address.port, options.address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    address: server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
