// When several signatures fail for one signer entry, the entry reports the most telling reason: a valid
// signature for another digest says more than a foreign signer, which says more than a broken signature.
import type { VerifyReason } from './types.ts';

const PRIORITY: readonly VerifyReason[] = [
  'DigestMismatch',
  'CertificateExpired',
  'UntrustedSigner',
  'SignatureInvalid',
  'RegistryError',
  'SignatureMissing',
];

/** The most telling of the failures (lowest index in PRIORITY); undefined for none. */
export const mostTelling = <T extends { readonly reason: VerifyReason }>(
  failures: readonly T[],
): T | undefined => [...failures].sort((a, b) => PRIORITY.indexOf(a.reason) - PRIORITY.indexOf(b.reason))[0];
