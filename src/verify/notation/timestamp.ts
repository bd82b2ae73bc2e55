// RFC 3161 timestamp countersignatures (io.cncf.notary.timestampSignature) of notary.x509 signatures:
// the TimeStampToken is a CMS SignedData over a TSTInfo whose message imprint is the hash of the
// envelope's signature value. Checked as notation-go does: CMS signature over the signed attributes,
// message digest, message imprint, a TSA chain that ends in a trusted root and follows the
// time-stamping certificate rules, valid at the timestamp. The TSA chain's revocation is the caller's
// (it needs the network): the chain is returned.
import { createHash, verify as verifySignature, type KeyObject } from 'node:crypto';
import { keySignatureAlgorithm, parseCertificate, type SigningCertificate } from './certificate.ts';
import { DER, decodeOid, decodeTime, derChildren, parseDer, type DerNode } from './der.ts';
import { NotationError } from './errors.ts';

export interface VerifiedTimestamp {
  /** genTime − accuracy … genTime + accuracy. */
  readonly earliest: Date;
  readonly latest: Date;
  readonly tsaSubject: string;
  /** The TSA certificate up to the trusted root, for revocation checking. */
  readonly chain: readonly SigningCertificate[];
}

const OID = {
  signedData: '1.2.840.113549.1.7.2',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
} as const;

const HASHES: Readonly<Record<string, string>> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** CMS signature algorithms: the key decides RSA PKCS#1 v1.5 or ECDSA, the digest algorithm the hash. */
const RSA_SIGNATURES = new Set([
  '1.2.840.113549.1.1.1',
  '1.2.840.113549.1.1.11',
  '1.2.840.113549.1.1.12',
  '1.2.840.113549.1.1.13',
]);
const ECDSA_SIGNATURES = new Set([
  '1.2.840.10045.2.1',
  '1.2.840.10045.4.3.2',
  '1.2.840.10045.4.3.3',
  '1.2.840.10045.4.3.4',
]);

const MAX_TSA_CHAIN = 10;

const invalid = (message: string, cause?: unknown): NotationError =>
  new NotationError(
    'InvalidTimestamp',
    `timestamp countersignature: ${message}`,
    cause === undefined ? undefined : { cause },
  );

const child = (nodes: readonly DerNode[], i: number, what: string): DerNode => {
  const node = nodes[i];
  if (!node) throw invalid(`missing ${what}`);
  return node;
};

const hashOf = (algorithm: DerNode): string => {
  const name = HASHES[decodeOid(child(derChildren(algorithm), 0, 'algorithm OID'))];
  if (!name) throw invalid('unsupported hash algorithm');
  return name;
};

/** GeneralizedTime YYYYMMDDHHMMSS[.f*]Z */
const generalizedTime = (node: DerNode): Date => {
  if (node.tag !== 0x18) throw invalid('genTime is not a GeneralizedTime');
  return decodeTime(node);
};

const smallInt = (node: DerNode): number => node.content.reduce((acc, byte) => acc * 256 + byte, 0);

/** Accuracy ::= SEQUENCE { seconds INTEGER OPTIONAL, millis [0] OPTIONAL, micros [1] OPTIONAL } */
const accuracyMs = (node: DerNode | undefined): number => {
  if (!node || node.tag !== DER.SEQUENCE) return 0;
  let ms = 0;
  for (const part of derChildren(node)) {
    if (part.content.length > 4) throw invalid('accuracy too large');
    if (part.tag === DER.INTEGER) ms += smallInt(part) * 1000;
    else if (part.tag === 0x80) ms += smallInt(part);
    else if (part.tag === 0x81) ms += smallInt(part) / 1000;
  }
  return ms;
};

interface TstInfo {
  readonly hash: string;
  readonly hashedMessage: Buffer;
  readonly genTime: Date;
  readonly accuracyMs: number;
}

