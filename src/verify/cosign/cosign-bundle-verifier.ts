// Cosign v3 Sigstore bundles (v0.3, found as referrers): signature and transparency-log entries checked by
// @sigstore/verify against the trusted root, the signer checked here (trusted key, or certificate chain,
// identity and embedded SCTs), and the DSSE in-toto statement must be a cosign signature whose subject
// is the digest.
import { parseSignedJson } from '../signed-json.ts';
import { bundleFromJSON, type Bundle } from '@sigstore/bundle';
import type { X509Certificate } from '@sigstore/core';
import { toSignedEntity, toTrustMaterial, Verifier, type SignedEntity } from '@sigstore/verify';
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { CosignBundleSignature, VerificationTarget } from '../types.ts';
import { checkIdentity, verifyCertificateChain } from './certificates.ts';
import { readCertificateDer, strictBase64 } from './signature-certificates.ts';
import { verifyEmbeddedScts } from './certificate-transparency.ts';
import { MAX_CHAIN_CERTIFICATES, type PreparedCosignTrust, type SignatureCheck } from './prepared-trust.ts';
import { causeText } from '../judge-each.ts';

/** The predicate type `cosign sign` (v3) writes; other statements (attestations) are not signatures. */
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';
const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const MAX_LOG_ENTRIES = 10;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

interface ParsedBundle {
  readonly bundle: Bundle;
  /** Certificates the bundle carried, leaf first (chain included). */
  readonly certificates: readonly X509Certificate[];
}

/**
 * cosign v3.1.3 writes a v0.3 bundle whose verification material is an `x509CertificateChain`, which
 * the v0.3 schema replaced by a single `certificate` (and @sigstore/bundle rejects). As cosign itself
 * accepts it, the chain is kept aside and the leaf moved into `certificate` before validation.
 */
const parseBundle = (bytes: Buffer): ParsedBundle | { readonly refused: string } | undefined => {
  try {
    const json: unknown = JSON.parse(bytes.toString('utf8'));
    if (!isRecord(json) || !isRecord(json.verificationMaterial)) return undefined;
    const material = json.verificationMaterial;
    let chain: unknown[] = [];
    if (
      isRecord(material.x509CertificateChain) &&
      Array.isArray(material.x509CertificateChain.certificates)
    ) {
      chain = material.x509CertificateChain.certificates;
      const { x509CertificateChain: _chain, ...rest } = material;
      json.verificationMaterial = { ...rest, certificate: chain[0] };
    } else if (isRecord(material.certificate)) {
      chain = [material.certificate];
    }
    if (chain.length > MAX_CHAIN_CERTIFICATES)
      return { refused: `the certificate chain has more than ${MAX_CHAIN_CERTIFICATES} certificates` };
    // Every entry and timestamp is checked (a signature each): cosign writes one of each at most.
    const tlog = material.tlogEntries;
    const stamps = isRecord(material.timestampVerificationData)
      ? material.timestampVerificationData.rfc3161Timestamps
      : undefined;
    if (
      (Array.isArray(tlog) && tlog.length > MAX_LOG_ENTRIES) ||
      (Array.isArray(stamps) && stamps.length > MAX_LOG_ENTRIES)
    )
      return { refused: `more than ${MAX_LOG_ENTRIES} transparency-log entries or timestamps` };
    const certificates = chain.map((c) =>
      readCertificateDer(strictBase64(isRecord(c) && typeof c.rawBytes === 'string' ? c.rawBytes : '')),
    );
    return { bundle: bundleFromJSON(json), certificates };
  } catch {
    return undefined;
  }
};

// Building trust material parses every key and certificate of the root: done once per trusted key.
const verifierCache = new WeakMap<KeyObject, Verifier>();

const verifierFor = (key: KeyObject, trust: PreparedCosignTrust, cacheable: boolean): Verifier => {
  const cached = cacheable ? verifierCache.get(key) : undefined;
  if (cached) return cached;
  const material = toTrustMaterial(trust.anchors.root, () => ({ publicKey: key, validFor: () => true }));
  const verifier = new Verifier(material, {
    tlogThreshold: trust.requireTransparencyLog ? 1 : 0,
    ctlogThreshold: 0,
    timestampThreshold: 0,
  });
  if (cacheable) verifierCache.set(key, verifier);
  return verifier;
};

