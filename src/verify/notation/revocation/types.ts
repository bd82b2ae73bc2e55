// What revocation checking of a Notary Project certificate chain reports, and the HTTP it needs.
// Results follow notation-core-go: per certificate ok / revoked / unknown / non-revocable (no OCSP or
// CRL location), by OCSP, CRL, or CRL after OCSP gave no answer.

export type RevocationStatus = 'ok' | 'revoked' | 'unknown' | 'non-revocable';

export type RevocationMethod = 'ocsp' | 'crl' | 'ocsp-fallback-crl' | 'none';

export interface CertRevocationResult {
  readonly status: RevocationStatus;
  readonly method: RevocationMethod;
  /** Why, for people: the server and what it said, or what went wrong (never a credential). */
  readonly detail?: string;
}

/**
 * HTTP for revocation data: plain `http:` URLs only (as notation; CRLs and OCSP responses are signed),
 * bounded size and time, no credentials, at most a few same-scheme redirects. Throws RevocationFetchError.
 */
export interface RevocationHttp {
  get(url: string, maxBytes: number): Promise<Buffer>;
  post(url: string, body: Buffer, contentType: string, maxBytes: number): Promise<Buffer>;
}

export interface CertCheckOptions {
  /** The verifier's clock. */
  readonly now: Date;
  /**
   * The authentic signing time (signingAuthority scheme only, as notation-go): a revocation whose
   * invalidity date is after it does not count.
   */
  readonly signingTime?: Date;
  /** Fetch CRLs afresh instead of using cached ones (a person asked for a fresh check). */
  readonly refresh?: boolean;
}
