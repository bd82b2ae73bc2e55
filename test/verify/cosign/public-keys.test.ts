// Keyed cosign signatures: the key types cosign supports, with the hashes it uses.
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parsePublicKeys, verifyRawSignature } from '../../../src/verify/cosign/public-keys.ts';
import { TrustPolicyError } from '../../../src/verify/errors.ts';

const data = Buffer.from('simple signing payload');

describe('keyed signatures', () => {
  it.each([
    ['ECDSA P-256', generateKeyPairSync('ec', { namedCurve: 'P-256' }), 'sha256'],
    ['ECDSA P-384 with SHA-256 (cosign)', generateKeyPairSync('ec', { namedCurve: 'P-384' }), 'sha256'],
    ['ECDSA P-384 with SHA-384 (sigstore-go)', generateKeyPairSync('ec', { namedCurve: 'P-384' }), 'sha384'],
    ['RSA 2048 PKCS#1 v1.5', generateKeyPairSync('rsa', { modulusLength: 2048 }), 'sha256'],
    ['Ed25519', generateKeyPairSync('ed25519'), null],
  ] as const)('verify with %s and fail on other data', (_name, pair, hash) => {
    const [key] = parsePublicKeys([pair.publicKey.export({ type: 'spki', format: 'pem' }).toString()], 'k');
    const signature = sign(hash, data, pair.privateKey);
    expect(key && verifyRawSignature(key.key, data, signature)).toBe(true);
    expect(key && verifyRawSignature(key.key, Buffer.from('other'), signature)).toBe(false);
  });

  it('names a key by the SHA-256 of its SubjectPublicKeyInfo', () => {
    const pem = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(parsePublicKeys([pem], 'k')[0]?.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it.each([
    ['text without a PEM block', 'not a key'],
    ['a PEM block that is no key', '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----'],
  ])('refuses %s with InvalidKey', (_what, pem) => {
    const error = (() => {
      try {
        parsePublicKeys([pem], 'k');
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(TrustPolicyError);
    expect((error as TrustPolicyError).code).toBe('InvalidKey');
  });
});
