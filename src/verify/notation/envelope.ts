// What both envelope formats (JWS, COSE_Sign1) yield once their integrity is established: the signed
// attributes, the certificate chain and the target descriptor. The steps shared by the two formats
// (size limits, the chain, alg against the key, the signature itself, the payload) live here.
import { parseSignedJson } from '../signed-json.ts';
import {
  parseCertificate,
  keySignatureAlgorithm,
  validateCodeSigningChain,
  MAX_CHAIN_LENGTH,
  type SigningCertificate,
} from './certificate.ts';
import { NotationError } from './errors.ts';
import { verifySignature, type SignatureAlgorithm } from './signature-algorithm.ts';

export type NotationEnvelopeFormat = 'notation-jws' | 'notation-cose';
export type SigningScheme = 'notary.x509' | 'notary.x509.signingAuthority';

export const JWS_MEDIA_TYPE = 'application/jose+json';
export const COSE_MEDIA_TYPE = 'application/cose';
export const PAYLOAD_CONTENT_TYPE = 'application/vnd.cncf.notary.payload.v1+json';

/** notation itself accepts up to 32 MiB; real envelopes are a few KiB (a chain and a timestamp token). */
export const MAX_ENVELOPE_BYTES = 1024 * 1024;

export const HEADER = {
  signingScheme: 'io.cncf.notary.signingScheme',
  signingTime: 'io.cncf.notary.signingTime',
  authenticSigningTime: 'io.cncf.notary.authenticSigningTime',
  expiry: 'io.cncf.notary.expiry',
  verificationPlugin: 'io.cncf.notary.verificationPlugin',
  verificationPluginMinVersion: 'io.cncf.notary.verificationPluginMinVersion',
  timestampSignature: 'io.cncf.notary.timestampSignature',
  signingAgent: 'io.cncf.notary.signingAgent',
} as const;

/** Extended headers this verifier understands and may therefore see in crit. */
export const UNDERSTOOD_CRITICAL: ReadonlySet<string> = new Set([
  HEADER.signingScheme,
  HEADER.signingTime,
  HEADER.authenticSigningTime,
  HEADER.expiry,
]);

export interface TargetDescriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
}

export interface VerifiedEnvelope {
  readonly format: NotationEnvelopeFormat;
  readonly algorithm: SignatureAlgorithm;
  readonly signingScheme: SigningScheme;
  /** signingTime (notary.x509, untrusted) or authenticSigningTime (signingAuthority). */
  readonly signingTime: Date;
  readonly expiry?: Date;
  /** Leaf first. */
  readonly chain: readonly SigningCertificate[];
  readonly target: TargetDescriptor;
  /** The signature value, which an RFC 3161 countersignature timestamps. */
  readonly signature: Buffer;
  /** The RFC 3161 TimeStampToken of io.cncf.notary.timestampSignature, if any. */
  readonly timestampSignature?: Buffer;
  readonly signingAgent?: string;
}

/** The signed attributes and material a format parser extracts before the shared checks. */
export interface ParsedEnvelope {
  readonly format: NotationEnvelopeFormat;
  readonly algorithm: SignatureAlgorithm;
  readonly signingScheme: SigningScheme;
  readonly signingTime: Date;
  readonly expiry: Date | undefined;
  readonly certificates: readonly Buffer[];
  readonly signingInput: Buffer;
  readonly signature: Buffer;
  readonly payload: Buffer;
  readonly timestampSignature: Buffer | undefined;
  readonly signingAgent: string | undefined;
}

export const signingScheme = (value: unknown): SigningScheme => {
  if (value === 'notary.x509' || value === 'notary.x509.signingAuthority') return value;
  throw new NotationError('InvalidSigningScheme', `unsupported signing scheme ${JSON.stringify(value)}`);
};

/** The time rules both formats share (signature-specification.md, signed attributes). */
export const checkTimes = (
  scheme: SigningScheme,
  signingTime: Date | undefined,
  authentic: Date | undefined,
  expiry: Date | undefined,
): Date => {
  if (scheme === 'notary.x509' && authentic)
    throw new NotationError(
      'InvalidSigningTime',
      `${HEADER.authenticSigningTime} must not be present for notary.x509`,
    );
  if (scheme === 'notary.x509.signingAuthority' && signingTime)
    throw new NotationError(
      'InvalidSigningTime',
      `${HEADER.signingTime} must not be present for notary.x509.signingAuthority`,
    );
  const time = scheme === 'notary.x509' ? signingTime : authentic;
  if (!time) throw new NotationError('InvalidSigningTime', 'the signing time is missing');
  if (expiry && expiry.getTime() <= time.getTime())
    throw new NotationError('InvalidSigningTime', 'expiry must be after the signing time');
  return time;
};

