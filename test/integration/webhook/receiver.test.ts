// The push-notification receiver over real HTTP on loopback, with tagguard's own DigestPoller behind it
// (resolvers count their calls): authentication (missing, wrong, HMAC, URL token), refusals with their
// status and counter, a replayed body accepted but resolved once, a standby replica's 503, slow senders
// cut by the request timeout, and no secret or body in the logs.
import { createHmac } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { DigestPoller } from '../../../src/controller/digest-poller.ts';
import { describePollKey } from '../../../src/controller/registry-access.ts';
import { parseWebhookSecret, type WebhookSecret } from '../../../src/webhook/auth.ts';
import {
  startWebhookReceiver,
  type WebhookReceiver,
  type WebhookResult,
} from '../../../src/webhook/receiver.ts';
import * as distribution from '../../webhook/fixtures/distribution.ts';
import * as dockerHub from '../../webhook/fixtures/docker-hub.ts';
import * as github from '../../webhook/fixtures/github.ts';

const TOKEN = 'bearer-token-0123456789abcdef';
const URL_TOKEN = 'url-token-0123456789abcdef0123456789';
const HMAC_KEY = 'hmac-key-0123456789abcdef';
const host = distribution.manifestPushWithTag.events[0]?.request.host ?? '';

let receiver: WebhookReceiver;
let poller: DigestPoller;
let secret: WebhookSecret | undefined;
let leader = true;
let resolves = 0;
const counted: string[] = [];
const logLines: string[] = [];

const url = (path: string) => `http://127.0.0.1:${receiver.address.port}${path}`;
const post = (path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
  fetch(url(path), {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.docker.distribution.events.v2+json', ...headers },
    body,
  });
const bearer = { authorization: `Bearer ${TOKEN}` };
const pushBody = JSON.stringify(distribution.manifestPushWithTag);
const last = (): string | undefined => counted.at(-1);

beforeAll(async () => {
  secret = parseWebhookSecret({
    token: Buffer.from(TOKEN),
    urlToken: Buffer.from(URL_TOKEN),
    hmacKey: Buffer.from(HMAC_KEY),
  });
  poller = new DigestPoller({ onChange: () => undefined, describe: describePollKey, minSpacingMs: 1_000 });
  const resolver = () => {
    resolves += 1;
    return Promise.resolve({ digest: `sha256:${'1'.repeat(64)}`, tag: '1.0.0', mediaType: 'm' });
  };
  await poller.resolve(`oci://${host}/charts/web 1.0.0 http anonymous`, 'ns/web', 3_600_000, resolver, 0);
  await poller.resolve(
    'oci://docker.io/svendowideit/testhook latest https anonymous',
    'ns/hub',
    3_600_000,
    resolver,
    0,
  );
  await poller.resolve(
    'oci://ghcr.io/theryangeary/www semver:>=0.0.0 https anonymous',
    'ns/gh',
    3_600_000,
    resolver,
    0,
  );
  resolves = 0;
  receiver = await startWebhookReceiver({
    address: { host: '127.0.0.1', port: 0 },
    secret: () => Promise.resolve(secret),
    dispatch: (events) => (leader ? events.reduce((n, e) => n + poller.trigger(e), 0) : undefined),
    onRequest: (provider, result: WebhookResult) => counted.push(`${provider} ${result}`),
    logger: pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) }),
    requestTimeoutMs: 1_000,
  });
});

afterAll(async () => {
  poller?.stop();
  await receiver?.close();
});

