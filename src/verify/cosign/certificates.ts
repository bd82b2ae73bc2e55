// Certificate-based cosign signers: the signing certificate must chain to a certificate authority of the
// trusted root, carry the codeSigning EKU, name the expected OIDC issuer (Fulcio extension, either OID)
// and a SAN matching the policy (exact, or an anchored regex). Pure functions over parsed certificates.
import { X509Certificate as NodeX509 } from 'node:crypto';
import { X509Certificate } from '@sigstore/core';
import type { TrustAnchors } from './trusted-root.ts';
import type { VerifyReason } from '../types.ts';

/** Fulcio's OIDC issuer extension: v1 holds the raw string, v2 a DER UTF8String. */
export const OID_FULCIO_ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';
export const OID_FULCIO_ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';
const EKU_CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
const MAX_CHAIN_DEPTH = 6;

export interface CertificateIdentityPolicy {
  readonly issuer: string;
  readonly subject?: string;
  readonly subjectRegex?: string;
}

export type CheckResult =
  | { readonly ok: true; readonly identity: string }
  | { readonly ok: false; readonly reason: VerifyReason; readonly message: string };

/** A verified chain: the leaf's identity and the certificate that issued it (for its SCTs). */
export type ChainCheck =
  | { readonly ok: true; readonly identity: string; readonly issuer: X509Certificate }
  | Extract<CheckResult, { readonly ok: false }>;

export const parseCertificates = (pem: string): X509Certificate[] =>
  (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((block) =>
    X509Certificate.parse(block),
  );

export const fulcioIssuer = (cert: X509Certificate): string | undefined => {
  const v2 = cert.extension(OID_FULCIO_ISSUER_V2);
  if (v2) return v2.valueObj.subs[0]?.value.toString('utf8') ?? v2.valueObj.value.toString('utf8');
  return cert.extension(OID_FULCIO_ISSUER_V1)?.value.toString('utf8');
};

const issuedBy = (cert: X509Certificate, issuer: X509Certificate): boolean => {
  if (!cert.issuer.equals(issuer.subject)) return false;
  try {
    return cert.verify(issuer);
  } catch {
    return false;
  }
};

/** The certificates from leaf to a trusted anchor, or undefined when no path exists. */
const buildPath = (
  leaf: X509Certificate,
  intermediates: readonly X509Certificate[],
  anchors: readonly X509Certificate[],
): X509Certificate[] | undefined => {
  const path = [leaf];
  let current = leaf;
  for (let depth = 0; depth < MAX_CHAIN_DEPTH; depth++) {
    const anchor = anchors.find((a) => issuedBy(current, a));
    if (anchor) return current.equals(anchor) ? path : [...path, anchor];
    const next = intermediates.find((i) => i.isCA && !path.some((p) => p.equals(i)) && issuedBy(current, i));
    if (!next) return undefined;
    path.push(next);
    current = next;
  }
  return undefined;
};

/** Chain to a CA of the trusted root valid at `at`, then validity of every certificate at `at`. */
export const verifyCertificateChain = (
  leaf: X509Certificate,
  intermediates: readonly X509Certificate[],
  anchors: TrustAnchors,
  at: Date,
): ChainCheck => {
  const eku = new NodeX509(leaf.root.toDER()).keyUsage ?? [];
  if (!eku.includes(EKU_CODE_SIGNING))
    return {
      ok: false,
      reason: 'UntrustedSigner',
      message: 'the signing certificate lacks the codeSigning usage',
    };
  let chained = false;
  for (const ca of anchors.certificateAuthorities) {
    const path = buildPath(leaf, intermediates, ca.certificates);
    if (!path) continue;
    chained = true;
    if (at < ca.validFor.start || at > ca.validFor.end) continue;
    const expired = path.find((c) => !c.validForDate(at));
    if (expired) {
      return {
        ok: false,
        reason: 'CertificateExpired',
        message: `certificate valid ${expired.notBefore.toISOString()} to ${expired.notAfter.toISOString()} was not valid at ${at.toISOString()}`,
      };
    }
    // A leaf that is itself an anchor is self-issued.
    return { ok: true, identity: leaf.subjectAltName ?? '', issuer: path[1] ?? leaf };
  }
  // A CA outside its validity window in the trusted root is not trusted for that time (as sigstore-go).
  return {
    ok: false,
    reason: 'UntrustedSigner',
    message: chained
      ? `the certificate authority it chains to is not trusted for ${at.toISOString()}`
      : 'the signing certificate does not chain to the trusted root',
  };
};

const anchored = (pattern: string): RegExp => new RegExp(`^(?:${pattern})$`);

/** Issuer (exact) and SAN (exact or anchored regex) as the policy names them. */
export const checkIdentity = (leaf: X509Certificate, policy: CertificateIdentityPolicy): CheckResult => {
  const issuer = fulcioIssuer(leaf);
  const san = leaf.subjectAltName;
  if (issuer !== policy.issuer)
    return {
      ok: false,
      reason: 'UntrustedSigner',
      message: `certificate issuer ${JSON.stringify(issuer ?? null)} is not ${JSON.stringify(policy.issuer)}`,
    };
  const matches =
    san !== undefined &&
    (policy.subject !== undefined
      ? san === policy.subject
      : anchored(policy.subjectRegex ?? '(?!)').test(san));
  if (!matches)
    return {
      ok: false,
      reason: 'UntrustedSigner',
      message: `certificate identity ${JSON.stringify(san ?? null)} does not match the policy`,
    };
  return { ok: true, identity: san };
};
