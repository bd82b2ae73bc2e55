// Notary Project COSE envelopes (signature-envelope-cose.md): a tagged COSE_Sign1 (tag 18) whose
// protected header carries alg (1), crit (2), content type (3) and the io.cncf.notary.* times as
// tag-1 epoch dates; x5chain (33) sits in the unprotected (or protected) header. The signature covers
// the CBOR Sig_structure ["Signature1", protected, h'', payload].
import { decodeCbor, encodeCbor, isCborMap, isTagged, type CborKey, type CborValue } from './cbor.ts';
import { MAX_CHAIN_LENGTH } from './certificate.ts';
import { NotationError } from './errors.ts';
import {
  HEADER,
  PAYLOAD_CONTENT_TYPE,
  checkCritical,
  checkTimes,
  signingScheme,
  type ParsedEnvelope,
} from './envelope.ts';
import { coseAlgorithm } from './signature-algorithm.ts';

const COSE_SIGN1_TAG = 18;
const LABEL = { alg: 1, crit: 2, contentType: 3, x5chain: 33 } as const;

const malformed = (what: string): NotationError =>
  new NotationError('MalformedEnvelope', `COSE envelope: ${what}`);

/** An RFC 8949 epoch date (tag 1), the only time form the spec allows. */
const epochTime = (value: CborValue, field: string): Date | undefined => {
  if (value === undefined) return undefined;
  if (!isTagged(value) || value.tag !== 1 || typeof value.value !== 'number' || !Number.isFinite(value.value))
    throw new NotationError('InvalidSigningTime', `${field} is not a tag-1 epoch date`);
  return new Date(value.value * 1000);
};

const certificateChain = (value: CborValue): Buffer[] => {
  if (Buffer.isBuffer(value)) return [value];
  if (!Array.isArray(value)) throw malformed('x5chain is missing');
  if (value.length > MAX_CHAIN_LENGTH)
    throw new NotationError('EnvelopeTooLarge', `x5chain has more than ${MAX_CHAIN_LENGTH} certificates`);
  return value.map((cert: CborValue) => {
    if (!Buffer.isBuffer(cert)) throw malformed('x5chain entries must be byte strings');
    return cert;
  });
};

export const parseCoseEnvelope = (bytes: Buffer): ParsedEnvelope => {
  const message = decodeCbor(bytes);
  if (!isTagged(message) || message.tag !== COSE_SIGN1_TAG)
    throw malformed('not a tagged COSE_Sign1 (tag 18)');
  const parts = message.value;
  if (!Array.isArray(parts) || parts.length !== 4) throw malformed('COSE_Sign1 must be an array of 4');
  const [protectedRaw, unprotected, payload, signature] = parts as CborValue[];
  if (!Buffer.isBuffer(protectedRaw) || protectedRaw.length === 0)
    throw malformed('the protected header is empty');
  if (!unprotected || !isCborMap(unprotected)) throw malformed('the unprotected header is not a map');
  if (!Buffer.isBuffer(payload)) throw malformed('detached or missing payload');
  if (!Buffer.isBuffer(signature) || signature.length === 0) throw malformed('the signature is empty');
  const header = decodeCbor(protectedRaw);
  if (!isCborMap(header)) throw malformed('the protected header is not a map');
  for (const key of header.keys())
    if (unprotected.has(key)) throw malformed(`header ${String(key)} is both protected and unprotected`);
  const get = (label: CborKey): CborValue => header.get(label);

  const algorithm = coseAlgorithm(get(LABEL.alg));
  if (!algorithm)
    throw new NotationError(
      'UnsupportedAlgorithm',
      `unsupported alg ${JSON.stringify(get(LABEL.alg)) ?? 'none'}`,
    );
  if (get(LABEL.contentType) !== PAYLOAD_CONTENT_TYPE)
    throw new NotationError(
      'InvalidPayload',
      `content type ${JSON.stringify(get(LABEL.contentType))} is not ${PAYLOAD_CONTENT_TYPE}`,
    );
  if (header.has(HEADER.verificationPlugin) || header.has(HEADER.verificationPluginMinVersion))
    throw new NotationError('VerificationPluginRequired', 'the signature requires a verification plugin');
  const scheme = signingScheme(get(HEADER.signingScheme));
  const expiry = epochTime(get(HEADER.expiry), HEADER.expiry);
  const crit = get(LABEL.crit);
  if (crit !== undefined && !Array.isArray(crit)) throw malformed('crit is not an array');
  checkCritical(
    (crit as CborValue[] | undefined) ?? [],
    (name) => header.has(name),
    scheme,
    expiry !== undefined,
  );
  const signingTime = checkTimes(
    scheme,
    epochTime(get(HEADER.signingTime), HEADER.signingTime),
    epochTime(get(HEADER.authenticSigningTime), HEADER.authenticSigningTime),
    expiry,
  );

  const timestamp = unprotected.get(HEADER.timestampSignature);
  if (timestamp !== undefined && !Buffer.isBuffer(timestamp))
    throw malformed('the timestamp signature is not a byte string');
  const agent = unprotected.get(HEADER.signingAgent);
  return {
    format: 'notation-cose',
    algorithm,
    signingScheme: scheme,
    signingTime,
    expiry,
    certificates: certificateChain(header.get(LABEL.x5chain) ?? unprotected.get(LABEL.x5chain)),
    signingInput: encodeCbor(['Signature1', protectedRaw, Buffer.alloc(0), payload]),
    signature,
    payload,
    timestampSignature: timestamp,
    signingAgent: typeof agent === 'string' ? agent : undefined,
  };
};
