// Verifies Notary Project signatures of one target for one configured signer: the envelopes come
// fetched, the trust store and identities come as data, the clock is an argument; the only I/O is the
// revocation checker's (OCSP / CRL), given by the caller. Steps and levels follow
// trust-store-trust-policy.md as notation-go applies them: integrity (always enforced), authenticity
// (trust store + trusted identity), expiry, authentic timestamp, the payload descriptor, then revocation
// of a chain that leads to the trust store.
import type { SignatureFormat } from '../../api/artifact-verification.ts';
import type { NotationEnvelope, NotationTrust, SignerResult, VerifyReason } from '../types.ts';
import { parseCoseEnvelope } from './cose-envelope.ts';
import {
  formatSubject,
  isSubsetDN,
  parseTrustedIdentities,
  subjectForMatching,
  type TrustedIdentities,
} from './distinguished-name.ts';
import {
  COSE_MEDIA_TYPE,
  JWS_MEDIA_TYPE,
  MAX_ENVELOPE_BYTES,
  completeVerification,
  type VerifiedEnvelope,
} from './envelope.ts';
import { NotationError } from './errors.ts';
import { parseJwsEnvelope } from './jws-envelope.ts';
import { findTrustAnchor, parseTrustStore } from './trust-store.ts';
import { actionFor, revocationActionFor, type ValidationType } from './verification-level.ts';
import { verifyTimestamp, type VerifiedTimestamp } from './timestamp.ts';
import type { ChainRevocation, ChainRevocationResult } from './revocation/revocation.ts';
import { causeText, judgeOrFailAsync } from '../judge-each.ts';

/** notation verify's default is 100; a signer entry rarely has more than a handful. */
export const MAX_ENVELOPES = 50;

interface Outcome {
  readonly verified: boolean;
  readonly reason?: VerifyReason;
  readonly message: string;
  readonly format?: SignatureFormat;
  readonly identity?: string;
}

/** How far a failure got: an envelope that failed later says more about the signer. */
const SPECIFICITY: Readonly<Record<VerifyReason, number>> = {
  SignatureMissing: 0,
  RegistryError: 0,
  ThresholdNotMet: 0,
  SignatureInvalid: 1,
  UntrustedSigner: 2,
  CertificateExpired: 3,
  DigestMismatch: 4,
};

interface Policy {
  readonly identities: TrustedIdentities;
  readonly caStore: readonly Buffer[];
  /** tsaCertificates: signing-authority roots and TSA roots (one field in NotationTrust). */
  readonly tsaStore: readonly Buffer[];
}

const shortDigest = (digest: string): string => digest.replace(/^sha256:/, '').slice(0, 12);

const errorText = (error: unknown): string =>
  error instanceof NotationError
    ? `${error.code}: ${error.message}`
    : error instanceof Error
      ? error.message
      : String(error);

const integrity = (envelope: NotationEnvelope): VerifiedEnvelope => {
  const size = envelope.tooLarge ?? envelope.bytes.length;
  if (envelope.tooLarge !== undefined || size > MAX_ENVELOPE_BYTES)
    throw new NotationError('EnvelopeTooLarge', `envelope of ${size} bytes exceeds ${MAX_ENVELOPE_BYTES}`);
  if (envelope.mediaType === JWS_MEDIA_TYPE) return completeVerification(parseJwsEnvelope(envelope.bytes));
  if (envelope.mediaType === COSE_MEDIA_TYPE) return completeVerification(parseCoseEnvelope(envelope.bytes));
  throw new NotationError(
    'UnsupportedMediaType',
    `unsupported envelope media type ${JSON.stringify(envelope.mediaType)}`,
  );
};

/** One check's result under the level: undefined when it passed or was only logged. */
type Check = { type: ValidationType; failure?: string | undefined };

