// Certificates of a Notary Project signature: parsing (node:crypto for keys and signatures, a small DER
// reader for names and extensions) and the code-signing chain rules of the signature specification
// ("Certificate Requirements"), as notation-core-go's ValidateCodeSigningCertChain applies them.
// Validity periods are not checked here: that is the authentic-timestamp step of the verifier.
import { X509Certificate } from 'node:crypto';
import {
  DER,
  decodeBitString,
  decodeDirectoryString,
  decodeOid,
  decodeSmallInteger,
  derChildren,
  parseDer,
  readExtensionList,
  type DerNode,
} from './der.ts';
import type { SubjectAttribute } from './distinguished-name.ts';
import { NotationError } from './errors.ts';
import type { SignatureAlgorithm } from './signature-algorithm.ts';

export interface SigningCertificate {
  readonly x509: X509Certificate;
  readonly der: Buffer;
  readonly subject: readonly SubjectAttribute[];
  readonly subjectRaw: Buffer;
  readonly issuerRaw: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly signatureAlgorithmOid: string;
  readonly basicConstraints?: { readonly ca: boolean; readonly pathLen?: number };
  readonly keyUsage?: { readonly critical: boolean; readonly bits: readonly boolean[] };
  readonly extKeyUsage?: readonly string[];
  readonly extKeyUsageCritical?: boolean;
  /** DER of the serialNumber INTEGER (tag and length included). */
  readonly serialRaw: Buffer;
  /** The subjectPublicKey BIT STRING's key bytes (what OCSP's issuerKeyHash hashes). */
  readonly publicKeyBytes: Buffer;
  /** URIs of the CRL distribution points' full names (only what Go's x509 reads). */
  readonly crlDistributionPoints: readonly string[];
  /** OCSP responder URIs from Authority Information Access. */
  readonly ocspServers: readonly string[];
}

/** At most this many certificates in x5c / x5chain. */
export const MAX_CHAIN_LENGTH = 10;
/** At most this many bytes per certificate. */
export const MAX_CERTIFICATE_BYTES = 64 * 1024;

const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  crlDistributionPoints: '2.5.29.31',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  ocsp: '1.3.6.1.5.5.7.48.1',
} as const;

/** GeneralName uniformResourceIdentifier: [6] IMPLICIT IA5String. */
const URI_TAG = 0x86;
const MAX_URIS = 10;

const KEY_USAGE = {
  digitalSignature: 0,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
  encipherOnly: 7,
  decipherOnly: 8,
} as const;

/** EKUs a code-signing leaf must not carry (notation-core-go's exclusion list). */
const EXCLUDED_EKUS: Readonly<Record<string, string>> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
};

/** Certificate signature algorithms accepted in a chain (Go refuses MD5 and SHA-1 ones). */
const ACCEPTED_CERT_SIGNATURES = new Set([
  '1.2.840.113549.1.1.11', // sha256WithRSAEncryption
  '1.2.840.113549.1.1.12', // sha384WithRSAEncryption
  '1.2.840.113549.1.1.13', // sha512WithRSAEncryption
  '1.2.840.113549.1.1.10', // RSASSA-PSS
  '1.2.840.10045.4.3.2', // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3', // ecdsa-with-SHA384
  '1.2.840.10045.4.3.4', // ecdsa-with-SHA512
  '1.3.101.112', // Ed25519
]);

const chainError = (message: string): NotationError => new NotationError('InvalidCertificateChain', message);

const readName = (name: DerNode): SubjectAttribute[] => {
  if (name.tag !== DER.SEQUENCE) throw new NotationError('MalformedCertificate', 'a Name is not a SEQUENCE');
  return derChildren(name).flatMap((rdn) =>
    derChildren(rdn).map((atv) => {
      const [type, value] = derChildren(atv);
      if (!type || !value) throw new NotationError('MalformedCertificate', 'malformed name attribute');
      return { oid: decodeOid(type), value: decodeDirectoryString(value) };
    }),
  );
};

interface Extensions {
  crlDistributionPoints: string[];
  ocspServers: string[];
  basicConstraints?: { ca: boolean; pathLen?: number };
  keyUsage?: { critical: boolean; bits: boolean[] };
  extKeyUsage?: string[];
  extKeyUsageCritical?: boolean;
}

const uris = (names: readonly DerNode[]): string[] =>
  names.filter((name) => name.tag === URI_TAG).map((name) => name.content.toString('latin1'));

