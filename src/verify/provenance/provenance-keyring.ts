// The OpenPGP public keys of one `verify.provenance` entry: every armored or binary public key in a set of
// byte strings (a Secret's data values, or the inline `publicKey`). Policy material: what does not read as
// public keys is a stalling TrustPolicyError (fix the Secret), never a verdict on an artifact.
import { createHash } from 'node:crypto';
import { readKeys, type Key, type PublicKey } from 'openpgp';
import { TrustPolicyError } from '../errors.ts';
import { causeText } from '../judge-each.ts';
import type { ProvenanceKeyring } from './provenance-types.ts';

export type { ProvenanceKeyring } from './provenance-types.ts';

/** A keyring of a few maintainers' keys is a few KiB; a whole keyserver dump is not a policy. */
export const MAX_KEYRING_BYTES = 1024 * 1024;
export const MAX_KEYRING_KEYS = 100;

const ARMOR_BLOCK = /-----BEGIN PGP ([A-Z ]+)-----[\s\S]*?-----END PGP \1-----/g;

const invalid = (message: string, signer: string | undefined, cause?: unknown): never => {
  throw new TrustPolicyError('InvalidKey', message, signer, cause === undefined ? undefined : { cause });
};

const publicOnly = (keys: readonly Key[], signer: string | undefined): PublicKey[] =>
  keys.map((key) =>
    // A private key in a Secret the operator reads is a leak waiting to happen: refused, not stripped.
    key.isPrivate() ? invalid('the keyring holds a private key: give public keys only', signer) : key,
  );

const readArmored = async (text: string, signer: string | undefined): Promise<PublicKey[]> => {
  const blocks = [...text.matchAll(ARMOR_BLOCK)];
  const outside = text.replaceAll(ARMOR_BLOCK, '');
  if (blocks.length === 0 || outside.trim() !== '')
    invalid('the keyring has text outside its armored key blocks', signer);
  const keys: PublicKey[] = [];
  for (const [block, type] of blocks) {
    if (type !== 'PUBLIC KEY BLOCK')
      invalid(`the keyring holds a PGP ${type ?? ''}, not a public key`, signer);
    keys.push(...publicOnly(await readKeys({ armoredKeys: block }), signer));
  }
  return keys;
};

const readOne = async (source: string | Uint8Array, signer: string | undefined): Promise<PublicKey[]> => {
  const bytes = typeof source === 'string' ? Buffer.from(source, 'utf8') : Buffer.from(source);
  const text = bytes.toString('latin1');
  try {
    return text.includes('-----BEGIN PGP')
      ? await readArmored(text, signer)
      : publicOnly(await readKeys({ binaryKeys: new Uint8Array(bytes) }), signer);
  } catch (error) {
    if (error instanceof TrustPolicyError) throw error;
    return invalid(`a keyring entry is not an OpenPGP public key (${causeText(error)})`, signer, error);
  }
};

/**
 * Every public key in `sources`; throws TrustPolicyError: MaterialMissing when there is none, InvalidKey
 * when an entry is not public keys (a private key, another armor type, garbage) or the caps are passed.
 */
export const readProvenanceKeyring = async (
  sources: readonly (string | Uint8Array)[],
  signer?: string,
): Promise<ProvenanceKeyring> => {
  const size = sources.reduce((n, s) => n + (typeof s === 'string' ? Buffer.byteLength(s) : s.length), 0);
  if (size > MAX_KEYRING_BYTES) invalid(`the keyring has more than ${MAX_KEYRING_BYTES} bytes`, signer);
  const keys: PublicKey[] = [];
  for (const source of sources) {
    keys.push(...(await readOne(source, signer)));
    if (keys.length > MAX_KEYRING_KEYS) invalid(`the keyring has more than ${MAX_KEYRING_KEYS} keys`, signer);
  }
  if (keys.length === 0)
    throw new TrustPolicyError('MaterialMissing', 'the keyring holds no OpenPGP public key', signer);
  const hash = createHash('sha256');
  for (const source of sources) {
    const bytes = typeof source === 'string' ? Buffer.from(source, 'utf8') : source;
    // Length-prefixed, so that two values cannot hash as their concatenation.
    hash.update(`${bytes.length}:`).update(bytes);
  }
  const digest = `sha256:${hash.digest('hex')}`;
  return { keys, digest, toJSON: () => ({ digest }) };
};
