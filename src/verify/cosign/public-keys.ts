// Public keys of keyed cosign signers: PEM parsing (ECDSA P-256/P-384/P-521, RSA, Ed25519), raw signature
// checks with the hash cosign uses for each key type, and a stable fingerprint used as the signer identity.
import { constants, createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { TrustPolicyError } from '../errors.ts';

export interface TrustedKey {
  readonly key: KeyObject;
  /** sha256 of the SubjectPublicKeyInfo DER, hex: what the identity column shows. */
  readonly fingerprint: string;
  /** The same hash in base64: the `hint` cosign v3 writes into a bundle. */
  readonly hint: string;
}

const PEM_BLOCK = /-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g;

export const describeKey = (key: KeyObject): TrustedKey => {
  const der = key.export({ type: 'spki', format: 'der' });
  const digest = createHash('sha256').update(der).digest();
  return { key, fingerprint: `sha256:${digest.toString('hex')}`, hint: digest.toString('base64') };
};

/** Every PEM public key block of the given strings; a string without any is an error. */
export const parsePublicKeys = (pems: readonly string[], signer: string): TrustedKey[] =>
  pems.flatMap((pem) => {
    const blocks = pem.match(PEM_BLOCK) ?? [];
    if (blocks.length === 0) throw new TrustPolicyError('InvalidKey', 'no PEM public key found', signer);
    return blocks.map((block) => {
      try {
        return describeKey(createPublicKey(block));
      } catch (cause) {
        throw new TrustPolicyError('InvalidKey', 'a public key does not parse', signer, { cause });
      }
    });
  });

/**
 * Hashes to try for a key: cosign signs with SHA-256 whatever the curve; sigstore-go (cosign v3 bundles)
 * uses SHA-384 / SHA-512 for P-384 / P-521. Ed25519 signs the message itself.
 */
const hashesFor = (key: KeyObject): readonly (string | null)[] => {
  if (key.asymmetricKeyType === 'ed25519') return [null];
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'secp384r1') return ['sha256', 'sha384'];
    if (curve === 'secp521r1') return ['sha256', 'sha512'];
  }
  return ['sha256'];
};

/** True when `signature` over `data` verifies under `key` (ECDSA DER, RSA PKCS#1 v1.5 or PSS, Ed25519). */
export const verifyRawSignature = (key: KeyObject, data: Buffer, signature: Buffer): boolean => {
  for (const hash of hashesFor(key)) {
    try {
      if (verify(hash, data, key, signature)) return true;
      if (key.asymmetricKeyType === 'rsa' && hash !== null) {
        const pss = {
          key,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: constants.RSA_PSS_SALTLEN_AUTO,
        };
        if (verify(hash, data, pss, signature)) return true;
      }
    } catch {
      // A malformed signature is simply not a valid one.
    }
  }
  return false;
};
