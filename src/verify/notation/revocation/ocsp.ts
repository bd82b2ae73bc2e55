// OCSP (RFC 6960) for one certificate, as notation-core-go asks it: each http: responder of the
// certificate in turn, a SHA-1 CertID request (GET when short, else POST), a BasicOCSPResponse signed by
// the issuer or by a delegated responder the issuer certified for OCSP signing, the SingleResponse for our
// CertID, fresh (nextUpdate present and not passed). Hostile bytes give "unknown", never an exception.
import { createHash, type KeyObject } from 'node:crypto';
import { parseCertificate, type SigningCertificate } from '../certificate.ts';
import {
  DER,
  decodeOid,
  decodeTime,
  derChildren,
  parseDer,
  readExtensionList,
  type DerNode,
} from '../der.ts';
import { isSupportedX509Signature, verifyX509Signature } from '../x509-signature.ts';
import { BaseError } from '../../../errors.ts';
import type { CertCheckOptions, CertRevocationResult, RevocationHttp } from './types.ts';

/** notation-core-go's limit (a typical response is about 4 KB). */
export const MAX_OCSP_RESPONSE_BYTES = 20_480;
/** A GET URL's escaped request must be shorter than this (RFC 5019 §5, as notation). */
const MAX_GET_REQUEST_CHARS = 255;
/** How far thisUpdate may lie ahead of our clock (responder clock skew). */
const THIS_UPDATE_SKEW_MS = 5 * 60 * 1000;
/** Certificates of a response considered as delegated responders (RFC 6960 expects one). */
const MAX_RESPONDER_CERTIFICATES = 4;

const OID = {
  basicResponse: '1.3.6.1.5.5.7.48.1.1',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
  invalidityDate: '2.5.29.24',
} as const;

/** CertID hash algorithms (x/crypto/ocsp's list); requests use SHA-1 as notation does. */
const HASHES: ReadonlyMap<string, string> = new Map([
  ['1.3.14.3.2.26', 'sha1'],
  ['2.16.840.1.101.3.4.2.1', 'sha256'],
  ['2.16.840.1.101.3.4.2.2', 'sha384'],
  ['2.16.840.1.101.3.4.2.3', 'sha512'],
]);
const SHA1_OID = '1.3.14.3.2.26';

const RESPONSE_STATUS: Readonly<Record<number, string>> = {
  1: 'malformedRequest',
  2: 'internalError',
  3: 'tryLater',
  5: 'sigRequired',
  6: 'unauthorized',
};

const TAG = {
  ENUMERATED: 0x0a,
  NULL: 0x05,
  GENERALIZED_TIME: 0x18,
  CONTEXT_0: 0xa0,
  CONTEXT_1: 0xa1,
  CONTEXT_2: 0xa2,
  GOOD: 0x80,
  REVOKED: 0xa1,
  UNKNOWN: 0x82,
} as const;

// ---- request ----------------------------------------------------------------------------------------

const tlv = (tag: number, content: Buffer): Buffer => {
  const n = content.length;
  const length =
    n < 0x80
      ? Buffer.from([n])
      : n < 0x100
        ? Buffer.from([0x81, n])
        : n < 0x10000
          ? Buffer.from([0x82, n >> 8, n & 0xff])
          : Buffer.from([0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, content]);
};

const sequence = (...items: Buffer[]): Buffer => tlv(DER.SEQUENCE, Buffer.concat(items));

const encodeOid = (oid: string): Buffer => {
  const [a = 0, b = 0, ...rest] = oid.split('.').map(Number);
  const bytes = [a * 40 + b];
  for (const part of rest) {
    const base128 = [part & 0x7f];
    for (let v = Math.floor(part / 128); v > 0; v = Math.floor(v / 128)) base128.unshift((v & 0x7f) | 0x80);
    bytes.push(...base128);
  }
  return tlv(DER.OID, Buffer.from(bytes));
};

const digest = (algorithm: string, data: Buffer): Buffer => createHash(algorithm).update(data).digest();

