// Certificate-based cosign signers: the signing certificate must chain to a certificate authority of the
// trusted root, carry the codeSigning EKU, name the expected OIDC issuer (Fulcio extension, either OID)
// and a SAN matching the policy (exact, or an anchored RE2 regex). Pure functions over parsed certificates.
import { X509Certificate as NodeX509 } from 'node:crypto';
import { X509Certificate } from '@sigstore/core';
import { compileRe2, Re2PatternError, type Re2Pattern } from '../../re2-pattern.ts';
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
  /** subjectRegex compiled once by prepareIdentityPolicy; compiled on each check when absent. */
  readonly subjectPattern?: Re2Pattern;
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
    return { ok: true, identity: identityOf(leaf) ?? '', issuer: path[1] ?? leaf };
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

const OID_SUBJECT_ALT_NAME = '2.5.29.17';
const GENERAL_NAME_RFC822 = 0x01;
const GENERAL_NAME_DNS = 0x02;
const GENERAL_NAME_URI = 0x06;
// A URI Go's url.Parse reads and url.String writes back byte for byte: lower-case scheme, an authority of a
// plain host and port (userinfo and `%` there are re-encoded), RFC 3986 characters with `%` only before two
// hex digits, no fragment (a second `#` is re-encoded). Plain scanners, no backtracking.
const URI_SCHEME = /^[a-z][a-z0-9+.-]*:/;
const URI_AUTHORITY = /^[A-Za-z0-9.-]*(?::[0-9]*)?$/;
const URI_PATH_CHARS = /^(?:[A-Za-z0-9\-._~:/?@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$/;

const roundTripsThroughGoUrl = (uri: string): boolean => {
  const scheme = URI_SCHEME.exec(uri);
  if (!scheme) return false;
  let rest = uri.slice(scheme[0].length);
  if (rest.startsWith('//')) {
    const end = rest.slice(2).search(/[/?]/);
    const authority = end === -1 ? rest.slice(2) : rest.slice(2, 2 + end);
    if (!URI_AUTHORITY.test(authority)) return false;
    rest = rest.slice(2 + authority.length);
  }
  return URI_PATH_CHARS.test(rest);
};

/**
 * The SAN identity as cosign and sigstore-go read it: the first URI, else the first e-mail. Go's x509
 * refuses a certificate whose SAN has a byte >= 0x80 (Node's 'ascii' decoding would drop the high bit and
 * let `acm\xe5` read as `acme`), and sigstore-go matches the URI as url.String() re-encodes it; a SAN those
 * could read otherwise is no identity at all.
 */
const identityOf = (leaf: X509Certificate): string | undefined => {
  const names = leaf.extension(OID_SUBJECT_ALT_NAME)?.valueObj.subs[0]?.subs ?? [];
  const ia5 = [GENERAL_NAME_RFC822, GENERAL_NAME_DNS, GENERAL_NAME_URI];
  const notIa5 = names.some(
    (n) => ia5.some((tag) => n.tag.isContextSpecific(tag)) && n.value.some((byte) => byte >= 0x80),
  );
  const uri = names.find((n) => n.tag.isContextSpecific(GENERAL_NAME_URI));
  const chosen = uri ?? names.find((n) => n.tag.isContextSpecific(GENERAL_NAME_RFC822));
  if (!chosen || notIa5) return undefined;
  const value = chosen.value.toString('latin1');
  return uri && !roundTripsThroughGoUrl(value) ? undefined : value;
};

/** RE2, or undefined when RE2 refuses it (the trust policy refused it already; nothing matches). */
const compileSubjectRegex = (pattern: string): Re2Pattern | undefined => {
  try {
    return compileRe2(pattern);
  } catch (error) {
    if (error instanceof Re2PatternError) return undefined;
    throw error;
  }
};

/** The policy with its subjectRegex compiled, once per signer entry rather than once per signature. */
export const prepareIdentityPolicy = (policy: CertificateIdentityPolicy): CertificateIdentityPolicy => {
  const subjectPattern =
    policy.subjectRegex === undefined ? undefined : compileSubjectRegex(policy.subjectRegex);
  return subjectPattern ? { ...policy, subjectPattern } : policy;
};

const subjectPatternOf = (policy: CertificateIdentityPolicy): Re2Pattern | undefined =>
  policy.subjectPattern ??
  (policy.subjectRegex === undefined ? undefined : compileSubjectRegex(policy.subjectRegex));

/** Issuer (exact) and SAN (exact, or an RE2 full match as cosign's `--certificate-identity-regexp
 *  '^(?:p)$'`) as the policy names them. */
export const checkIdentity = (leaf: X509Certificate, policy: CertificateIdentityPolicy): CheckResult => {
  const issuer = fulcioIssuer(leaf);
  const san = identityOf(leaf);
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
      : subjectPatternOf(policy)?.matchesWhole(san) === true);
  if (!matches)
    return {
      ok: false,
      reason: 'UntrustedSigner',
      message:
        san === undefined
          ? 'the certificate has no SAN URI or e-mail that Go reads as it is written'
          : `certificate identity ${JSON.stringify(san)} does not match the policy`,
    };
  return { ok: true, identity: san };
};
