// Verifies one Helm provenance file against a keyring, the archive bytes the caller fetched and the chart it
// expects. Pure (the clock is an argument) and total: hostile bytes give a result with a coded reason, never
// an exception. The cryptography is openpgp.js; the order of the checks makes each reason say what failed.
import { createHash } from 'node:crypto';
import {
  createMessage,
  enums,
  LiteralDataPacket,
  readCleartextMessage,
  readSignature,
  verify,
  type PublicKey,
  type Signature,
  type SignaturePacket,
  type Subkey,
} from 'openpgp';
import type { VerifyReason } from '../types.ts';
import { causeText, judgeOrFailAsync } from '../judge-each.ts';
import { parseProvenance, type ParsedProvenance, type ProvenanceHash } from './parse-provenance.ts';
import type { ProvenanceKeyring } from './provenance-keyring.ts';
import {
  ProvenanceError,
  type ExpectedChart,
  type ProvenanceReason,
  type ProvenanceResult,
  type SignedChart,
} from './provenance-types.ts';

export interface ProvenanceCheck {
  /** The policy entry's name, for the result. */
  readonly name: string;
  /** The `.prov` file as fetched. */
  readonly provenance: Uint8Array;
  /**
   * The chart archive as fetched (its SHA-256 must be the signed one), or only that digest, `sha256:<hex>`,
   * when the bytes are content-addressed elsewhere (an OCI chart layer, whose digest helm and Flux check).
   */
  readonly archive: Uint8Array | { readonly digest: string };
  readonly expected: ExpectedChart;
  readonly keyring: ProvenanceKeyring;
  readonly now: Date;
}

const HASH_ALGORITHMS: Readonly<Record<ProvenanceHash, enums.hash>> = {
  SHA256: enums.hash.sha256,
  SHA384: enums.hash.sha384,
  SHA512: enums.hash.sha512,
};

const fail = (reason: ProvenanceReason, message: string): never => {
  throw new ProvenanceError(reason, message);
};

type SigningKey = PublicKey | Subkey;

interface Candidate {
  readonly key: PublicKey;
  readonly signingKey: SigningKey;
}

const readOneSignature = async (
  parsed: ParsedProvenance,
): Promise<{ packet: SignaturePacket; created: Date }> => {
  let signature: Signature;
  try {
    signature = await readSignature({ binarySignature: parsed.signature });
  } catch (error) {
    return fail('ProvenanceMalformed', `the signature packet does not parse (${causeText(error)})`);
  }
  const [packet, ...more] = signature.packets;
  if (packet === undefined || more.length > 0)
    return fail('ProvenanceMalformed', 'not exactly one signature');
  // helm (x/crypto) hashes a clear-signed text as canonical text; a binary-type signature over the same
  // bytes would be hashed differently by the two.
  if (packet.signatureType !== enums.signature.text)
    fail('ProvenanceMalformed', 'the signature is not a text signature');
  if (packet.version !== 4)
    fail('ProvenanceMalformed', `a version ${packet.version} signature (helm reads 4)`);
  if (packet.hashAlgorithm !== HASH_ALGORITHMS[parsed.hash])
    fail('ProvenanceMalformed', `the signature's hash is not the ${parsed.hash} its Hash header names`);
  if (packet.created === null) fail('ProvenanceMalformed', 'the signature has no creation time');
  return { packet, created: packet.created ?? new Date(0) };
};

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((byte, i) => byte === b[i]);

/** Keyring keys holding the issuer key id (and fingerprint, when the signature names one). */
const candidatesFor = (packet: SignaturePacket, keyring: ProvenanceKeyring): Candidate[] =>
  keyring.keys.flatMap((key) =>
    key
      .getKeys(packet.issuerKeyID)
      .filter(
        (k) =>
          packet.issuerFingerprint === null ||
          sameBytes(k.keyPacket.getFingerprintBytes() ?? new Uint8Array(), packet.issuerFingerprint),
      )
      .map((signingKey) => ({ key, signingKey })),
  );