const authenticity = (verified: VerifiedEnvelope, policy: Policy): string | undefined => {
  const store = verified.signingScheme === 'notary.x509' ? policy.caStore : policy.tsaStore;
  const storeName = verified.signingScheme === 'notary.x509' ? 'CA' : 'signing-authority';
  if (store.length === 0)
    return `no ${storeName} certificates are configured for scheme ${verified.signingScheme}`;
  if (!findTrustAnchor(verified.chain, store))
    return `the certificate chain does not lead to the ${storeName} trust store`;
  return undefined;
};

const trustedIdentity = (verified: VerifiedEnvelope, identities: TrustedIdentities): string | undefined => {
  if (identities.wildcard) return undefined;
  const leaf = verified.chain[0];
  if (!leaf) return 'no signing certificate';
  try {
    const subject = subjectForMatching(leaf.subject);
    if (identities.subjects.some((trusted) => isSubsetDN(trusted, subject))) return undefined;
    return `signer ${JSON.stringify(formatSubject(leaf.subject))} is not one of the trusted identities`;
  } catch (error) {
    return errorText(error);
  }
};

const expiry = (verified: VerifiedEnvelope, now: Date): string | undefined =>
  verified.expiry && now.getTime() >= verified.expiry.getTime()
    ? `the signature expired at ${verified.expiry.toISOString()}`
    : undefined;

const validityFailure = (verified: VerifiedEnvelope, at: Date, when: string): string | undefined => {
  for (const cert of verified.chain) {
    const subject = JSON.stringify(formatSubject(cert.subject));
    if (at.getTime() < cert.notBefore.getTime())
      return `certificate ${subject} is not valid ${when}: valid from ${cert.notBefore.toISOString()}`;
    if (at.getTime() > cert.notAfter.getTime())
      return `certificate ${subject} is not valid ${when}: expired at ${cert.notAfter.toISOString()}`;
  }
  return undefined;
};

interface CheckResult {
  readonly failure?: string;
  readonly note?: string;
}

/**
 * notary.x509: the chain must be valid now; once a certificate has expired, an RFC 3161 countersignature
 * from a TSA in the TSA store may prove that the signature was made while the chain was valid
 * (notation's `verifyTimestamp: afterCertExpiry`). signingAuthority: valid at the authentic signing time.
 */
const authenticTimestamp = async (
  verified: VerifiedEnvelope,
  now: Date,
  tsaStore: readonly Buffer[],
  tsaRevocation: ChainRevocation | undefined,
): Promise<CheckResult> => {
  if (verified.signingScheme === 'notary.x509.signingAuthority') {
    const failure = validityFailure(
      verified,
      verified.signingTime,
      `at the authentic signing time ${verified.signingTime.toISOString()}`,
    );
    return failure ? { failure } : {};
  }
  const expired = verified.chain.some((cert) => now.getTime() > cert.notAfter.getTime());
  const token = verified.timestampSignature;
  if (!expired || !token || tsaStore.length === 0) {
    const failure = validityFailure(verified, now, 'now');
    if (!failure)
      return token ? { note: 'timestamp countersignature not needed (certificate chain valid now)' } : {};
    const hint = !token
      ? ''
      : tsaStore.length === 0
        ? ' (a timestamp countersignature is attached, but no TSA certificates are configured)'
        : '';
    return { failure: `${failure}${hint}` };
  }
  let stamp: VerifiedTimestamp;
  try {
    stamp = verifyTimestamp(token, verified.signature, tsaStore);
  } catch (error) {
    return { failure: `the certificate chain has expired and ${errorText(error)}` };
  }
  const range = `${stamp.earliest.toISOString()}…${stamp.latest.toISOString()}`;
  for (const cert of verified.chain) {
    if (
      stamp.earliest.getTime() < cert.notBefore.getTime() ||
      stamp.latest.getTime() > cert.notAfter.getTime()
    )
      return {
        failure: `timestamp ${range} is outside the validity of certificate ${JSON.stringify(formatSubject(cert.subject))}`,
      };
  }
  // As notation-go: a timestamp from a revoked (or unknown) TSA chain proves nothing.
  const tsaStatus = tsaRevocation ? await tsaRevocation.check(stamp.chain, { now }) : undefined;
  if (tsaStatus && tsaStatus.status !== 'ok')
    return { failure: `the timestamping chain: ${tsaStatus.details.join('; ')}` };
  const revocationNote = tsaStatus ? '' : ' (TSA chain revocation not checked)';
  return {
    note: `certificate chain expired, but timestamped by ${JSON.stringify(stamp.tsaSubject)} at ${range}, within its validity${revocationNote}`,
  };
};