/** Signature and tlog entries through @sigstore/verify, with `key` as the one acceptable signing key. */
const verifyWithKey = (
  entity: SignedEntity,
  key: KeyObject,
  trust: PreparedCosignTrust,
  cacheable: boolean,
): string | undefined => {
  try {
    verifierFor(key, trust, cacheable).verify({ ...entity, key: { $case: 'public-key', hint: '' } });
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
};

/** The DSSE statement must be a cosign signature of exactly this digest. */
const checkStatement = (bundle: Bundle, target: VerificationTarget): SignatureCheck | undefined => {
  if (bundle.content.$case !== 'dsseEnvelope')
    return {
      ok: false,
      reason: 'SignatureInvalid',
      message: 'message-signature bundles are not supported for OCI artifacts',
    };
  const envelope = bundle.content.dsseEnvelope;
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE)
    return {
      ok: false,
      reason: 'SignatureInvalid',
      message: `DSSE payload type ${envelope.payloadType} is not in-toto`,
    };
  // Go reads the statement with protojson: exact names, plus the proto field names as aliases.
  const signed = parseSignedJson(
    Buffer.from(envelope.payload).toString('utf8'),
    ['_type', 'subject', 'predicateType', 'predicate', 'name', 'digest'],
    ['predicate_type'],
  );
  if (!signed.ok)
    return { ok: false, reason: 'SignatureInvalid', message: `the in-toto statement: ${signed.message}` };
  const statement = signed.value;
  if (!isRecord(statement) || statement.predicateType !== COSIGN_SIGN_PREDICATE)
    return {
      ok: false,
      reason: 'SignatureInvalid',
      message: 'the statement is not a cosign signature (predicateType)',
    };
  const [algorithm, hex] = target.digest.split(':');
  const subjects = Array.isArray(statement.subject) ? statement.subject : [];
  const names = subjects.map((s) =>
    isRecord(s) && isRecord(s.digest) ? s.digest[algorithm ?? ''] : undefined,
  );
  if (!names.includes(hex))
    return {
      ok: false,
      reason: 'DigestMismatch',
      message: `the statement's subject is ${names.map((n) => `${algorithm}:${String(n)}`).join(', ') || 'empty'}, not ${target.digest}`,
    };
  return undefined;
};

const checkKeyed = (bundle: Bundle, entity: SignedEntity, trust: PreparedCosignTrust): SignatureCheck => {
  let lastError = '';
  for (const key of trust.keys) {
    const error = verifyWithKey(entity, key.key, trust, true);
    if (error === undefined) return { ok: true, identity: key.fingerprint };
    lastError = error;
  }
  const material = bundle.verificationMaterial.content;
  const hint = material.$case === 'publicKey' ? material.publicKey.hint : '';
  if (hint !== '' && !trust.keys.some((k) => k.hint === hint))
    return { ok: false, reason: 'UntrustedSigner', message: `signed by key ${hint}, which is not trusted` };
  return {
    ok: false,
    reason: 'SignatureInvalid',
    message: `the bundle does not verify with the trusted key: ${lastError}`,
  };
};

const checkCertificate = (
  { bundle, certificates }: ParsedBundle,
  entity: SignedEntity,
  trust: PreparedCosignTrust,
  now: Date,
): SignatureCheck => {
  const policy = trust.keyless;
  const [leaf, ...intermediates] = certificates;
  if (!policy || !leaf)
    return { ok: false, reason: 'UntrustedSigner', message: 'the bundle carries no certificate' };
  let leafKey: KeyObject;
  try {
    // node:crypto reads the key itself: a key algorithm it does not know is a certificate it cannot use.
    leafKey = createPublicKey({ key: leaf.publicKey, format: 'der', type: 'spki' });
  } catch (cause) {
    return {
      ok: false,
      reason: 'SignatureInvalid',
      message: `the signing certificate's key is not usable (${causeText(cause)})`,
    };
  }
  const error = verifyWithKey(entity, leafKey, trust, false);
  if (error !== undefined) return { ok: false, reason: 'SignatureInvalid', message: error };
  // A log entry dates the signature only through its signed entry timestamp (inclusion promise): an
  // inclusion proof does not cover integratedTime (as @sigstore/verify's getTLogTimestamp). Without a
  // signed time the certificate must be valid now.
  const signed = bundle.verificationMaterial.tlogEntries.find((e) => e.inclusionPromise !== undefined);
  const at = signed ? new Date(Number(signed.integratedTime) * 1000) : now;
  const chain = verifyCertificateChain(leaf, intermediates, trust.anchors, at);
  if (!chain.ok) return chain;
  const identity = checkIdentity(leaf, policy);
  if (!identity.ok) return identity;
  // Checked here, not by @sigstore/verify: it only looks at SCTs when it picks the certificate itself, and
  // the signer key is handed to it (see verifyWithKey), so its ctlogThreshold would never apply.
  const sct = verifyEmbeddedScts(leaf, chain.issuer, trust.anchors, now);
  return sct.ok ? { ...identity, note: sct.note } : sct;
};

export const checkBundleSignature = (
  sig: CosignBundleSignature,
  target: VerificationTarget,
  trust: PreparedCosignTrust,
  now: Date,
): SignatureCheck => {
  if (sig.tooLarge !== undefined)
    return {
      ok: false,
      reason: 'SignatureInvalid',
      message: `the bundle of ${sig.tooLarge} bytes was not read (larger than any real signature)`,
    };
  const parsed = parseBundle(sig.bytes);
  if (parsed && 'refused' in parsed)
    return { ok: false, reason: 'SignatureInvalid', message: parsed.refused };
  if (!parsed) return { ok: false, reason: 'SignatureInvalid', message: 'not a valid Sigstore bundle' };
  let entity: SignedEntity;
  try {
    entity = toSignedEntity(parsed.bundle);
  } catch (error) {
    return { ok: false, reason: 'SignatureInvalid', message: `bundle: ${(error as Error).message}` };
  }
  const signer = trust.keyless
    ? checkCertificate(parsed, entity, trust, now)
    : checkKeyed(parsed.bundle, entity, trust);
  if (!signer.ok) return signer;
  return checkStatement(parsed.bundle, target) ?? signer;
};
