// What revocation checking of a Notary Project certificate chain reports, following notation-core-go (per
// certificate ok / revoked / unknown / non-revocable, by OCSP, CRL, or CRL after OCSP gave no answer), and
// the HTTP it needs: an interface, since verify/ does no I/O of its own; the caller passes one in.

export type RevocationStatus = 'ok' | 'revoked' | 'unknown' | 'non-revocable';

export type RevocationMethod = 'ocsp' | 'crl' | 'ocsp-fallback-crl' | 'none';

export interface CertRevocationResult {
  readonly status: RevocationStatus;
  readonly method: RevocationMethod;
  /** Why, for people: the server and what it said, or what went wrong (never a credential). */
  readonly detail?: string;
}

/**
 * HTTP for revocation data, implemented by the caller (src/registry/revocation-http.ts): plain `http:` URLs
 * only (as notation; CRLs and OCSP responses are signed), at most `maxBytes`, bounded time, no
 * credentials, at most a few same-scheme redirects. Whatever it throws makes the status unknown; the code
 * of a coded error (a BaseError) is quoted in the detail.
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