/**
 * The signature over the text, judged at its own creation time (no expiry, no key state yet): does it
 * verify at all, and with which key? The key's state is judged next, at `now`, with its own reasons.
 */
const cryptographicMatch = async (
  packet: SignaturePacket,
  created: Date,
  text: string,
  candidates: readonly Candidate[],
): Promise<Candidate> => {
  const message = await createMessage({ text });
  const literal = message.packets.find((p) => p instanceof LiteralDataPacket);
  if (literal === undefined)
    return fail('ProvenanceSignatureInvalid', 'the signed text could not be prepared');
  let last: unknown;
  for (const candidate of candidates) {
    try {
      await packet.verify(candidate.signingKey.keyPacket, enums.signature.text, literal, created, true);
      return candidate;
    } catch (error) {
      last = error;
    }
  }
  return fail(
    'ProvenanceSignatureInvalid',
    `the signature does not verify over the signed text (${causeText(last)})`,
  );
};

const isSubkey = (key: SigningKey, primary: PublicKey): key is Subkey => key !== primary;

/** Revoked or expired at `now`, primary key first: the key owner's word outranks the signature's date. */
const checkKeyState = async ({ key, signingKey }: Candidate, now: Date): Promise<void> => {
  if (await key.isRevoked(undefined, undefined, now))
    fail('ProvenanceKeyRevoked', 'the signing key is revoked');
  if (isSubkey(signingKey, key)) {
    const binding = signingKey.bindingSignatures.at(-1);
    if (binding === undefined)
      fail('ProvenanceSignatureInvalid', 'the signing subkey has no binding signature');
    if (binding !== undefined && (await signingKey.isRevoked(binding, key.keyPacket, now)))
      fail('ProvenanceKeyRevoked', 'the signing subkey is revoked');
  }
  const expires = await key.getExpirationTime();
  if (expires !== null && expires !== Infinity && expires <= now)
    fail('ProvenanceKeyExpired', `the signing key expired at ${new Date(expires).toISOString()}`);
  if (isSubkey(signingKey, key)) {
    const subkeyExpires = await signingKey.getExpirationTime(now);
    if (subkeyExpires !== null && subkeyExpires !== Infinity && subkeyExpires <= now)
      fail('ProvenanceKeyExpired', `the signing subkey expired at ${new Date(subkeyExpires).toISOString()}`);
  }
};

const checkSignatureTimes = (
  packet: SignaturePacket,
  created: Date,
  candidate: Candidate,
  now: Date,
): void => {
  if (created > now) fail('ProvenanceSignatureInvalid', 'the signature was made in the future');
  if (candidate.signingKey.getCreationTime() > created)
    fail('ProvenanceSignatureInvalid', 'the signature is older than its key');
  if (packet.isExpired(now)) fail('ProvenanceSignatureExpired', 'the signature has expired');
};

/**
 * Last, openpgp.js's own judgement: the key a valid signing key when it signed and now, and the whole
 * message verifying at `now`. Anything it refuses that the checks above did not name is SignatureInvalid.
 */
const checkWithLibrary = async (
  check: ProvenanceCheck,
  parsed: ParsedProvenance,
  created: Date,
  { key, signingKey }: Candidate,
  now: Date,
): Promise<void> => {
  try {
    await key.getSigningKey(signingKey.getKeyID(), created);
    await key.getSigningKey(signingKey.getKeyID(), now);
    const cleartextMessage = Buffer.from(check.provenance).toString('utf8');
    const message = await readCleartextMessage({ cleartextMessage });
    // Its own reading of the file must be tagguard's: the same text, the one signature.
    if (message.getText() !== parsed.signedText || message.getSigningKeyIDs().length !== 1)
      throw new Error('openpgp.js reads another text or signature count from the file');
    const result = await verify({ message, verificationKeys: [key], date: now, expectSigned: true });
    await Promise.all(result.signatures.map((s) => s.verified));
  } catch (error) {
    fail('ProvenanceSignatureInvalid', `openpgp.js refuses the signature (${causeText(error)})`);
  }
};

