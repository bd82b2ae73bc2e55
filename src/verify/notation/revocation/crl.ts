// Certificate revocation lists (RFC 5280 §5) as notation-core-go checks them: each CRL distribution
// point of the certificate in turn (http: only), the CRL signed by the certificate's issuer (which must
// be a CA allowed to sign CRLs), nextUpdate present and not passed, no unknown critical extension; the
// certificate's serial looked up with its reason and invalidity date. Delta CRLs are not supported:
// a certificate or CRL that points to one gives "unknown" (notation reads them; tagguard fails closed).
import type { SigningCertificate } from '../certificate.ts';
import {
  DER,
  decodeOid,
  decodeTime,
  derChildren,
  parseDer,
  readDer,
  readExtensionList,
  type DerNode,
} from '../der.ts';
import { verifyX509Signature } from '../x509-signature.ts';
import { RevocationError } from './errors.ts';
import type { CertCheckOptions, CertRevocationResult, RevocationHttp } from './types.ts';

/** notation-core-go's limit. */
export const MAX_CRL_BYTES = 32 * 1024 * 1024;

const OID = {
  reasonCode: '2.5.29.21',
  invalidityDate: '2.5.29.24',
  crlNumber: '2.5.29.20',
  deltaCrlIndicator: '2.5.29.27',
  issuingDistributionPoint: '2.5.29.28',
  freshestCrl: '2.5.29.46',
} as const;

/** CRL extensions whose criticality tagguard understands (the IDP's content is not applied, as notation). */
const KNOWN_CRL_EXTENSIONS = new Set<string>([OID.crlNumber, OID.issuingDistributionPoint]);

const CERTIFICATE_HOLD = 6;
const REMOVE_FROM_CRL = 8;

export interface RevokedEntry {
  readonly revocationDate: Date;
  readonly reasonCode?: number;
  readonly invalidityDate?: Date;
}

export interface ParsedCrl {
  readonly tbs: Buffer;
  readonly signatureAlgorithmOid: string;
  readonly signature: Buffer;
  readonly issuerRaw: Buffer;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
  /** The raw DER of the revokedCertificates SEQUENCE, searched on demand. */
  readonly revoked?: Buffer;
  readonly extensions: readonly { oid: string; critical: boolean }[];
}

const malformed = (message: string, cause?: unknown): RevocationError =>
  new RevocationError('Malformed', `CRL: ${message}`, cause === undefined ? undefined : { cause });

/** Parses a DER CertificateList; throws RevocationError Malformed. */
export const parseCrl = (der: Buffer): ParsedCrl => {
  try {
    const [tbs, algorithm, signature] = derChildren(parseDer(der));
    if (!tbs || !algorithm || signature?.tag !== DER.BIT_STRING || signature.content[0] !== 0)
      throw malformed('not a CertificateList');
    const fields = derChildren(tbs);
    let i = fields[0]?.tag === DER.INTEGER ? 1 : 0; // version v2
    const innerAlgorithm = fields[i++];
    const issuer = fields[i++];
    const thisUpdate = fields[i++];
    if (!innerAlgorithm || issuer?.tag !== DER.SEQUENCE || !thisUpdate)
      throw malformed('truncated TBSCertList');
    const next = fields[i];
    const nextUpdate = next && (next.tag === 0x17 || next.tag === 0x18) ? decodeTime(next) : undefined;
    if (nextUpdate) i++;
    const revoked = fields[i]?.tag === DER.SEQUENCE ? fields[i++] : undefined;
    const wrapper = fields[i]?.tag === 0xa0 ? fields[i++] : undefined;
    if (i !== fields.length) throw malformed('unexpected fields in TBSCertList');
    const [outerId] = derChildren(algorithm);
    const [innerId] = derChildren(innerAlgorithm);
    if (!outerId || !innerId || !algorithm.raw.equals(innerAlgorithm.raw))
      throw malformed('the signature algorithms inside and outside TBSCertList differ');
    const list = wrapper ? derChildren(wrapper)[0] : undefined;
    return {
      tbs: tbs.raw,
      signatureAlgorithmOid: decodeOid(outerId),
      signature: signature.content.subarray(1),
      issuerRaw: issuer.raw,
      thisUpdate: decodeTime(thisUpdate),
      ...(nextUpdate ? { nextUpdate } : {}),
      ...(revoked ? { revoked: revoked.content } : {}),
      extensions: list ? readExtensionList(list).map(({ oid, critical }) => ({ oid, critical })) : [],
    };
  } catch (error) {
    if (error instanceof RevocationError) throw error;
    throw malformed('unreadable', error);
  }
};

