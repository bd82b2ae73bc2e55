import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  bearerMatches,
  hasSignature,
  parseWebhookSecret,
  signatureMatches,
  urlTokenMatches,
} from '../../src/webhook/auth.ts';
import { WebhookError } from '../../src/webhook/push-event.ts';

const TOKEN = 'tok-0123456789abcdef';
const URL_TOKEN = 'u'.repeat(40);
const HMAC_KEY = 'hmac key: any bytes at all!';
const secret = parseWebhookSecret({
  token: Buffer.from(`${TOKEN}\n`),
  urlToken: Buffer.from(URL_TOKEN),
  hmacKey: Buffer.from(HMAC_KEY),
});
const body = Buffer.from('{"events":[]}');
const sign = (key: string, data: Buffer) => `sha256=${createHmac('sha256', key).update(data).digest('hex')}`;

describe('webhook Secret', () => {
  it('strips the trailing newline of --from-file values', () => {
    expect(secret.token?.toString()).toBe(TOKEN);
  });

  it.each<[Record<string, string>, string]>([
    [{}, 'none'],
    [{ other: 'x'.repeat(40) }, 'none'],
    [{ token: 'short' }, 'token too short'],
    [{ urlToken: 'u'.repeat(31) }, 'urlToken too short'],
    [{ token: `${'t'.repeat(20)} space` }, 'token not URL-safe'],
    [{ hmacKey: 'k'.repeat(15) }, 'hmacKey too short'],
  ])('refuses %j (%s) with SecretInvalid, naming no value', (data, _) => {
    const values = Object.values(data);
    try {
      parseWebhookSecret(Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v)])));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(WebhookError);
      expect((error as WebhookError).code).toBe('SecretInvalid');
      for (const value of values) expect((error as Error).message).not.toContain(value);
    }
  });
});

describe('bearer token', () => {
  it('accepts Authorization: Bearer <token>, the scheme in any case', () => {
    expect(bearerMatches(secret, `Bearer ${TOKEN}`)).toBe(true);
    expect(bearerMatches(secret, `bearer ${TOKEN}`)).toBe(true);
  });

  it.each([
    [undefined],
    [''],
    [TOKEN],
    [`Basic ${TOKEN}`],
    [`Bearer ${TOKEN}x`],
    [`Bearer ${TOKEN.slice(0, -1)}`],
    [`Bearer ${TOKEN} ${TOKEN}`],
  ])('refuses %j', (authorization) => {
    expect(bearerMatches(secret, authorization)).toBe(false);
  });

  it('refuses everything when the Secret has no token', () => {
    expect(bearerMatches(parseWebhookSecret({ urlToken: Buffer.from(URL_TOKEN) }), `Bearer ${TOKEN}`)).toBe(
      false,
    );
  });
});

describe('URL token', () => {
  it('accepts the urlToken only', () => {
    expect(urlTokenMatches(secret, URL_TOKEN)).toBe(true);
    expect(urlTokenMatches(secret, TOKEN)).toBe(false);
    expect(urlTokenMatches(secret, undefined)).toBe(false);
    expect(urlTokenMatches(secret, `${URL_TOKEN}x`)).toBe(false);
  });
});

describe('HMAC-SHA256 signature', () => {
  it('accepts GitHub X-Hub-Signature-256 and the generic X-Tagguard-Signature-256 over the raw body', () => {
    expect(signatureMatches(secret, { 'x-hub-signature-256': sign(HMAC_KEY, body) }, body)).toBe(true);
    expect(signatureMatches(secret, { 'x-tagguard-signature-256': sign(HMAC_KEY, body) }, body)).toBe(true);
    expect(hasSignature({ 'x-hub-signature-256': 'sha256=00' })).toBe(true);
    expect(hasSignature({ authorization: 'x' })).toBe(false);
  });

  it('accepts the same signed body replayed (dedupe is the poller’s job, not authentication’s)', () => {
    const headers = { 'x-hub-signature-256': sign(HMAC_KEY, body) };
    expect(signatureMatches(secret, headers, body)).toBe(true);
    expect(signatureMatches(secret, headers, Buffer.from(body))).toBe(true);
  });

  it.each([
    ['another key', { 'x-hub-signature-256': sign('another key of some length', body) }],
    ['another body', { 'x-hub-signature-256': sign(HMAC_KEY, Buffer.from('{"events":[1]}')) }],
    ['sha1', { 'x-hub-signature': `sha1=${createHmac('sha1', HMAC_KEY).update(body).digest('hex')}` }],
    ['no prefix', { 'x-hub-signature-256': createHmac('sha256', HMAC_KEY).update(body).digest('hex') }],
    ['truncated', { 'x-hub-signature-256': sign(HMAC_KEY, body).slice(0, -2) }],
    ['an array', { 'x-hub-signature-256': [sign(HMAC_KEY, body)] }],
  ])('refuses %s', (_, headers) => {
    expect(signatureMatches(secret, headers, body)).toBe(false);
  });
});
