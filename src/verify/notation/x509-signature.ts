// Signatures of X.509 structures (CRLs, OCSP responses) by their AlgorithmIdentifier OID, with
// node:crypto: RSA PKCS#1 v1.5, ECDSA (DER) and Ed25519 over SHA-2. SHA-1, MD5 and RSASSA-PSS
// parameters are refused (false), as Go's x509 refuses the insecure ones.
import { verify, type KeyObject } from 'node:crypto';

const ALGORITHMS: ReadonlyMap<string, { hash: string | null; key: 'rsa' | 'ec' | 'ed25519' }> = new Map([
  ['1.2.840.113549.1.1.11', { hash: 'sha256', key: 'rsa' }],
  ['1.2.840.113549.1.1.12', { hash: 'sha384', key: 'rsa' }],
  ['1.2.840.113549.1.1.13', { hash: 'sha512', key: 'rsa' }],
  ['1.2.840.10045.4.3.2', { hash: 'sha256', key: 'ec' }],
  ['1.2.840.10045.4.3.3', { hash: 'sha384', key: 'ec' }],
  ['1.2.840.10045.4.3.4', { hash: 'sha512', key: 'ec' }],
  ['1.3.101.112', { hash: null, key: 'ed25519' }],
]);

/** Whether an X.509 signature algorithm OID is one tagguard verifies. */
export const isSupportedX509Signature = (algorithmOid: string): boolean => ALGORITHMS.has(algorithmOid);

/** Verifies `signature` over `data` with `key` under the algorithm `algorithmOid`; false when unsupported. */
export const verifyX509Signature = (
  algorithmOid: string,
  key: KeyObject,
  data: Buffer,
  signature: Buffer,
): boolean => {
  const algorithm = ALGORITHMS.get(algorithmOid);
  if (!algorithm || key.asymmetricKeyType !== algorithm.key) return false;
  try {
    return algorithm.key === 'ec'
      ? verify(algorithm.hash, data, { key, dsaEncoding: 'der' }, signature)
      : verify(algorithm.hash, data, key, signature);
  } catch {
    return false;
  }
};