const REASON: Readonly<Record<ValidationType, VerifyReason>> = {
  integrity: 'SignatureInvalid',
  authenticity: 'UntrustedSigner',
  expiry: 'CertificateExpired',
  authenticTimestamp: 'CertificateExpired',
  revocation: 'UntrustedSigner',
};

/** Revocation of a chain that leads to the trust store: a failure under enforce, or a note. */
const revocation = async (
  verified: VerifiedEnvelope,
  trust: NotationTrust,
  trusted: boolean,
  checker: ChainRevocation | undefined,
  now: Date,
): Promise<CheckResult> => {
  const action = revocationActionFor(trust);
  if (action === 'skip') return { note: 'revocation skipped (revocation: skip)' };
  if (!trusted) return { note: 'revocation not checked (the chain does not lead to the trust store)' };
  if (!checker) return { note: 'revocation not checked (no revocation checker)' };
  const result = await checker.check(verified.chain, {
    now,
    // As notation-go: the invalidity-date exception needs an authentic signing time.
    ...(verified.signingScheme === 'notary.x509.signingAuthority'
      ? { signingTime: verified.signingTime }
      : {}),
  });
  if (result.status === 'ok') return { note: 'not revoked' };
  const text = result.details.join('; ');
  return action === 'enforce' ? { failure: text } : { note: `revocation (logged): ${text}` };
};

const verifyEnvelope = async (
  envelope: NotationEnvelope,
  target: { mediaType: string; digest: string; size: number },
  policy: Policy,
  trust: NotationTrust,
  now: Date,
  checker: ChainRevocation | undefined,
): Promise<Outcome> => {
  const label = `signature ${shortDigest(envelope.signatureManifestDigest)}`;
  let verified: VerifiedEnvelope;
  try {
    verified = integrity(envelope);
  } catch (error) {
    return { verified: false, reason: 'SignatureInvalid', message: `${label}: ${errorText(error)}` };
  }
  const leaf = verified.chain[0];
  const base = { format: verified.format, ...(leaf ? { identity: formatSubject(leaf.subject) } : {}) };

  const authenticityFailure = authenticity(verified, policy) ?? trustedIdentity(verified, policy.identities);
  const timestampCheck = await authenticTimestamp(
    verified,
    now,
    policy.tsaStore,
    revocationActionFor(trust) === 'skip' ? undefined : checker,
  );
  const checks: Check[] = [
    { type: 'authenticity', failure: authenticityFailure },
    { type: 'expiry', failure: expiry(verified, now) },
    { type: 'authenticTimestamp', ...timestampCheck },
  ];
  const logged: string[] = [];
  for (const { type, failure } of checks) {
    if (failure === undefined) continue;
    if (actionFor(trust.level, type) === 'enforce')
      return { ...base, verified: false, reason: REASON[type], message: `${label}: ${type}: ${failure}` };
    logged.push(`${type} (logged at level ${trust.level}): ${failure}`);
  }

  const signed = verified.target;
  if (signed.digest !== target.digest || signed.mediaType !== target.mediaType || signed.size !== target.size)
    return {
      ...base,
      verified: false,
      reason: 'DigestMismatch',
      message: `${label}: signs ${signed.mediaType} ${signed.digest} (${signed.size} bytes), not the target ${target.mediaType} ${target.digest} (${target.size} bytes)`,
    };

  const revocationCheck = await revocation(verified, trust, authenticityFailure === undefined, checker, now);
  if (revocationCheck.failure !== undefined)
    return {
      ...base,
      verified: false,
      reason: REASON.revocation,
      message: `${label}: revocation: ${revocationCheck.failure}`,
    };
  const notes = [
    ...logged,
    ...(revocationCheck.note ? [revocationCheck.note] : []),
    ...(timestampCheck.note ? [timestampCheck.note] : []),
  ];
  return {
    ...base,
    verified: true,
    message: `${label} verified (${verified.signingScheme}, level ${trust.level}); ${notes.join('; ')}`,
  };
};