/** The issuer's name and key hashes under `hash` (RFC 6960 §4.1.1). */
const issuerHashes = (issuer: SigningCertificate, hash: string): { name: Buffer; key: Buffer } => ({
  name: digest(hash, issuer.subjectRaw),
  key: digest(hash, issuer.publicKeyBytes),
});

/** DER OCSPRequest for `cert` (one SHA-1 CertID, no nonce, unsigned), byte for byte what Go's ocsp.CreateRequest makes. */
export const encodeOcspRequest = (cert: SigningCertificate, issuer: SigningCertificate): Buffer => {
  const { name, key } = issuerHashes(issuer, 'sha1');
  const certId = sequence(
    sequence(encodeOid(SHA1_OID), Buffer.from([TAG.NULL, 0])),
    tlv(DER.OCTET_STRING, name),
    tlv(DER.OCTET_STRING, key),
    cert.serialRaw,
  );
  return sequence(sequence(sequence(sequence(certId))));
};

/** GET `<server>/<url-escaped base64>` when short enough, else undefined (POST), as notation. */
export const ocspGetUrl = (server: URL, request: Buffer): string | undefined => {
  const escaped = encodeURIComponent(request.toString('base64'));
  if (escaped.length >= MAX_GET_REQUEST_CHARS) return undefined;
  const url = new URL(server);
  url.pathname = url.pathname.endsWith('/') ? `${url.pathname}${escaped}` : `${url.pathname}/${escaped}`;
  return url.toString();
};

// ---- response ---------------------------------------------------------------------------------------

/** Why a response was not usable: becomes "unknown" with the server's name in front. */
class OcspProblem extends Error {}

const problem = (message: string): OcspProblem => new OcspProblem(message);

interface SingleResponse {
  readonly certId: DerNode;
  readonly status: 'good' | 'revoked' | 'unknown';
  readonly revocationTime?: Date;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
  readonly extensions: readonly { oid: string; critical: boolean; value: Buffer }[];
}

interface BasicResponse {
  readonly tbs: Buffer;
  readonly signatureAlgorithmOid: string;
  readonly signature: Buffer;
  readonly certificates: readonly Buffer[];
  readonly responses: readonly SingleResponse[];
}

const generalizedTime = (node: DerNode | undefined, what: string): Date => {
  if (node?.tag !== TAG.GENERALIZED_TIME) throw problem(`${what} is not a GeneralizedTime`);
  return decodeTime(node);
};

const algorithmOid = (node: DerNode | undefined, what: string): string => {
  if (node?.tag !== DER.SEQUENCE) throw problem(`${what} is not an AlgorithmIdentifier`);
  const [oid] = derChildren(node);
  if (!oid) throw problem(`${what} is empty`);
  return decodeOid(oid);
};

const bitStringBytes = (node: DerNode | undefined, what: string): Buffer => {
  if (node?.tag !== DER.BIT_STRING || node.content[0] !== 0) throw problem(`${what} is not a BIT STRING`);
  return node.content.subarray(1);
};

const readExtensions = (wrapper: DerNode): SingleResponse['extensions'] => {
  const [list] = derChildren(wrapper);
  if (list?.tag !== DER.SEQUENCE) throw problem('singleExtensions is not a SEQUENCE');
  return readExtensionList(list);
};

const readSingleResponse = (node: DerNode): SingleResponse => {
  const fields = derChildren(node);
  const [certId, certStatus, thisUpdate] = fields;
  if (certId?.tag !== DER.SEQUENCE || !certStatus) throw problem('truncated SingleResponse');
  let i = 3;
  const nextUpdateWrapper = fields[i]?.tag === TAG.CONTEXT_0 ? fields[i++] : undefined;
  const extensionsWrapper = fields[i]?.tag === TAG.CONTEXT_1 ? fields[i++] : undefined;
  if (i !== fields.length) throw problem('unexpected fields in SingleResponse');
  const base = {
    certId,
    thisUpdate: generalizedTime(thisUpdate, 'thisUpdate'),
    ...(nextUpdateWrapper
      ? { nextUpdate: generalizedTime(derChildren(nextUpdateWrapper)[0], 'nextUpdate') }
      : {}),
    extensions: extensionsWrapper ? readExtensions(extensionsWrapper) : [],
  };
  if (certStatus.tag === TAG.GOOD) return { ...base, status: 'good' };
  if (certStatus.tag === TAG.UNKNOWN) return { ...base, status: 'unknown' };
  if (certStatus.tag === TAG.REVOKED) {
    const [revocationTime] = derChildren(certStatus);
    return { ...base, status: 'revoked', revocationTime: generalizedTime(revocationTime, 'revocationTime') };
  }
  throw problem(`certStatus has the unknown tag 0x${certStatus.tag.toString(16)}`);
};