/** crit must name signingScheme, expiry when present, authenticSigningTime for signingAuthority; nothing unknown. */
export const checkCritical = (
  crit: readonly unknown[],
  present: (label: string) => boolean,
  scheme: SigningScheme,
  hasExpiry: boolean,
): void => {
  if (crit.length === 0) throw new NotationError('CriticalHeaderMismatch', 'crit is missing or empty');
  const required = [HEADER.signingScheme as string];
  if (hasExpiry) required.push(HEADER.expiry);
  if (scheme === 'notary.x509.signingAuthority') required.push(HEADER.authenticSigningTime);
  for (const label of crit) {
    const name = typeof label === 'number' ? String(label) : label;
    if (typeof name !== 'string')
      throw new NotationError('MalformedEnvelope', 'crit entries must be strings or integers');
    if (!UNDERSTOOD_CRITICAL.has(name))
      throw new NotationError(
        'UnknownCriticalHeader',
        `critical header ${JSON.stringify(name)} is not understood`,
      );
    if (!present(name))
      throw new NotationError('CriticalHeaderMismatch', `critical header ${JSON.stringify(name)} is absent`);
  }
  const missing = required.filter((name) => !crit.includes(name));
  if (missing.length > 0)
    throw new NotationError(
      'CriticalHeaderMismatch',
      `headers that must be critical are not: ${missing.join(', ')}`,
    );
};

/** What notation-go decodes of the payload (Go's encoding/json, case-insensitively, into ocispec.Descriptor). */
const PAYLOAD_FIELDS = [
  'targetArtifact',
  'mediaType',
  'digest',
  'size',
  'annotations',
  'urls',
  'platform',
  'artifactType',
  'data',
];

const parseTarget = (payload: Buffer): TargetDescriptor => {
  const signed = parseSignedJson(payload.toString('utf8'), PAYLOAD_FIELDS);
  if (!signed.ok) throw new NotationError('InvalidPayload', signed.message);
  const parsed = signed.value;
  const target = (parsed as { targetArtifact?: unknown } | null)?.targetArtifact as
    Record<string, unknown> | undefined;
  const { mediaType, digest, size } = target ?? {};
  if (
    typeof mediaType !== 'string' ||
    typeof digest !== 'string' ||
    typeof size !== 'number' ||
    !Number.isSafeInteger(size) ||
    size < 0
  )
    throw new NotationError('InvalidPayload', 'the payload has no targetArtifact {mediaType, digest, size}');
  return { mediaType, digest, size };
};

/** Chain rules, alg against the key, the signature, then the payload: integrity as the spec defines it. */
export const completeVerification = (parsed: ParsedEnvelope): VerifiedEnvelope => {
  if (parsed.certificates.length === 0)
    throw new NotationError('InvalidCertificateChain', 'the certificate chain is empty');
  if (parsed.certificates.length > MAX_CHAIN_LENGTH)
    throw new NotationError('EnvelopeTooLarge', `more than ${MAX_CHAIN_LENGTH} certificates`);
  const chain = parsed.certificates.map(parseCertificate);
  validateCodeSigningChain(chain);
  const leaf = chain[0] as SigningCertificate;
  const expected = keySignatureAlgorithm(leaf);
  if (expected !== parsed.algorithm)
    throw new NotationError(
      'AlgorithmMismatch',
      `alg ${parsed.algorithm} does not match the signing key (${expected})`,
    );
  const pssSalt = parsed.format === 'notation-jws' ? 'auto' : 'digest';
  if (!verifySignature(parsed.algorithm, leaf.x509.publicKey, parsed.signingInput, parsed.signature, pssSalt))
    throw new NotationError(
      'SignatureMismatch',
      'the signature does not verify with the signing certificate',
    );
  if (parsed.payload.length === 0) throw new NotationError('InvalidPayload', 'the payload is empty');
  return {
    format: parsed.format,
    algorithm: parsed.algorithm,
    signingScheme: parsed.signingScheme,
    signingTime: parsed.signingTime,
    ...(parsed.expiry ? { expiry: parsed.expiry } : {}),
    chain,
    target: parseTarget(parsed.payload),
    signature: parsed.signature,
    ...(parsed.timestampSignature?.length ? { timestampSignature: parsed.timestampSignature } : {}),
    ...(parsed.signingAgent !== undefined ? { signingAgent: parsed.signingAgent } : {}),
  };
};