/** Go's RevocationList.CheckSignatureFrom, plus the issuer name, freshness and critical extensions. */
export const validateCrl = (crl: ParsedCrl, issuer: SigningCertificate, now: Date): void => {
  if (!issuer.basicConstraints?.ca)
    throw new RevocationError('Invalid', 'CRL: the issuer is not a CA certificate');
  if (issuer.keyUsage && issuer.keyUsage.bits[6] !== true)
    throw new RevocationError('Invalid', 'CRL: the issuer may not sign CRLs (no cRLSign key usage)');
  if (!crl.issuerRaw.equals(issuer.subjectRaw))
    throw new RevocationError('Invalid', "CRL: issued by another name than the certificate's issuer");
  if (!verifyX509Signature(crl.signatureAlgorithmOid, issuer.x509.publicKey, crl.tbs, crl.signature))
    throw new RevocationError('Invalid', "CRL: the signature does not verify with the issuer's key");
  if (!crl.nextUpdate) throw new RevocationError('Invalid', 'CRL: nextUpdate is not set');
  if (now.getTime() > crl.nextUpdate.getTime())
    throw new RevocationError('Invalid', `CRL: expired (nextUpdate ${crl.nextUpdate.toISOString()})`);
  for (const extension of crl.extensions) {
    if (extension.oid === OID.deltaCrlIndicator || extension.oid === OID.freshestCrl)
      throw new RevocationError('Invalid', 'CRL: delta CRLs are not supported');
    if (extension.critical && !KNOWN_CRL_EXTENSIONS.has(extension.oid))
      throw new RevocationError('Invalid', `CRL: unsupported critical extension ${extension.oid}`);
  }
};

const readEntry = (entry: DerNode): RevokedEntry => {
  const [, date, extensions] = derChildren(entry);
  if (!date) throw malformed('revoked entry without a date');
  const result: { revocationDate: Date; reasonCode?: number; invalidityDate?: Date } = {
    revocationDate: decodeTime(date),
  };
  for (const extension of extensions ? readExtensionList(extensions) : []) {
    if (extension.oid === OID.reasonCode) {
      const value = parseDer(extension.value);
      if (value.tag !== 0x0a || value.content.length !== 1) throw malformed('invalid reason code');
      result.reasonCode = value.content[0] ?? 0;
    } else if (extension.oid === OID.invalidityDate) {
      const value = parseDer(extension.value);
      if (value.tag !== 0x18) throw malformed('invalidity date is not a GeneralizedTime');
      result.invalidityDate = decodeTime(value);
    } else if (extension.critical) {
      throw malformed(`unsupported critical entry extension ${extension.oid}`);
    }
  }
  return result;
};

/** Every entry for the certificate's serial (compared as DER, which is canonical). */
export const entriesFor = (crl: ParsedCrl, serialRaw: Buffer): RevokedEntry[] => {
  const found: RevokedEntry[] = [];
  const list = crl.revoked;
  if (!list) return found;
  for (let offset = 0; offset < list.length;) {
    const { node: entry, next } = readDer(list, offset);
    offset = next;
    const { node: serial } = readDer(entry.content, 0);
    if (serial.raw.equals(serialRaw)) found.push(readEntry(entry));
  }
  return found;
};

/** notation-core-go's checkRevocation over one (base) CRL. */
export const statusFromEntries = (
  entries: readonly RevokedEntry[],
  signingTime: Date | undefined,
): 'ok' | 'revoked' => {
  let hold: RevokedEntry | undefined;
  for (const entry of entries) {
    if (signingTime && entry.invalidityDate && signingTime.getTime() < entry.invalidityDate.getTime())
      return 'ok';
    if (entry.reasonCode === CERTIFICATE_HOLD || entry.reasonCode === REMOVE_FROM_CRL) {
      if (!hold || hold.revocationDate.getTime() < entry.revocationDate.getTime()) hold = entry;
    } else return 'revoked';
  }
  return hold?.reasonCode === CERTIFICATE_HOLD ? 'revoked' : 'ok';
};

/** Parsed CRLs by URL until their nextUpdate, shared by every verification of the process. */
export class CrlCache {
  private readonly entries = new Map<string, ParsedCrl>();
  private readonly maxEntries: number;

  constructor(maxEntries = 32) {
    this.maxEntries = maxEntries;
  }

  get(url: string, now: Date): ParsedCrl | undefined {
    const crl = this.entries.get(url);
    if (!crl?.nextUpdate || now.getTime() > crl.nextUpdate.getTime()) {
      this.entries.delete(url);
      return undefined;
    }
    return crl;
  }

  set(url: string, crl: ParsedCrl): void {
    this.entries.delete(url);
    this.entries.set(url, crl);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }
}

const detailOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** The certificate's status from its CRL distribution points ('non-revocable' when it has none). */
export const checkCrl = async (
  cert: SigningCertificate,
  issuer: SigningCertificate,
  http: RevocationHttp,
  options: CertCheckOptions & { readonly cache?: CrlCache },
): Promise<CertRevocationResult> => {
  if (cert.crlDistributionPoints.length === 0)
    return { status: 'non-revocable', method: 'crl', detail: 'no CRL distribution point' };
  const checked: string[] = [];
  for (const url of cert.crlDistributionPoints) {
    try {
      let crl = options.refresh ? undefined : options.cache?.get(url, options.now);
      if (!crl) {
        crl = parseCrl(await http.get(url, MAX_CRL_BYTES));
        validateCrl(crl, issuer, options.now);
        options.cache?.set(url, crl);
      } else validateCrl(crl, issuer, options.now);
      if (statusFromEntries(entriesFor(crl, cert.serialRaw), options.signingTime) === 'revoked')
        return { status: 'revoked', method: 'crl', detail: `revoked according to the CRL at ${url}` };
      checked.push(url);
    } catch (error) {
      return { status: 'unknown', method: 'crl', detail: `CRL at ${url}: ${detailOf(error)}` };
    }
  }
  return { status: 'ok', method: 'crl', detail: `not revoked according to ${checked.join(', ')}` };
};