const parseTstInfo = (der: Buffer): TstInfo => {
  const fields = derChildren(parseDer(der));
  const imprint = derChildren(child(fields, 2, 'messageImprint'));
  const hashedMessage = child(imprint, 1, 'hashedMessage');
  if (hashedMessage.tag !== DER.OCTET_STRING) throw invalid('hashedMessage is not an OCTET STRING');
  const genTime = generalizedTime(child(fields, 4, 'genTime'));
  const accuracy = fields[5]?.tag === DER.SEQUENCE ? fields[5] : undefined;
  return {
    hash: hashOf(child(imprint, 0, 'hash algorithm')),
    hashedMessage: hashedMessage.content,
    genTime,
    accuracyMs: accuracyMs(accuracy),
  };
};

const attributeValue = (attributes: readonly DerNode[], oid: string): DerNode | undefined => {
  for (const attribute of attributes) {
    const [type, values] = derChildren(attribute);
    if (type && values && decodeOid(type) === oid) return derChildren(values)[0];
  }
  return undefined;
};

const verifyCms = (
  key: KeyObject,
  algorithm: string,
  hash: string,
  data: Buffer,
  signature: Buffer,
): boolean => {
  try {
    if (RSA_SIGNATURES.has(algorithm) && key.asymmetricKeyType === 'rsa')
      return verifySignature(hash, data, key, signature);
    if (ECDSA_SIGNATURES.has(algorithm) && key.asymmetricKeyType === 'ec')
      return verifySignature(hash, data, { key, dsaEncoding: 'der' }, signature);
    return false;
  } catch {
    return false;
  }
};

const isIssuedBy = (cert: SigningCertificate, issuer: SigningCertificate): boolean => {
  try {
    return cert.issuerRaw.equals(issuer.subjectRaw) && cert.x509.verify(issuer.x509.publicKey);
  } catch {
    return false;
  }
};

/** From the TSA certificate up to a self-signed root, using the token's and the store's certificates. */
const buildTsaChain = (
  signer: SigningCertificate,
  pool: readonly SigningCertificate[],
): SigningCertificate[] => {
  const chain = [signer];
  let current = signer;
  while (!isIssuedBy(current, current)) {
    if (chain.length >= MAX_TSA_CHAIN) throw invalid('TSA chain too long');
    const issuer = pool.find((candidate) => candidate !== current && isIssuedBy(current, candidate));
    if (!issuer) throw invalid('the TSA certificate does not chain to a self-signed root');
    chain.push(issuer);
    current = issuer;
  }
  return chain;
};

/** notation-core-go ValidateTimestampingCertChain: a time-stamping leaf, CA certificates above it. */
const validateTsaChain = (chain: readonly SigningCertificate[], at: Date): void => {
  chain.forEach((cert, i) => {
    if (at < cert.notBefore || at > cert.notAfter)
      throw invalid('a TSA certificate was not valid at the timestamp');
    if (i === 0) {
      if (cert.basicConstraints?.ca) throw invalid('the TSA certificate is a CA');
      if (!cert.keyUsage?.bits[0]) throw invalid('the TSA certificate lacks digitalSignature key usage');
      if (cert.keyUsage.bits.slice(2).some(Boolean))
        throw invalid('the TSA certificate key usage must be digitalSignature only');
      if (
        cert.extKeyUsage?.length !== 1 ||
        cert.extKeyUsage[0] !== OID.timeStamping ||
        !cert.extKeyUsageCritical
      )
        throw invalid('the TSA certificate must have exactly the timeStamping extended key usage, critical');
      keySignatureAlgorithm(cert);
      return;
    }
    if (!cert.basicConstraints?.ca || !cert.keyUsage?.bits[5])
      throw invalid('a TSA chain certificate above the leaf is not a CA');
    if (cert.basicConstraints.pathLen !== undefined && cert.basicConstraints.pathLen < i - 1)
      throw invalid('TSA chain path length exceeded');
  });
};

/**
 * Verifies a TimeStampToken over `signature` (the envelope's signature value) against the TSA roots
 * in `tsaStore` (DER). Throws InvalidTimestamp.
 */