describe('webhook receiver', () => {
  it('accepts an authenticated push and resolves the matching key once, however often the body is replayed', async () => {
    const first = await post('/webhook/distribution', pushBody, bearer);
    expect(first.status).toBe(202);
    expect(await first.json()).toEqual({ events: 1, matched: 1 });
    for (let i = 0; i < 5; i += 1)
      expect((await post('/webhook/distribution', pushBody, bearer)).status).toBe(202);
    await new Promise((r) => setTimeout(r, 200));
    expect(resolves).toBe(1);
    expect(last()).toBe('distribution accepted');
    // After the spacing, the replays coalesced into exactly one more resolve.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(resolves).toBe(2);
  });

  it.each([
    ['no Authorization', {}],
    ['a wrong token', { authorization: `Bearer ${TOKEN}x` }],
    ['the URL token as bearer', { authorization: `Bearer ${URL_TOKEN}` }],
    ['a bad signature', { 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` }],
  ])('refuses %s with 401 and counts it', async (_, headers) => {
    const res = await post('/webhook/distribution', pushBody, headers);
    expect(res.status).toBe(401);
    expect(last()).toBe('distribution unauthorized');
  });

  it('accepts GitHub’s HMAC signature over the raw body', async () => {
    const body = JSON.stringify(github.packagePublished);
    const signature = `sha256=${createHmac('sha256', HMAC_KEY).update(body).digest('hex')}`;
    const res = await post('/webhook/github', body, {
      'content-type': 'application/json',
      'x-github-event': 'package',
      'x-hub-signature-256': signature,
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ events: 1, matched: 1 });
    // The same signature does not authenticate another body.
    const tampered = body.replace('0e2a89b', '0e2a89c');
    expect(
      (
        await post('/webhook/github', tampered, {
          'content-type': 'application/json',
          'x-hub-signature-256': signature,
        })
      ).status,
    ).toBe(401);
  });

  it('accepts Docker Hub with the URL token, and refuses another token in the path', async () => {
    const body = JSON.stringify(dockerHub.push);
    const json = { 'content-type': 'application/json' };
    expect((await post(`/webhook/dockerhub/${URL_TOKEN}`, body, json)).status).toBe(202);
    expect((await post(`/webhook/dockerhub/${URL_TOKEN.slice(0, -1)}x`, body, json)).status).toBe(401);
  });

  it('answers 202 to an authenticated event that concerns nothing watched (distribution retries anything else)', async () => {
    const res = await post('/webhook/distribution', JSON.stringify(distribution.blobPush), bearer);
    expect(res.status).toBe(202);
    expect(last()).toBe('distribution no_match');
  });

  it.each<[string, () => Promise<Response>, number, string]>([
    ['an unknown provider', () => post('/webhook/nexus', pushBody, bearer), 404, 'unknown not_found'],
    ['another path', () => post('/metrics', pushBody, bearer), 404, 'unknown not_found'],
    ['GET', () => fetch(url('/webhook/distribution')), 405, 'distribution method_not_allowed'],
    [
      'text/plain',
      () => post('/webhook/distribution', pushBody, { ...bearer, 'content-type': 'text/plain' }),
      415,
      'distribution unsupported_media_type',
    ],
    [
      'a form',
      () =>
        post('/webhook/github', 'payload=%7B%7D', {
          ...bearer,
          'content-type': 'application/x-www-form-urlencoded',
        }),
      415,
      'github unsupported_media_type',
    ],
    [
      'JSON nested 100 levels',
      () => post('/webhook/distribution', `${'['.repeat(100)}${']'.repeat(100)}`, bearer),
      400,
      'distribution malformed',
    ],
    ['not JSON', () => post('/webhook/distribution', '{"events":', bearer), 400, 'distribution malformed'],
    ['the wrong shape', () => post('/webhook/harbor', '{"events":[]}', bearer), 400, 'harbor malformed'],
    [
      'a Quay push of 300 tags (at most 256 pushes per notification)',
      () =>
        post(
          `/webhook/quay/${URL_TOKEN}`,
          JSON.stringify({
            docker_url: 'quay.io/a/b',
            updated_tags: Array.from({ length: 300 }, (_, i) => `t${i}`),
          }),
          { 'content-type': 'application/json' },
        ),
      400,
      'quay malformed',
    ],
  ])('refuses %s and counts it', async (_, send, status, result) => {
    expect((await send()).status).toBe(status);
    expect(last()).toBe(result);
  });

  it('answers the CloudEvents webhook handshake (OPTIONS) without touching the poller', async () => {
    const res = await fetch(url('/webhook/cloudevents'), {
      method: 'OPTIONS',
      headers: { 'webhook-request-origin': 'eventemitter.example.com' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('webhook-allowed-origin')).toBe('eventemitter.example.com');
  });

  it('answers 503 on a standby replica, and while the Secret is unusable, so the sender retries', async () => {
    leader = false;
    const standby = await post('/webhook/distribution', pushBody, bearer);
    leader = true;
    expect(standby.status).toBe(503);
    expect(standby.headers.get('retry-after')).toBe('5');
    const saved = secret;
    secret = undefined;
    const noSecret = await post('/webhook/distribution', pushBody, bearer);
    secret = saved;
    expect(noSecret.status).toBe(503);
    expect(last()).toBe('distribution unavailable');
  });

  it('cuts a sender that stalls mid-body at the request timeout', async () => {
    const started = performance.now();
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(receiver.address.port, '127.0.0.1', () => {
        socket.write(
          `POST /webhook/distribution HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 1000\r\n\r\n{"events":`,
        );
      });
      let data = '';
      socket.on('data', (chunk) => (data += chunk.toString()));
      socket.on('close', () => resolve(data));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('never logs a credential or a body', () => {
    const log = logLines.join('');
    expect(log).toContain('push notification');
    for (const value of [TOKEN, URL_TOKEN, HMAC_KEY, '"events"', 'Helm/3.19.5', 'svendowideit/apt-cacher'])
      expect(log).not.toContain(value);
  });
});
