// Why revocation data could not be had or used. Any of these makes a certificate's status unknown.
import { BaseError } from '../../../errors.ts';

export type RevocationErrorCode =
  /** The location is not a plain http: URL (notation reads CRLs and OCSP over http only). */
  | 'UnsupportedUrl'
  /** No answer, a timeout, a refused connection, an HTTP status other than 200, too many redirects. */
  | 'FetchFailed'
  /** More bytes than the limit. */
  | 'TooLarge'
  /** Not a well-formed CRL / OCSP response. */
  | 'Malformed'
  /** Well formed, but not signed by the issuer (or its delegated responder), stale, or about another certificate. */
  | 'Invalid';

export class RevocationError extends BaseError<RevocationErrorCode> {}
