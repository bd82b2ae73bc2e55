// A trust store as data: PEM strings (one or many certificates each) turned into DER certificates.
// Authenticity in the Notary Project is membership: some certificate of the signature's chain must be
// byte-for-byte one of these (notation-core-go VerifyAuthenticity).
import { X509Certificate } from 'node:crypto';
import { NotationError } from './errors.ts';

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** At most this many certificates per trust store. */
export const MAX_TRUST_STORE_CERTIFICATES = 1000;

export const parseTrustStore = (pems: readonly string[]): readonly Buffer[] => {
  const certificates: Buffer[] = [];
  for (const pem of pems) {
    const blocks = pem.match(PEM_BLOCK) ?? [];
    if (blocks.length === 0 && pem.trim() !== '')
      throw new NotationError('MalformedCertificate', 'a trust store entry holds no PEM certificate');
    for (const block of blocks) {
      try {
        certificates.push(new X509Certificate(block).raw);
      } catch (cause) {
        throw new NotationError('MalformedCertificate', 'a trust store certificate cannot be parsed', {
          cause,
        });
      }
    }
  }
  if (certificates.length > MAX_TRUST_STORE_CERTIFICATES)
    throw new NotationError(
      'EnvelopeTooLarge',
      `more than ${MAX_TRUST_STORE_CERTIFICATES} trust store certificates`,
    );
  return certificates;
};

/** The first chain certificate that is in the store, if any. */
export const findTrustAnchor = (
  chain: readonly { der: Buffer }[],
  store: readonly Buffer[],
): Buffer | undefined => chain.find((cert) => store.some((trusted) => trusted.equals(cert.der)))?.der;
