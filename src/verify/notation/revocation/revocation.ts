// Revocation of a Notary Project certificate chain, as notation-core-go decides it: every certificate
// but the root is checked (in parallel) by OCSP when it names a responder, falling back to its CRLs when
// OCSP gives no answer, else by CRL; a certificate with neither is "non-revocable". The chain is revoked
// when any certificate is, OK when every one is OK or non-revocable, unknown otherwise. Only chains that
// already lead to the trust store are checked, so the URLs come from certificates a trusted CA signed.
import type { SigningCertificate } from '../certificate.ts';
import { formatSubject } from '../distinguished-name.ts';
import { checkCrl, CrlCache } from './crl.ts';
import { checkOcsp } from './ocsp.ts';
import type { CertCheckOptions, CertRevocationResult, RevocationHttp } from './types.ts';

export interface ChainRevocationResult {
  readonly status: 'ok' | 'revoked' | 'unknown';
  /** One line per certificate that was not simply OK, for the signer's message. */
  readonly details: readonly string[];
}

const certificateStatus = async (
  cert: SigningCertificate,
  issuer: SigningCertificate,
  http: RevocationHttp,
  options: CertCheckOptions & { readonly cache: CrlCache },
): Promise<CertRevocationResult> => {
  if (cert.ocspServers.length > 0) {
    const ocsp = await checkOcsp(cert, issuer, http, options);
    if (ocsp.status !== 'unknown' || cert.crlDistributionPoints.length === 0) return ocsp;
    const crl = await checkCrl(cert, issuer, http, options);
    return {
      ...crl,
      method: 'ocsp-fallback-crl',
      detail: `${ocsp.detail ?? 'OCSP: unknown'}; ${crl.detail ?? ''}`,
    };
  }
  if (cert.crlDistributionPoints.length > 0) return checkCrl(cert, issuer, http, options);
  return { status: 'non-revocable', method: 'none' };
};

/** What the verifier needs: the revocation status of a validated chain (leaf first, root last). */
export interface ChainRevocation {
  check(chain: readonly SigningCertificate[], options: CertCheckOptions): Promise<ChainRevocationResult>;
}

export class RevocationChecker implements ChainRevocation {
  private readonly http: RevocationHttp;
  private readonly cache = new CrlCache();

  constructor(http: RevocationHttp) {
    this.http = http;
  }

  /** `chain` is leaf first, root last, already validated against the trust store. */
  async check(
    chain: readonly SigningCertificate[],
    options: CertCheckOptions,
  ): Promise<ChainRevocationResult> {
    const results = await Promise.all(
      chain.map((cert, i) => {
        const issuer = chain[i + 1];
        return issuer
          ? certificateStatus(cert, issuer, this.http, { ...options, cache: this.cache })
          : Promise.resolve<CertRevocationResult>({ status: 'non-revocable', method: 'none' });
      }),
    );
    const details: string[] = [];
    let revoked = false;
    let unknown = false;
    results.forEach((result, i) => {
      const cert = chain[i];
      if (!cert || result.status === 'ok' || result.status === 'non-revocable') return;
      const who = JSON.stringify(formatSubject(cert.subject));
      details.push(
        `certificate ${who} is ${result.status === 'revoked' ? 'revoked' : 'of unknown revocation status'}: ${result.detail ?? result.method}`,
      );
      if (result.status === 'revoked') revoked = true;
      else unknown = true;
    });
    return { status: revoked ? 'revoked' : unknown ? 'unknown' : 'ok', details };
  }
}
