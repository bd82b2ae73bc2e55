// Certificates carried by a cosign signature (PEM annotations of a legacy `.sig`, base64 DER in a
// bundle), read strictly: @sigstore/core's PEM reader drops any line that looks like a header or footer
// and base64-decodes the rest leniently, and its DER reader ignores trailing bytes, so it accepts
// certificates cosign (Go's pem.Decode and x509.ParseCertificate) refuses. Here the text must be
// PEM CERTIFICATE blocks and whitespace only, the base64 canonical, the DER one certificate with no
// trailing data, and the outer signature algorithm the one inside the signed part (as Go requires).
import { X509Certificate } from '@sigstore/core';
import { BaseError } from '../../errors.ts';
import { derChildren, readDer } from '../notation/der.ts';

export type SignatureCertificateErrorCode = 'MalformedPem' | 'MalformedCertificate';

export class SignatureCertificateError extends BaseError<SignatureCertificateErrorCode> {}

const BLOCK = /-----BEGIN CERTIFICATE-----([^-]*)-----END CERTIFICATE-----/g;
const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Canonical base64 only: the bytes a lenient decoder would make of other text are not what was signed. */
export const strictBase64 = (text: string): Buffer => {
  if (!CANONICAL_BASE64.test(text))
    throw new SignatureCertificateError('MalformedCertificate', 'the certificate is not canonical base64');
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text)
    throw new SignatureCertificateError('MalformedCertificate', 'the certificate is not canonical base64');
  return bytes;
};

/** One DER certificate, nothing after it, outer and inner signature algorithms equal. */
export const readCertificateDer = (der: Buffer): X509Certificate => {
  try {
    const { node, next } = readDer(der);
    if (next !== der.length) throw new Error('data after the certificate');
    const [tbs, algorithm, signature, ...extra] = derChildren(node);
    if (!tbs || !algorithm || !signature || extra.length > 0) throw new Error('not a certificate');
    const fields = derChildren(tbs);
    const inner = fields[fields[0]?.tag === 0xa0 ? 2 : 1];
    if (!inner?.raw.equals(algorithm.raw))
      throw new Error('the outer signature algorithm differs from the signed one');
  } catch (cause) {
    throw new SignatureCertificateError('MalformedCertificate', 'the certificate is not well-formed DER', {
      cause,
    });
  }
  return X509Certificate.parse(Buffer.from(der));
};

/** Every certificate of PEM text that holds nothing but CERTIFICATE blocks and whitespace. */
export const readPemCertificates = (text: string): X509Certificate[] => {
  const certificates: X509Certificate[] = [];
  let outside = '';
  let last = 0;
  for (const match of text.matchAll(BLOCK)) {
    outside += text.slice(last, match.index);
    last = match.index + match[0].length;
    certificates.push(readCertificateDer(strictBase64((match[1] ?? '').replace(/[\r\n\t ]/g, ''))));
  }
  outside += text.slice(last);
  if (certificates.length === 0 || outside.trim() !== '')
    throw new SignatureCertificateError('MalformedPem', 'not PEM certificate blocks only');
  return certificates;
};