export const verifyTimestamp = (
  token: Buffer,
  signature: Buffer,
  tsaStore: readonly Buffer[],
): VerifiedTimestamp => {
  try {
    const contentInfo = derChildren(parseDer(token));
    if (decodeOid(child(contentInfo, 0, 'contentType')) !== OID.signedData)
      throw invalid('not a CMS SignedData');
    const signedData = derChildren(child(derChildren(child(contentInfo, 1, 'content')), 0, 'SignedData'));
    const encap = derChildren(child(signedData, 2, 'encapContentInfo'));
    if (decodeOid(child(encap, 0, 'eContentType')) !== OID.tstInfo)
      throw invalid('the content is not a TSTInfo');
    const eContent = child(derChildren(child(encap, 1, 'eContent')), 0, 'eContent');
    const certificates = signedData.find((n, i) => i > 2 && n.tag === 0xa0);
    const signerInfos = signedData[signedData.length - 1];
    if (!signerInfos || signerInfos.tag !== DER.SET) throw invalid('no signerInfos');
    const infos = derChildren(signerInfos);
    if (infos.length !== 1) throw invalid('exactly one signer is required');
    const info = derChildren(child(infos, 0, 'SignerInfo'));

    const sid = child(info, 1, 'sid');
    if (sid.tag !== DER.SEQUENCE)
      throw invalid('only issuerAndSerialNumber signer identifiers are supported');
    const [sidIssuer, sidSerial] = derChildren(sid);
    const pool = (certificates ? derChildren(certificates) : []).map((c) => parseCertificate(c.raw));
    const signer = pool.find(
      (cert) =>
        sidIssuer &&
        sidSerial &&
        cert.issuerRaw.equals(sidIssuer.raw) &&
        cert.serialRaw.equals(sidSerial.raw),
    );
    if (!signer) throw invalid('the TSA certificate is not in the token');

    const digest = hashOf(child(info, 2, 'digestAlgorithm'));
    const signedAttrs = child(info, 3, 'signedAttrs');
    if (signedAttrs.tag !== 0xa0) throw invalid('signed attributes are required');
    const attributes = derChildren(signedAttrs);
    const contentType = attributeValue(attributes, OID.contentType);
    const messageDigest = attributeValue(attributes, OID.messageDigest);
    if (!contentType || decodeOid(contentType) !== OID.tstInfo)
      throw invalid('the contentType attribute is not TSTInfo');
    if (!messageDigest || !createHash(digest).update(eContent.content).digest().equals(messageDigest.content))
      throw invalid('the messageDigest attribute does not match the TSTInfo');
    const signatureAlgorithm = decodeOid(child(derChildren(child(info, 4, 'signatureAlgorithm')), 0, 'OID'));
    const cmsSignature = child(info, 5, 'signature');
    const signedBytes = Buffer.concat([Buffer.from([DER.SET]), signedAttrs.raw.subarray(1)]);
    if (!verifyCms(signer.x509.publicKey, signatureAlgorithm, digest, signedBytes, cmsSignature.content))
      throw invalid('the TSA signature does not verify');

    const tst = parseTstInfo(eContent.content);
    if (!createHash(tst.hash).update(signature).digest().equals(tst.hashedMessage))
      throw invalid('the message imprint is not the hash of this signature');

    const chain = buildTsaChain(signer, [...pool, ...tsaStore.map(parseCertificate)]);
    const root = chain[chain.length - 1] as SigningCertificate;
    if (!tsaStore.some((trusted) => trusted.equals(root.der)))
      throw invalid('the TSA root is not in the TSA trust store');
    validateTsaChain(chain, tst.genTime);
    return {
      earliest: new Date(tst.genTime.getTime() - tst.accuracyMs),
      latest: new Date(tst.genTime.getTime() + tst.accuracyMs),
      tsaSubject: signer.x509.subject.replaceAll('\n', ', '),
      chain,
    };
  } catch (error) {
    if (error instanceof NotationError && error.code === 'InvalidTimestamp') throw error;
    throw invalid(error instanceof Error ? error.message : 'malformed token', error);
  }
};
