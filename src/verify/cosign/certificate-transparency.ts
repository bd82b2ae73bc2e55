// Embedded Certificate Transparency SCTs of keyless (Fulcio-style) signing certificates, as sigstore-go
// (cosign v3) checks them: at least one SCT of the certificate's SCT-list extension must be signed, over
// the RFC 6962 precertificate entry, by a CT log of the trusted root whose validity covers the SCT's time.
// Required only when the trusted root lists CT logs (the public-good root does; a private one may not).
import { createHash } from 'node:crypto';
import { ByteStream, EXTENSION_OID_SCT } from '@sigstore/core';
import type { X509Certificate, X509SCTExtension } from '@sigstore/core';
import type { TransparencyLog, TrustAnchors } from './trusted-root.ts';
import type { CheckResult } from './certificates.ts';

/** An SCT dated later than now by more than this is refused (clock skew between log and operator). */
export const SCT_CLOCK_SKEW_MS = 60_000;

type SignedCertificateTimestamp = X509SCTExtension['signedCertificateTimestamps'][number];

/** The outcome: `note` says, for the signer's message, what was checked. */
export type SctCheck =
  { readonly ok: true; readonly note: string } | Extract<CheckResult, { readonly ok: false }>;

const untrusted = (message: string): SctCheck => ({ ok: false, reason: 'UntrustedSigner', message });

/**
 * The precertificate part of the signed entry (RFC 6962 §3.2): issuer_key_hash and the TBSCertificate
 * without the SCT-list extension (the log signed the precertificate's TBS, whose poison extension
 * stood where the final certificate carries the SCTs), DER-encoded with a 24-bit length.
 */
const precertEntry = (leaf: X509Certificate, issuer: X509Certificate): Buffer | undefined => {
  const clone = leaf.clone();
  const index = clone.extensions.findIndex((ext) => ext.subs[0]?.toOID() === EXTENSION_OID_SCT);
  if (index < 0) return undefined;
  clone.extensions.splice(index, 1);
  const tbs = clone.tbsCertificate.toDER();
  const entry = new ByteStream();
  entry.appendView(createHash('sha256').update(issuer.publicKey).digest());
  entry.appendUint24(tbs.length);
  entry.appendView(tbs);
  return entry.buffer;
};

const shortId = (logId: Buffer): string => logId.toString('hex').slice(0, 16);

/** Why one SCT does not count, or undefined when it verifies with `log`. */
const sctProblem = (
  sct: SignedCertificateTimestamp,
  log: TransparencyLog | undefined,
  entry: Buffer,
  now: Date,
): string | undefined => {
  const id = shortId(sct.logID);
  if (!log) return `SCT from log ${id}, which is not a CT log of the trusted root`;
  if (sct.version !== 0) return `SCT from log ${id} has unsupported version ${sct.version}`;
  const at = sct.datetime;
  if (Number.isNaN(at.getTime())) return `SCT from log ${id} has an unreadable timestamp`;
  if (at.getTime() > now.getTime() + SCT_CLOCK_SKEW_MS)
    return `SCT from log ${id} is dated in the future (${at.toISOString()})`;
  if (at < log.validFor.start || at > log.validFor.end)
    return `SCT from log ${id} dated ${at.toISOString()} is outside the log's validity in the trusted root`;
  if (!sct.verify(entry, log.key)) return `SCT from log ${id} does not verify with the log's key`;
  return undefined;
};

const parseScts = (leaf: X509Certificate): SignedCertificateTimestamp[] | string => {
  try {
    return leaf.extSCT?.signedCertificateTimestamps ?? [];
  } catch {
    return 'the certificate SCT list does not parse';
  }
};

/**
 * Checks the embedded SCTs of `leaf`, issued by `issuer` (the next certificate of its verified chain),
 * against the CT logs of the trusted root; `now` bounds the SCT time.
 */
export const verifyEmbeddedScts = (
  leaf: X509Certificate,
  issuer: X509Certificate,
  anchors: TrustAnchors,
  now: Date,
): SctCheck => {
  if (anchors.ctlogs.size === 0)
    return { ok: true, note: 'SCTs not checked: the trusted root lists no CT logs' };
  const scts = parseScts(leaf);
  if (typeof scts === 'string') return untrusted(scts);
  const entry = scts.length > 0 ? precertEntry(leaf, issuer) : undefined;
  if (!entry) return untrusted('the signing certificate carries no SCT, and the trusted root lists CT logs');
  const problems: string[] = [];
  for (const sct of scts) {
    const problem = sctProblem(sct, anchors.ctlogs.get(sct.logID.toString('hex')), entry, now);
    if (problem === undefined) return { ok: true, note: `SCT from CT log ${shortId(sct.logID)} verified` };
    problems.push(problem);
  }
  return untrusted(`no valid SCT: ${problems.join('; ')}`);
};
