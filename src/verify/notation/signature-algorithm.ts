// The six signature algorithms the Notary Project allows, their JWS names and COSE labels, and the
// primitive verification with node:crypto. ECDSA signatures are raw r||s in both envelopes.
import { constants, verify, type KeyObject } from 'node:crypto';

export type SignatureAlgorithm = 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';

const HASH: Readonly<Record<SignatureAlgorithm, string>> = {
  PS256: 'sha256',
  PS384: 'sha384',
  PS512: 'sha512',
  ES256: 'sha256',
  ES384: 'sha384',
  ES512: 'sha512',
};

const JWS_NAMES: ReadonlySet<string> = new Set(Object.keys(HASH));

/** The alg of a JWS protected header, or undefined when it is not a Notary Project algorithm. */
export const jwsAlgorithm = (alg: unknown): SignatureAlgorithm | undefined =>
  typeof alg === 'string' && JWS_NAMES.has(alg) ? (alg as SignatureAlgorithm) : undefined;

const COSE_LABELS: ReadonlyMap<number, SignatureAlgorithm> = new Map([
  [-37, 'PS256'],
  [-38, 'PS384'],
  [-39, 'PS512'],
  [-7, 'ES256'],
  [-35, 'ES384'],
  [-36, 'ES512'],
]);

/** The alg label (1) of a COSE protected header, or undefined when it is not a Notary Project algorithm. */
export const coseAlgorithm = (label: unknown): SignatureAlgorithm | undefined =>
  typeof label === 'number' ? COSE_LABELS.get(label) : undefined;

/**
 * Verifies `signature` over `data`. PSS salt: JWS verifiers (golang-jwt, used by notation) accept any
 * salt length, COSE ones (go-cose) require the hash length; we do the same for parity.
 */
export const verifySignature = (
  algorithm: SignatureAlgorithm,
  key: KeyObject,
  data: Buffer,
  signature: Buffer,
  pssSalt: 'auto' | 'digest',
): boolean => {
  try {
    if (algorithm.startsWith('ES'))
      return verify(HASH[algorithm], data, { key, dsaEncoding: 'ieee-p1363' }, signature);
    return verify(
      HASH[algorithm],
      data,
      {
        key,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: pssSalt === 'auto' ? constants.RSA_PSS_SALTLEN_AUTO : constants.RSA_PSS_SALTLEN_DIGEST,
      },
      signature,
    );
  } catch {
    return false;
  }
};