const readResponderId = (node: DerNode | undefined): void => {
  if (node?.tag === TAG.CONTEXT_1 && derChildren(node)[0]?.tag === DER.SEQUENCE) return; // byName
  if (node?.tag === TAG.CONTEXT_2 && derChildren(node)[0]?.tag === DER.OCTET_STRING) return; // byKey
  throw problem('invalid responderID');
};

const readBasicResponse = (der: Buffer): BasicResponse => {
  const outer = parseDer(der);
  if (outer.tag !== DER.SEQUENCE) throw problem('BasicOCSPResponse is not a SEQUENCE');
  const [tbs, algorithm, signature, certsWrapper, ...extra] = derChildren(outer);
  if (tbs?.tag !== DER.SEQUENCE || extra.length > 0) throw problem('not a BasicOCSPResponse');
  if (certsWrapper && certsWrapper.tag !== TAG.CONTEXT_0) throw problem('certs is not [0]');
  const fields = derChildren(tbs);
  let i = fields[0]?.tag === TAG.CONTEXT_0 ? 1 : 0; // [0] EXPLICIT version
  readResponderId(fields[i++]);
  generalizedTime(fields[i++], 'producedAt');
  const responses = fields[i++];
  if (responses?.tag !== DER.SEQUENCE) throw problem('responses is not a SEQUENCE');
  if (fields[i]?.tag === TAG.CONTEXT_1) i++; // responseExtensions (nonce): not used
  if (i !== fields.length) throw problem('unexpected fields in ResponseData');
  const certList = certsWrapper ? derChildren(certsWrapper)[0] : undefined;
  if (certsWrapper && certList?.tag !== DER.SEQUENCE) throw problem('certs is not a SEQUENCE');
  return {
    tbs: tbs.raw,
    signatureAlgorithmOid: algorithmOid(algorithm, 'signatureAlgorithm'),
    signature: bitStringBytes(signature, 'signature'),
    certificates: certList ? derChildren(certList).map((c) => c.raw) : [],
    responses: derChildren(responses).map(readSingleResponse),
  };
};

/** OCSPResponse → the BasicOCSPResponse bytes, or why there is none. */
const unwrapResponse = (der: Buffer): Buffer => {
  const outer = parseDer(der);
  if (outer.tag !== DER.SEQUENCE) throw problem('not an OCSPResponse');
  const [status, bytesWrapper, ...extra] = derChildren(outer);
  if (status?.tag !== TAG.ENUMERATED || status.content.length !== 1 || extra.length > 0)
    throw problem('not an OCSPResponse');
  const code = status.content[0] ?? 0;
  if (code !== 0) throw problem(`the responder answered ${RESPONSE_STATUS[code] ?? `status ${code}`}`);
  const responseBytes = bytesWrapper?.tag === TAG.CONTEXT_0 ? derChildren(bytesWrapper)[0] : undefined;
  if (responseBytes?.tag !== DER.SEQUENCE) throw problem('a successful response without responseBytes');
  const [type, octets] = derChildren(responseBytes);
  if (!type || decodeOid(type) !== OID.basicResponse) throw problem('responseType is not id-pkix-ocsp-basic');
  if (octets?.tag !== DER.OCTET_STRING) throw problem('response is not an OCTET STRING');
  return octets.content;
};

// ---- checks -----------------------------------------------------------------------------------------

const signedBy = (basic: BasicResponse, key: KeyObject): boolean =>
  verifyX509Signature(basic.signatureAlgorithmOid, key, basic.tbs, basic.signature);

