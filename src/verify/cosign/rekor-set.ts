// Offline check of a cosign legacy Rekor bundle (`dev.sigstore.cosign/bundle` annotation): the Signed Entry
// Timestamp is Rekor's signature over the canonical JSON of {body, integratedTime, logID, logIndex}, by a
// log key of the trusted root; the hashedrekord body must be about this very signature, payload and key.
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { json } from '@sigstore/core';
import type { TrustAnchors } from './trusted-root.ts';

export type RekorCheck =
  | { readonly ok: true; readonly integratedTime: Date; readonly logIndex: number }
  | { readonly ok: false; readonly message: string };

interface RekorPayload {
  body: string;
  integratedTime: number;
  logIndex: number;
  logID: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

const parsePayload = (value: unknown): RekorPayload | undefined => {
  if (!isRecord(value)) return undefined;
  const { body, integratedTime, logIndex, logID } = value;
  if (typeof body !== 'string' || typeof integratedTime !== 'number' || typeof logIndex !== 'number')
    return undefined;
  if (typeof logID !== 'string') return undefined;
  // Rekor writes non-negative integers; anything else would make an invalid Date that no window excludes.
  if (!Number.isSafeInteger(integratedTime) || integratedTime < 0 || !Number.isSafeInteger(logIndex))
    return undefined;
  return { body, integratedTime, logIndex, logID };
};

const sameKey = (pem: string, key: KeyObject): boolean => {
  try {
    const theirs = createPublicKey(pem).export({ type: 'spki', format: 'der' });
    return theirs.equals(key.export({ type: 'spki', format: 'der' }));
  } catch {
    return false;
  }
};

/** The hashedrekord entry must record this signature, this payload's SHA-256 and this signer's key. */
const bodyMatches = (
  body: string,
  signature: Buffer,
  payload: Buffer,
  signerKey: KeyObject,
): string | undefined => {
  let entry: unknown;
  try {
    entry = JSON.parse(Buffer.from(body, 'base64').toString('utf8'));
  } catch {
    return 'the Rekor entry body is not JSON';
  }
  if (!isRecord(entry) || entry.kind !== 'hashedrekord' || !isRecord(entry.spec))
    return `Rekor entry kind ${JSON.stringify(isRecord(entry) ? entry.kind : null)} is not hashedrekord`;
  const spec = entry.spec;
  const data = isRecord(spec.data) && isRecord(spec.data.hash) ? spec.data.hash : {};
  const sig = isRecord(spec.signature) ? spec.signature : {};
  const key = isRecord(sig.publicKey) ? sig.publicKey.content : undefined;
  if (typeof sig.content !== 'string' || !Buffer.from(sig.content, 'base64').equals(signature))
    return 'the Rekor entry is about another signature';
  if (typeof key !== 'string' || !sameKey(Buffer.from(key, 'base64').toString('utf8'), signerKey))
    return 'the Rekor entry is about another key';
  if (data.algorithm !== 'sha256' || data.value !== createHash('sha256').update(payload).digest('hex'))
    return 'the Rekor entry is about another payload';
  return undefined;
};

export const verifyRekorBundle = (
  annotation: string,
  anchors: TrustAnchors,
  signature: Buffer,
  payload: Buffer,
  signerKey: KeyObject,
): RekorCheck => {
  let doc: unknown;
  try {
    doc = JSON.parse(annotation);
  } catch {
    return { ok: false, message: 'the Rekor bundle is not JSON' };
  }
  const set = isRecord(doc) ? doc.SignedEntryTimestamp : undefined;
  const entry = parsePayload(isRecord(doc) ? doc.Payload : undefined);
  if (typeof set !== 'string' || !entry) return { ok: false, message: 'the Rekor bundle is malformed' };
  const log = anchors.tlogs.get(entry.logID);
  if (!log) return { ok: false, message: `Rekor log ${entry.logID} is not in the trusted root` };
  const integratedTime = new Date(entry.integratedTime * 1000);
  if (integratedTime < log.validFor.start || integratedTime > log.validFor.end)
    return { ok: false, message: 'the Rekor log key was not valid at the entry time' };
  const canonical = Buffer.from(json.canonicalize(entry), 'utf8');
  let valid: boolean;
  try {
    valid = verify('sha256', canonical, log.key, Buffer.from(set, 'base64'));
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, message: 'the Rekor signed entry timestamp does not verify' };
  const mismatch = bodyMatches(entry.body, signature, payload, signerKey);
  if (mismatch) return { ok: false, message: mismatch };
  return { ok: true, integratedTime, logIndex: entry.logIndex };
};
