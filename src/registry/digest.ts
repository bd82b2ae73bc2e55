// Content digests: every manifest and blob read is re-hashed against the digest it was asked for
// (sha256 or sha512), never trusting the registry's Docker-Content-Digest header.
import { createHash, type Hash } from 'node:crypto';
import { isDigest } from './reference.ts';
import { RegistryError } from './errors.ts';

export type DigestAlgorithm = 'sha256' | 'sha512';

export interface Digester {
  update(chunk: Uint8Array): void;
  /** The digest of everything passed to update, as "algorithm:hex". */
  digest(): string;
}

export const algorithmOf = (digest: string): DigestAlgorithm => {
  if (!isDigest(digest)) throw new RegistryError('InvalidResponse', `"${digest}" is not a supported digest`);
  return digest.startsWith('sha512:') ? 'sha512' : 'sha256';
};

export const createDigester = (algorithm: DigestAlgorithm): Digester => {
  const hash: Hash = createHash(algorithm);
  return {
    update: (chunk) => {
      hash.update(chunk);
    },
    digest: () => `${algorithm}:${hash.digest('hex')}`,
  };
};
