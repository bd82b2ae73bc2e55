// Who may send push notifications: the Secret named by --webhook-secret holds up to three credentials,
// each optional, at least one present. `token`: a bearer token (`Authorization: Bearer <token>`, for
// distribution and Harbor, which can set headers). `hmacKey`: HMAC-SHA256 of the raw body, hex, in
// `X-Hub-Signature-256: sha256=<hex>` (GitHub) or `X-Tagguard-Signature-256` (anything else that signs).
// `urlToken`: a token in the URL path, /webhook/<provider>/<urlToken>, for senders that can do neither
// (Docker Hub, Quay); URLs end up in logs, so it is a separate credential from `token`.
// Every comparison is constant-time over SHA-256 digests, so neither content nor length leaks.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookError } from './push-event.ts';

export interface WebhookSecret {
  readonly token?: Buffer;
  readonly hmacKey?: Buffer;
  readonly urlToken?: Buffer;
}

export const SECRET_KEYS = ['token', 'hmacKey', 'urlToken'] as const;
const MIN_BYTES = { token: 16, hmacKey: 16, urlToken: 32 } as const;
const URL_SAFE = /^[A-Za-z0-9_-]+$/;
export const SIGNATURE_HEADERS = ['x-hub-signature-256', 'x-tagguard-signature-256'] as const;

/** The Secret's data as credentials; a SecretInvalid error names the key at fault, never its value. */
export const parseWebhookSecret = (data: Readonly<Record<string, Buffer>>): WebhookSecret => {
  const secret: { token?: Buffer; hmacKey?: Buffer; urlToken?: Buffer } = {};
  for (const key of SECRET_KEYS) {
    // Trailing newlines come with `kubectl create secret --from-file`; they are no part of a token.
    const value = data[key] && Buffer.from(data[key].toString('latin1').replace(/[\r\n]+$/, ''), 'latin1');
    if (value === undefined || value.length === 0) continue;
    if (value.length < MIN_BYTES[key])
      throw new WebhookError(
        'SecretInvalid',
        `the webhook Secret's ${key} must be at least ${MIN_BYTES[key]} bytes`,
      );
    if (key !== 'hmacKey' && !URL_SAFE.test(value.toString('latin1')))
      throw new WebhookError('SecretInvalid', `the webhook Secret's ${key} must be letters, digits, - and _`);
    secret[key] = value;
  }
  if (!secret.token && !secret.hmacKey && !secret.urlToken)
    throw new WebhookError('SecretInvalid', `the webhook Secret has none of ${SECRET_KEYS.join(', ')}`);
  return secret;
};

const sha256 = (value: Buffer): Buffer => createHash('sha256').update(value).digest();
const sameBytes = (a: Buffer, b: Buffer): boolean => timingSafeEqual(sha256(a), sha256(b));

/** `Authorization: Bearer <token>` equal to the Secret's token. */
export const bearerMatches = (secret: WebhookSecret, authorization: string | undefined): boolean => {
  if (!secret.token || authorization === undefined) return false;
  const match = /^Bearer +(\S+)$/i.exec(authorization.trim());
  return match?.[1] !== undefined && sameBytes(Buffer.from(match[1], 'latin1'), secret.token);
};

/** The token of /webhook/<provider>/<token> equal to the Secret's urlToken. */
export const urlTokenMatches = (secret: WebhookSecret, pathToken: string | undefined): boolean =>
  secret.urlToken !== undefined &&
  pathToken !== undefined &&
  sameBytes(Buffer.from(pathToken, 'latin1'), secret.urlToken);

/** True when a signature header is present (so the body must be read to check it). */
export const hasSignature = (headers: { readonly [name: string]: unknown }): boolean =>
  SIGNATURE_HEADERS.some((name) => typeof headers[name] === 'string');

/** An `sha256=<hex>` signature header equal to HMAC-SHA256(hmacKey, body). */
export const signatureMatches = (
  secret: WebhookSecret,
  headers: { readonly [name: string]: unknown },
  body: Buffer,
): boolean => {
  if (!secret.hmacKey) return false;
  const expected = createHmac('sha256', secret.hmacKey).update(body).digest();
  return SIGNATURE_HEADERS.some((name) => {
    const value = headers[name];
    const hex = typeof value === 'string' ? /^sha256=([0-9a-fA-F]{64})$/.exec(value.trim())?.[1] : undefined;
    return hex !== undefined && timingSafeEqual(Buffer.from(hex, 'hex'), expected);
  });
};