const loadPolicy = (trust: NotationTrust): Policy => ({
  identities: parseTrustedIdentities(trust.trustedIdentities),
  caStore: parseTrustStore(trust.caCertificates),
  tsaStore: parseTrustStore(trust.tsaCertificates),
});

const toResult = (trust: NotationTrust, outcome: Outcome): SignerResult => ({
  name: trust.name,
  type: 'notation',
  verified: outcome.verified,
  message: outcome.message,
  ...(outcome.format ? { format: outcome.format } : {}),
  ...(outcome.identity ? { identity: outcome.identity } : {}),
  ...(outcome.reason ? { reason: outcome.reason } : {}),
});

/**
 * Asks about each distinct chain once per verification: copies of one envelope under many signature
 * manifests (a registry can attach as many as it likes) must not multiply OCSP requests. A check that
 * throws is an unknown status.
 */
const oncePerChain = (checker: ChainRevocation): ChainRevocation => {
  const answers = new Map<string, Promise<ChainRevocationResult>>();
  return {
    check: (chain, options) => {
      const key = `${chain.map((cert) => cert.der.toString('base64')).join('.')}|${options.signingTime?.getTime() ?? ''}`;
      let answer = answers.get(key);
      // As notation-core-go: a check that fails outright is an unknown status, which the level decides.
      answer ??= Promise.resolve()
        .then(() => checker.check(chain, options))
        .catch((error: unknown): ChainRevocationResult => ({
          status: 'unknown',
          details: [`the revocation check failed (${causeText(error)})`],
        }));
      answers.set(key, answer);
      return answer;
    },
  };
};

/**
 * The signer verifies when any envelope verifies; otherwise the failure of the envelope that got
 * furthest (SignatureInvalid < UntrustedSigner < CertificateExpired < DigestMismatch) is reported.
 */
export const verifyNotation = async (
  target: { mediaType: string; digest: string; size: number },
  envelopes: readonly NotationEnvelope[],
  trust: NotationTrust,
  now: Date,
  revocationChecker?: ChainRevocation,
): Promise<SignerResult> => {
  if (envelopes.length === 0)
    return toResult(trust, {
      verified: false,
      reason: 'SignatureMissing',
      message: 'no Notary Project signature found',
    });
  let policy: Policy;
  try {
    policy = loadPolicy(trust);
  } catch (error) {
    return toResult(trust, {
      verified: false,
      reason: 'UntrustedSigner',
      message: `invalid notation trust policy: ${errorText(error)}`,
    });
  }
  let best: Outcome | undefined;
  const checker = revocationChecker ? oncePerChain(revocationChecker) : undefined;
  for (const envelope of envelopes.slice(0, MAX_ENVELOPES)) {
    const outcome = await judgeOrFailAsync(
      () => verifyEnvelope(envelope, target, policy, trust, now, checker),
      (cause): Outcome => ({
        verified: false,
        reason: 'SignatureInvalid',
        message: `signature ${shortDigest(envelope.signatureManifestDigest)}: could not be read (${cause})`,
      }),
    );
    if (outcome.verified) return toResult(trust, outcome);
    if (
      !best ||
      SPECIFICITY[outcome.reason ?? 'SignatureInvalid'] > SPECIFICITY[best.reason ?? 'SignatureInvalid']
    )
      best = outcome;
  }
  const skipped =
    envelopes.length > MAX_ENVELOPES
      ? ` (only the first ${MAX_ENVELOPES} of ${envelopes.length} signatures were tried)`
      : '';
  const failure = best ?? { verified: false, reason: 'SignatureInvalid', message: 'no signature verified' };
  return toResult(trust, { ...failure, message: `${failure.message}${skipped}` });
};
