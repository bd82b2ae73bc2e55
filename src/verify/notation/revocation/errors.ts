// Why revocation data could not be used (fetching it is the caller's RevocationHttp, whose errors count
// the same). Any of these makes a certificate's status unknown.
import { BaseError } from '../../../errors.ts';

export type RevocationErrorCode =
  /** Not a well-formed CRL / OCSP response. */
  | 'Malformed'
  /** Well formed, but not signed by the issuer (or its delegated responder), stale, or about another certificate. */
  | 'Invalid';

export class RevocationError extends BaseError<RevocationErrorCode> {}