const archiveDigestOf = (archive: ProvenanceCheck['archive']): string =>
  archive instanceof Uint8Array
    ? `sha256:${createHash('sha256').update(archive).digest('hex')}`
    : archive.digest;

const checkContent = (
  signed: SignedChart,
  expected: ExpectedChart,
  archive: ProvenanceCheck['archive'],
): void => {
  const archiveName = expected.archiveName ?? `${expected.name}-${expected.version}.tgz`;
  if (signed.name !== expected.name || signed.version !== expected.version)
    fail(
      'ProvenanceChartMismatch',
      `the provenance is for ${signed.name.slice(0, 100)} ${signed.version.slice(0, 100)}, not ${expected.name} ${expected.version}`,
    );
  if (signed.archiveName !== archiveName)
    fail(
      'ProvenanceChartMismatch',
      `the provenance signs the file ${signed.archiveName.slice(0, 100)}, not ${archiveName}`,
    );
  const digest = archiveDigestOf(archive);
  if (signed.archiveDigest !== digest)
    fail(
      'ProvenanceDigestMismatch',
      `the archive is ${digest}, the provenance signs ${signed.archiveDigest}`,
    );
};

const judge = async (check: ProvenanceCheck): Promise<ProvenanceResult> => {
  let signed: SignedChart | undefined;
  let identity: string | undefined;
  const result = (verified: boolean, message: string, reason?: ProvenanceReason): ProvenanceResult => ({
    name: check.name,
    type: 'provenance',
    verified,
    message,
    ...(reason === undefined ? {} : { reason }),
    ...(identity === undefined ? {} : { identity }),
    ...(signed === undefined ? {} : { signed }),
  });
  try {
    const parsed = parseProvenance(check.provenance);
    signed = parsed.chart;
    const { packet, created } = await readOneSignature(parsed);
    const candidates = candidatesFor(packet, check.keyring);
    if (candidates.length === 0)
      fail(
        'ProvenanceUnknownSigner',
        `no key of the keyring has the key id ${packet.issuerKeyID.toHex().toUpperCase()}`,
      );
    const match = await cryptographicMatch(packet, created, parsed.signedText, candidates);
    identity = match.key.getFingerprint().toUpperCase();
    checkSignatureTimes(packet, created, match, check.now);
    await checkKeyState(match, check.now);
    await checkWithLibrary(check, parsed, created, match, check.now);
    checkContent(parsed.chart, check.expected, check.archive);
    return result(true, `signed by ${identity} for ${parsed.chart.name} ${parsed.chart.version}`);
  } catch (error) {
    if (error instanceof ProvenanceError) return result(false, error.message, error.code);
    throw error;
  }
};

/** The verdict of one provenance entry; an unexpected exception is ProvenanceSignatureInvalid, never thrown. */
export const verifyProvenance = (check: ProvenanceCheck): Promise<ProvenanceResult> =>
  judgeOrFailAsync(
    () => judge(check),
    (cause): ProvenanceResult => ({
      name: check.name,
      type: 'provenance',
      verified: false,
      reason: 'ProvenanceSignatureInvalid',
      message: `the provenance could not be checked (${cause})`,
    }),
  );

/** The coarse reason of src/verify/types.ts a provenance failure counts as, for a VerificationResult. */
export const coarseReason = (reason: ProvenanceReason): VerifyReason => {
  switch (reason) {
    case 'ProvenanceUnknownSigner':
    case 'ProvenanceKeyRevoked':
      return 'UntrustedSigner';
    case 'ProvenanceKeyExpired':
    case 'ProvenanceSignatureExpired':
      return 'CertificateExpired';
    case 'ProvenanceDigestMismatch':
    case 'ProvenanceChartMismatch':
      return 'DigestMismatch';
    default:
      return 'SignatureInvalid';
  }
};