/** DistributionPoint.distributionPoint [0] → fullName [0] → GeneralNames. */
const distributionPointUris = (value: DerNode): string[] =>
  derChildren(value)
    .flatMap((point) => derChildren(point).filter((f) => f.tag === 0xa0))
    .flatMap((name) => derChildren(name).filter((f) => f.tag === 0xa0))
    .flatMap((fullName) => uris(derChildren(fullName)))
    .slice(0, MAX_URIS);

/** AccessDescription { accessMethod id-ad-ocsp, accessLocation URI }. */
const ocspUris = (value: DerNode): string[] =>
  derChildren(value)
    .map((description) => derChildren(description))
    .filter(([method]) => method !== undefined && decodeOid(method) === OID.ocsp)
    .flatMap(([, location]) => (location ? uris([location]) : []))
    .slice(0, MAX_URIS);

const readExtensions = (wrapper: DerNode | undefined): Extensions => {
  const result: Extensions = { crlDistributionPoints: [], ocspServers: [] };
  if (!wrapper) return result;
  const [list] = derChildren(wrapper);
  if (!list) return result;
  for (const { oid, critical, value: bytes } of readExtensionList(list)) {
    const value = parseDer(bytes);
    if (oid === OID.basicConstraints) {
      const fields = derChildren(value);
      const ca = fields[0]?.tag === DER.BOOLEAN && fields[0].content[0] !== 0;
      const pathNode = fields.find((f) => f.tag === DER.INTEGER);
      result.basicConstraints = pathNode ? { ca, pathLen: decodeSmallInteger(pathNode) } : { ca };
    } else if (oid === OID.keyUsage) {
      result.keyUsage = { critical, bits: decodeBitString(value) };
    } else if (oid === OID.extKeyUsage) {
      result.extKeyUsage = derChildren(value).map(decodeOid);
      result.extKeyUsageCritical = critical;
    } else if (oid === OID.crlDistributionPoints) {
      result.crlDistributionPoints = distributionPointUris(value);
    } else if (oid === OID.authorityInfoAccess) {
      result.ocspServers = ocspUris(value);
    }
  }
  return result;
};

/** Parses one DER certificate; throws MalformedCertificate. */
export const parseCertificate = (der: Buffer): SigningCertificate => {
  if (der.length > MAX_CERTIFICATE_BYTES)
    throw new NotationError('EnvelopeTooLarge', 'certificate too large');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(der);
  } catch (cause) {
    throw new NotationError('MalformedCertificate', 'not a DER X.509 certificate', { cause });
  }
  try {
    const [tbs] = derChildren(parseDer(der));
    if (!tbs) throw new NotationError('MalformedCertificate', 'empty certificate');
    const fields = derChildren(tbs);
    const start = fields[0]?.tag === 0xa0 ? 1 : 0; // [0] EXPLICIT version
    const serial = fields[start];
    const issuer = fields[start + 2];
    const subject = fields[start + 4];
    const spki = fields[start + 5];
    if (!serial || !issuer || !subject || !spki)
      throw new NotationError('MalformedCertificate', 'truncated TBSCertificate');
    const publicKey = derChildren(spki)[1];
    if (publicKey?.tag !== DER.BIT_STRING)
      throw new NotationError('MalformedCertificate', 'subjectPublicKey is not a BIT STRING');
    const extensions = readExtensions(fields.slice(start + 6).find((f) => f.tag === 0xa3));
    return {
      x509,
      der,
      subject: readName(subject),
      subjectRaw: subject.raw,
      issuerRaw: issuer.raw,
      notBefore: x509.validFromDate,
      notAfter: x509.validToDate,
      signatureAlgorithmOid: x509.signatureAlgorithmOid,
      serialRaw: serial.raw,
      publicKeyBytes: publicKey.content.subarray(1), // after the unused-bits octet
      ...extensions,
    };
  } catch (cause) {
    if (cause instanceof NotationError) throw cause;
    throw new NotationError('MalformedCertificate', 'unreadable certificate', { cause });
  }
};

const describe = (cert: SigningCertificate): string =>
  JSON.stringify(cert.x509.subject.replaceAll('\n', ', '));