/** Why `der` is not a delegated responder of `issuer` at `now`, or undefined when it is one. */
const delegationProblem = (der: Buffer, issuer: SigningCertificate, now: Date): string | undefined => {
  let responder: SigningCertificate;
  let issuedByIssuer: boolean;
  try {
    responder = parseCertificate(der);
    const [tbs, algorithm, signature] = derChildren(parseDer(der));
    issuedByIssuer =
      tbs !== undefined &&
      responder.issuerRaw.equals(issuer.subjectRaw) &&
      verifyX509Signature(
        algorithmOid(algorithm, 'certificate signatureAlgorithm'),
        issuer.x509.publicKey,
        tbs.raw,
        bitStringBytes(signature, 'certificate signature'),
      );
  } catch {
    return 'an unreadable responder certificate';
  }
  const who = JSON.stringify(responder.x509.subject.replaceAll('\n', ', '));
  if (!issuedByIssuer) return `responder certificate ${who} is not issued by the certificate's issuer`;
  if (!responder.extKeyUsage?.includes(OID.ocspSigning))
    return `responder certificate ${who} lacks the OCSPSigning extended key usage`;
  if (now < responder.notBefore || now > responder.notAfter)
    return `responder certificate ${who} is not valid at ${now.toISOString()}`;
  return undefined;
};

/** The issuer itself, or a certificate of the response that the issuer delegated OCSP signing to. */
const checkSigner = (basic: BasicResponse, issuer: SigningCertificate, now: Date): void => {
  if (!isSupportedX509Signature(basic.signatureAlgorithmOid))
    throw problem(`signature algorithm ${basic.signatureAlgorithmOid} is not supported`);
  if (signedBy(basic, issuer.x509.publicKey)) return;
  const reasons: string[] = [];
  const candidates = basic.certificates.filter((der) => !der.equals(issuer.der));
  for (const der of candidates.slice(0, MAX_RESPONDER_CERTIFICATES)) {
    const reason = delegationProblem(der, issuer, now);
    if (reason) {
      reasons.push(reason);
      continue;
    }
    if (signedBy(basic, parseCertificate(der).x509.publicKey)) return;
    reasons.push('the signature does not verify with the responder certificate');
  }
  throw problem(
    reasons.length > 0
      ? `not signed by the issuer, and ${reasons.join('; ')}`
      : 'the signature does not verify with the issuer key (and no delegated responder certificate is included)',
  );
};

/** The SingleResponse whose CertID is the certificate's, recomputing the hashes with the responder's algorithm. */
const findResponse = (
  responses: readonly SingleResponse[],
  cert: SigningCertificate,
  issuer: SigningCertificate,
): SingleResponse | undefined =>
  responses.find((single) => {
    try {
      const [algorithm, nameHash, keyHash, serial] = derChildren(single.certId);
      const hash = HASHES.get(algorithmOid(algorithm, 'CertID hashAlgorithm'));
      if (!hash || nameHash?.tag !== DER.OCTET_STRING || keyHash?.tag !== DER.OCTET_STRING) return false;
      const expected = issuerHashes(issuer, hash);
      return (
        serial !== undefined &&
        cert.serialRaw.equals(serial.raw) &&
        expected.name.equals(nameHash.content) &&
        expected.key.equals(keyHash.content)
      );
    } catch {
      return false; // a CertID we cannot read is not ours
    }
  });

/** notation: a revocation whose invalidity date is after the authentic signing time does not count. */
const invalidAfterSigning = (single: SingleResponse, signingTime: Date | undefined): boolean => {
  const extension = single.extensions.find((e) => e.oid === OID.invalidityDate);
  if (!extension || !signingTime) return false;
  try {
    return signingTime < generalizedTime(parseDer(extension.value), 'invalidityDate');
  } catch {
    return false; // as notation: an unreadable invalidity date leaves the revocation in force
  }
};

type ServerResult = CertRevocationResult & {
  /** A definite answer from a responder (ok, revoked, or its "unknown"): no further server is asked. */
  readonly final: boolean;
};

