// Notary Project JWS envelopes (signature-envelope-jws.md): flattened JSON serialization with a
// protected header (alg, cty, crit, io.cncf.notary.*), an unprotected header (x5c, timestamp token,
// signing agent), a base64url descriptor payload and signature over "protected.payload".
import { parseSignedJson } from '../signed-json.ts';
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
import { jwsAlgorithm } from './signature-algorithm.ts';

const malformed = (what: string): NotationError =>
  new NotationError('MalformedEnvelope', `JWS envelope: ${what}`);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const base64url = (value: unknown, field: string): Buffer => {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]*$/.test(value))
    throw malformed(`${field} is not base64url`);
  return Buffer.from(value, 'base64url');
};

/** Go decodes []byte JSON fields as standard, padded base64. */
const base64 = (value: unknown, field: string): Buffer => {
  if (
    typeof value !== 'string' ||
    !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(value)
  )
    throw malformed(`${field} is not base64`);
  return Buffer.from(value, 'base64');
};

/** RFC 3339 date-time, as Go's time.Time unmarshals it. */
const time = (value: unknown, field: string): Date | undefined => {
  if (value === undefined) return undefined;
  if (
    typeof value !== 'string' ||
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(value)
  )
    throw new NotationError('InvalidSigningTime', `${field} is not an RFC 3339 time`);
  const date = new Date(value);
  if (Number.isNaN(date.getTime()))
    throw new NotationError('InvalidSigningTime', `${field} is not a valid time`);
  return date;
};

/** notation-core-go's jwsProtectedHeader fields. */
const PROTECTED_HEADER_FIELDS = [
  'alg',
  'cty',
  'crit',
  'io.cncf.notary.signingScheme',
  'io.cncf.notary.signingTime',
  'io.cncf.notary.expiry',
  'io.cncf.notary.authenticSigningTime',
  'io.cncf.notary.verificationPlugin',
  'io.cncf.notary.verificationPluginMinVersion',
];

const parseJson = (text: string, what: string): unknown => {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new NotationError('MalformedEnvelope', `JWS envelope: ${what} is not JSON`, { cause });
  }
};

export const parseJwsEnvelope = (bytes: Buffer): ParsedEnvelope => {
  const envelope = parseJson(bytes.toString('utf8'), 'the envelope');
  if (!isRecord(envelope)) throw malformed('not a JSON object');
  if ('signatures' in envelope)
    throw malformed('general JSON serialization is not supported, only flattened');
  const protectedB64 = envelope.protected;
  const payloadB64 = envelope.payload;
  const protectedBytes = base64url(protectedB64, 'protected');
  const payload = base64url(payloadB64, 'payload');
  const signature = base64url(envelope.signature, 'signature');
  if (signature.length === 0) throw malformed('the signature is empty');
  const unprotected = envelope.header;
  if (!isRecord(unprotected)) throw malformed('the unprotected header is missing');

  // The protected header is signed and notation-core-go decodes it with Go's encoding/json into a struct.
  const signedHeader = parseSignedJson(protectedBytes.toString('utf8'), PROTECTED_HEADER_FIELDS);
  if (!signedHeader.ok) throw malformed(`the protected header: ${signedHeader.message}`);
  const header = signedHeader.value;
  if (!isRecord(header)) throw malformed('the protected header is not an object');
  const algorithm = jwsAlgorithm(header.alg);
  if (!algorithm)
    throw new NotationError('UnsupportedAlgorithm', `unsupported alg ${JSON.stringify(header.alg)}`);
  if (header.cty !== PAYLOAD_CONTENT_TYPE)
    throw new NotationError(
      'InvalidPayload',
      `content type ${JSON.stringify(header.cty)} is not ${PAYLOAD_CONTENT_TYPE}`,
    );
  if (HEADER.verificationPlugin in header || HEADER.verificationPluginMinVersion in header)
    throw new NotationError(
      'VerificationPluginRequired',
      `the signature requires verification plugin ${JSON.stringify(header[HEADER.verificationPlugin])}`,
    );
  const scheme = signingScheme(header[HEADER.signingScheme]);
  const expiry = time(header[HEADER.expiry], HEADER.expiry);
  if (header.crit !== undefined && !Array.isArray(header.crit)) throw malformed('crit is not an array');
  checkCritical(
    (header.crit as unknown[] | undefined) ?? [],
    (name) => name in header,
    scheme,
    expiry !== undefined,
  );
  const signingTime = checkTimes(
    scheme,
    time(header[HEADER.signingTime], HEADER.signingTime),
    time(header[HEADER.authenticSigningTime], HEADER.authenticSigningTime),
    expiry,
  );

  const x5c = unprotected.x5c;
  if (!Array.isArray(x5c)) throw malformed('x5c is missing');
  if (x5c.length > MAX_CHAIN_LENGTH)
    throw new NotationError('EnvelopeTooLarge', `x5c has more than ${MAX_CHAIN_LENGTH} certificates`);
  const agent = unprotected[HEADER.signingAgent];
  const timestamp = unprotected[HEADER.timestampSignature];
  return {
    format: 'notation-jws',
    algorithm,
    signingScheme: scheme,
    signingTime,
    expiry,
    certificates: x5c.map((cert: unknown, i) => base64(cert, `x5c[${i}]`)),
    signingInput: Buffer.from(`${protectedB64 as string}.${payloadB64 as string}`, 'ascii'),
    signature,
    payload,
    timestampSignature: timestamp === undefined ? undefined : base64(timestamp, HEADER.timestampSignature),
    signingAgent: typeof agent === 'string' ? agent : undefined,
  };
};