/** The Notary Project signature algorithm implied by the certificate's key (the source of truth for alg). */
export const keySignatureAlgorithm = (cert: SigningCertificate): SignatureAlgorithm => {
  const key = cert.x509.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details.modulusLength;
    if (bits === 2048) return 'PS256';
    if (bits === 3072) return 'PS384';
    if (bits === 4096) return 'PS512';
    throw chainError(`certificate ${describe(cert)}: RSA key size ${bits ?? '?'} is not supported`);
  }
  if (key.asymmetricKeyType === 'ec') {
    if (details.namedCurve === 'prime256v1') return 'ES256';
    if (details.namedCurve === 'secp384r1') return 'ES384';
    if (details.namedCurve === 'secp521r1') return 'ES512';
    throw chainError(`certificate ${describe(cert)}: curve ${details.namedCurve ?? '?'} is not supported`);
  }
  throw chainError(
    `certificate ${describe(cert)}: key type ${key.asymmetricKeyType ?? '?'} is not supported`,
  );
};

/** Go's isIssuedBy: the parent's key verifies the child and the names match byte for byte. */
const isIssuedBy = (child: SigningCertificate, parent: SigningCertificate): boolean => {
  if (!ACCEPTED_CERT_SIGNATURES.has(child.signatureAlgorithmOid)) return false;
  try {
    return child.x509.verify(parent.x509.publicKey) && child.issuerRaw.equals(parent.subjectRaw);
  } catch {
    return false;
  }
};

const has = (cert: SigningCertificate, bit: number): boolean => cert.keyUsage?.bits[bit] === true;

const validateKeyUsagePresent = (cert: SigningCertificate): void => {
  if (!cert.keyUsage) throw chainError(`certificate ${describe(cert)}: key usage extension must be present`);
  if (!cert.keyUsage.critical)
    throw chainError(`certificate ${describe(cert)}: key usage extension must be critical`);
};

const validateLeaf = (cert: SigningCertificate): void => {
  if (cert.basicConstraints?.ca) throw chainError(`leaf certificate ${describe(cert)} must not be a CA`);
  validateKeyUsagePresent(cert);
  if (!has(cert, KEY_USAGE.digitalSignature))
    throw chainError(`leaf certificate ${describe(cert)}: key usage must include digitalSignature`);
  const extra = Object.entries(KEY_USAGE).filter(
    ([name, bit]) => name !== 'digitalSignature' && has(cert, bit),
  );
  if (extra.length > 0)
    throw chainError(
      `leaf certificate ${describe(cert)}: key usage must be digitalSignature only, has ${extra.map(([n]) => n).join(', ')}`,
    );
  const excluded = (cert.extKeyUsage ?? []).map((oid) => EXCLUDED_EKUS[oid]).filter(Boolean);
  if (excluded.length > 0)
    throw chainError(
      `leaf certificate ${describe(cert)}: extended key usage must not contain ${excluded.join(', ')}`,
    );
  keySignatureAlgorithm(cert);
};

const validateCA = (cert: SigningCertificate, expectedPathLen: number): void => {
  if (!cert.basicConstraints?.ca)
    throw chainError(`certificate ${describe(cert)}: basic constraints must be present with CA true`);
  const pathLen = cert.basicConstraints.pathLen;
  if (pathLen !== undefined && pathLen < expectedPathLen)
    throw chainError(`certificate ${describe(cert)}: path length ${pathLen} is below ${expectedPathLen}`);
  validateKeyUsagePresent(cert);
  if (!has(cert, KEY_USAGE.keyCertSign))
    throw chainError(`certificate ${describe(cert)}: key usage must include keyCertSign`);
};

/**
 * Validates an ordered chain (leaf first, self-signed root last, or one self-signed leaf) as a
 * Notary Project code-signing chain. Throws InvalidCertificateChain.
 */
export const validateCodeSigningChain = (chain: readonly SigningCertificate[]): void => {
  const [leaf] = chain;
  if (!leaf) throw chainError('the certificate chain is empty');
  if (chain.length === 1) {
    if (!isIssuedBy(leaf, leaf)) throw chainError(`single certificate ${describe(leaf)} is not self-signed`);
    validateLeaf(leaf);
    return;
  }
  chain.forEach((cert, i) => {
    if (i === chain.length - 1) {
      if (!isIssuedBy(cert, cert)) throw chainError(`root certificate ${describe(cert)} is not self-signed`);
    } else {
      if (isIssuedBy(cert, cert))
        throw chainError(`certificate ${describe(cert)} in the middle of the chain is self-signed`);
      const parent = chain[i + 1];
      if (!parent || !isIssuedBy(cert, parent))
        throw chainError(`certificate ${describe(cert)} is not issued by the next certificate in the chain`);
    }
    if (i === 0) validateLeaf(cert);
    else validateCA(cert, i - 1);
  });
};