const evaluate = (
  body: Buffer,
  cert: SigningCertificate,
  issuer: SigningCertificate,
  options: CertCheckOptions,
): Omit<ServerResult, 'method'> => {
  const basic = readBasicResponse(unwrapResponse(body));
  checkSigner(basic, issuer, options.now);
  const single = findResponse(basic.responses, cert, issuer);
  if (!single) throw problem('no response for this certificate (serial, issuer name and key hash)');
  const critical = single.extensions.find((e) => e.critical);
  if (critical) throw problem(`unsupported critical extension ${critical.oid}`);
  if (single.thisUpdate.getTime() > options.now.getTime() + THIS_UPDATE_SKEW_MS)
    throw problem(`thisUpdate ${single.thisUpdate.toISOString()} is in the future`);
  // notation compares with Go's zero time when nextUpdate is absent: such a response is always expired.
  if (!single.nextUpdate) throw problem('expired response (no nextUpdate)');
  if (options.now > single.nextUpdate)
    throw problem(`expired response (nextUpdate ${single.nextUpdate.toISOString()})`);
  if (single.status === 'good') return { status: 'ok', final: true, detail: 'good' };
  if (single.status === 'unknown')
    return { status: 'unknown', final: true, detail: 'the responder does not know the certificate' };
  if (invalidAfterSigning(single, options.signingTime))
    return { status: 'ok', final: true, detail: 'revoked, but invalid only after the signing time' };
  return {
    status: 'revoked',
    final: true,
    detail: `revoked at ${single.revocationTime?.toISOString() ?? '?'}`,
  };
};

const fetchResponse = async (server: URL, request: Buffer, http: RevocationHttp): Promise<Buffer> => {
  const getUrl = ocspGetUrl(server, request);
  return getUrl
    ? http.get(getUrl, MAX_OCSP_RESPONSE_BYTES)
    : http.post(server.toString(), request, 'application/ocsp-request', MAX_OCSP_RESPONSE_BYTES);
};

const checkServer = async (
  server: string,
  cert: SigningCertificate,
  issuer: SigningCertificate,
  http: RevocationHttp,
  options: CertCheckOptions,
): Promise<ServerResult> => {
  const unknown = (why: string): ServerResult => ({
    status: 'unknown',
    method: 'ocsp',
    final: false,
    detail: `OCSP ${server}: ${why}`,
  });
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    return unknown('not a URL');
  }
  if (url.protocol !== 'http:') return unknown(`protocol ${url.protocol} is not supported (http: only)`);
  let body: Buffer;
  try {
    body = await fetchResponse(url, encodeOcspRequest(cert, issuer), http);
  } catch (error) {
    // The caller's RevocationHttp throws coded errors (FetchFailed, TooLarge, …): the code says what failed.
    const code = error instanceof BaseError ? `${error.code}: ` : '';
    return unknown(`${code}${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    const result = evaluate(body, cert, issuer, options);
    return { ...result, method: 'ocsp', detail: `OCSP ${server}: ${result.detail ?? ''}` };
  } catch (error) {
    if (error instanceof OcspProblem) return unknown(error.message);
    return unknown(`malformed response (${error instanceof Error ? error.message : String(error)})`);
  }
};

/**
 * The OCSP status of `cert` (issued by `issuer`): the first responder that gives a definite answer decides;
 * when none does, unknown with every server's problem. Never throws for what a server sends.
 */
export const checkOcsp = async (
  cert: SigningCertificate,
  issuer: SigningCertificate,
  http: RevocationHttp,
  options: CertCheckOptions,
): Promise<CertRevocationResult> => {
  if (cert.ocspServers.length === 0)
    return { status: 'non-revocable', method: 'ocsp', detail: 'no OCSP server' };
  const problems: string[] = [];
  for (const server of cert.ocspServers) {
    const { final, ...result } = await checkServer(server, cert, issuer, http, options);
    if (final) return result;
    problems.push(result.detail ?? server);
  }
  return { status: 'unknown', method: 'ocsp', detail: problems.join('; ') };
};
