// Cosign legacy signatures (`sha256-<hex>.sig`): the signature annotation over the simple-signing payload,
// by a trusted key or by a certificate chaining to the trusted root with the expected identity (and an
// embedded SCT from a CT log of the trusted root, when it lists any); the Rekor
// SET checked offline when present (and required when the policy says so); the payload's
// docker-manifest-digest must be the digest under test, so a signature never validates another artifact.
import type { X509Certificate } from '@sigstore/core';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { causeText } from '../judge-each.ts';
import type { CosignLegacySignature, VerificationTarget } from '../types.ts';
import { verifyRawSignature } from './public-keys.ts';
import { checkIdentity, verifyCertificateChain } from './certificates.ts';
import { readPemCertificates } from './signature-certificates.ts';
import { verifyEmbeddedScts } from './certificate-transparency.ts';
import { verifyRekorBundle } from './rekor-set.ts';
import { parseSimpleSigning } from './simple-signing.ts';
import { MAX_CHAIN_CERTIFICATES, type PreparedCosignTrust, type SignatureCheck } from './prepared-trust.ts';

const PEM_CERTIFICATE_START = /-----BEGIN CERTIFICATE-----/g;

const claimsTarget = (sig: CosignLegacySignature, target: VerificationTarget): SignatureCheck | undefined => {
  const claim = parseSimpleSigning(sig.payload);
  if (!claim.ok) return { ok: false, reason: 'SignatureInvalid', message: claim.message };
  if (claim.digest !== target.digest)
    return {
      ok: false,
      reason: 'DigestMismatch',
      message: `the signature is for ${claim.digest}, not ${target.digest}`,
    };
  return undefined;
};

const checkKeyed = (
  sig: CosignLegacySignature,
  signature: Buffer,
  target: VerificationTarget,
  trust: PreparedCosignTrust,
): SignatureCheck => {
  const key = trust.keys.find((k) => verifyRawSignature(k.key, sig.payload, signature));
  // A legacy signature names no key: a signature by another key and an altered payload look alike. The
  // first (an attacker re-signing with their own key) is the threat that matters, hence UntrustedSigner.
  if (!key)
    return {
      ok: false,
      reason: 'UntrustedSigner',
      message:
        'the signature does not verify with any trusted key (signed by another key, or the payload was altered)',
    };
  if (sig.rekorBundle !== undefined || trust.requireTransparencyLog) {
    if (sig.rekorBundle === undefined)
      return {
        ok: false,
        reason: 'SignatureInvalid',
        message: 'no transparency log entry, and the policy requires one',
      };
    const rekor = verifyRekorBundle(sig.rekorBundle, trust.anchors, signature, sig.payload, key.key);
    if (!rekor.ok) return { ok: false, reason: 'SignatureInvalid', message: rekor.message };
  }
  return claimsTarget(sig, target) ?? { ok: true, identity: key.fingerprint };
};

const checkCertificate = (
  sig: CosignLegacySignature,
  signature: Buffer,
  target: VerificationTarget,
  trust: PreparedCosignTrust,
  now: Date,
): SignatureCheck => {
  const policy = trust.keyless;
  if (!policy) return { ok: false, reason: 'UntrustedSigner', message: 'no keyless identity configured' };
  if (sig.certificate === undefined)
    return { ok: false, reason: 'UntrustedSigner', message: 'the signature carries no certificate' };
  const chainLength = sig.chain?.match(PEM_CERTIFICATE_START)?.length ?? 0;
  if (chainLength > MAX_CHAIN_CERTIFICATES)
    return {
      ok: false,
      reason: 'SignatureInvalid',
      message: `the certificate chain has ${chainLength} certificates, more than ${MAX_CHAIN_CERTIFICATES}`,
    };
  let leaf: X509Certificate;
  let intermediates: X509Certificate[];
  let leafKey: KeyObject;
  try {
    // As cosign: the first certificate of the annotation is the signer's.
    [leaf] = readPemCertificates(sig.certificate) as [X509Certificate];
    intermediates = sig.chain !== undefined ? readPemCertificates(sig.chain) : [];
    // node:crypto reads the key itself: a key algorithm it does not know is a certificate it cannot use.
    leafKey = createPublicKey({ key: leaf.publicKey, format: 'der', type: 'spki' });
  } catch (error) {
    return {
      ok: false,
      reason: 'SignatureInvalid',
      message: `the signing certificate or its chain does not parse (${causeText(error)})`,
    };
  }
  if (!verifyRawSignature(leafKey, sig.payload, signature))
    return {
      ok: false,
      reason: 'SignatureInvalid',
      message: 'the signature does not verify with its certificate',
    };
  let at = now;
  if (sig.rekorBundle !== undefined || trust.requireTransparencyLog) {
    if (sig.rekorBundle === undefined)
      return {
        ok: false,
        reason: 'SignatureInvalid',
        message: 'no transparency log entry, and the policy requires one',
      };
    const rekor = verifyRekorBundle(sig.rekorBundle, trust.anchors, signature, sig.payload, leafKey);
    if (!rekor.ok) return { ok: false, reason: 'SignatureInvalid', message: rekor.message };
    // A short-lived Fulcio certificate must have been valid when the log saw the signature.
    at = rekor.integratedTime;
  }
  const chain = verifyCertificateChain(leaf, intermediates, trust.anchors, at);
  if (!chain.ok) return chain;
  const identity = checkIdentity(leaf, policy);
  if (!identity.ok) return identity;
  const sct = verifyEmbeddedScts(leaf, chain.issuer, trust.anchors, now);
  if (!sct.ok) return sct;
  return claimsTarget(sig, target) ?? { ...identity, note: sct.note };
};

export const checkLegacySignature = (
  sig: CosignLegacySignature,
  target: VerificationTarget,
  trust: PreparedCosignTrust,
  now: Date,
): SignatureCheck => {
  if (sig.tooLarge !== undefined)
    return {
      ok: false,
      reason: 'SignatureInvalid',
      message: `the signed payload of ${sig.tooLarge} bytes was not read (larger than any real signature)`,
    };
  const signature = Buffer.from(sig.signature, 'base64');
  if (signature.length === 0)
    return { ok: false, reason: 'SignatureInvalid', message: 'empty signature annotation' };
  return trust.keyless
    ? checkCertificate(sig, signature, target, trust, now)
    : checkKeyed(sig, signature, target, trust);
};
