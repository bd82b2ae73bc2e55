// Certificates whose subject key node:crypto reads oddly or not at all, made at test time: a real leaf
// issued by openssl gets another SubjectPublicKeyInfo and is signed again by its CA, so it still chains.
// Kinds: a key algorithm OID nobody knows (createPublicKey throws), SM2 (made by openssl; node reads it
// as a key of no type), Ed448, X448 and DSA (node reads them; none can verify a cosign signature).
import { createPrivateKey, generateKeyPairSync, sign, X509Certificate } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { derChildren, parseDer } from '../../src/verify/notation/der.ts';
import type { KeyPair } from '../env/pki.ts';

const exec = promisify(execFile);

export type OddKeyKind = 'unknown-oid' | 'sm2' | 'ed448' | 'x448' | 'dsa';
export const ODD_KEY_KINDS: readonly OddKeyKind[] = ['unknown-oid', 'sm2', 'ed448', 'x448', 'dsa'];

const derLength = (n: number): Buffer => {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
};

/** A DER TLV of `tag` around the concatenated `parts`. */
export const derEncode = (tag: number, ...parts: Buffer[]): Buffer => {
  const content = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), derLength(content.length), content]);
};

export const toPem = (der: Buffer): string =>
  `-----BEGIN CERTIFICATE-----\n${(der.toString('base64').match(/.{1,64}/g) ?? []).join('\n')}\n-----END CERTIFICATE-----\n`;

/** ecPublicKey (1.2.840.10045.2.1) with its last arc changed to 9: an algorithm no library knows. */
const unknownAlgorithm = (spki: Buffer): Buffer => {
  const oid = Buffer.from('06072a8648ce3d0201', 'hex');
  const at = spki.indexOf(oid);
  if (at < 0) throw new Error('not an EC key');
  const edited = Buffer.from(spki);
  edited[at + oid.length - 1] = 0x09;
  return edited;
};

const sm2PublicKey = async (): Promise<Buffer> => {
  const dir = await mkdtemp(join(tmpdir(), 'tagguard-sm2-'));
  const keyFile = join(dir, 'sm2.key');
  await exec('openssl', ['genpkey', '-algorithm', 'sm2', '-out', keyFile]);
  const { stdout } = await exec('openssl', ['pkey', '-in', keyFile, '-pubout', '-outform', 'DER'], {
    encoding: 'buffer',
  });
  return stdout;
};

const spkiOf = async (kind: OddKeyKind, original: Buffer): Promise<Buffer> => {
  switch (kind) {
    case 'unknown-oid':
      return unknownAlgorithm(original);
    case 'sm2':
      return sm2PublicKey();
    case 'dsa':
      return generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 }).publicKey.export({
        type: 'spki',
        format: 'der',
      });
    case 'ed448':
      return generateKeyPairSync('ed448').publicKey.export({ type: 'spki', format: 'der' });
    case 'x448':
      return generateKeyPairSync('x448').publicKey.export({ type: 'spki', format: 'der' });
  }
};

/** `leaf` (PEM, issued by `ca`) with its public key replaced by one of `kind`, signed again by `ca`. */
export const withOddKey = async (leafPem: string, ca: KeyPair, kind: OddKeyKind): Promise<string> => {
  const [tbs, algorithm] = derChildren(parseDer(new X509Certificate(leafPem).raw));
  if (!tbs || !algorithm) throw new Error('not a certificate');
  const fields = derChildren(tbs);
  // version, serial, signature, issuer, validity, subject, subjectPublicKeyInfo, extensions
  const spki = fields[6];
  if (!spki) throw new Error('no subjectPublicKeyInfo');
  const replaced = await spkiOf(kind, spki.raw);
  const newTbs = derEncode(0x30, ...fields.map((f, i) => (i === 6 ? replaced : f.raw)));
  const signature = sign('sha256', newTbs, createPrivateKey(await readFile(ca.keyFile)));
  return toPem(derEncode(0x30, newTbs, algorithm.raw, derEncode(0x03, Buffer.from([0]), signature)));
};
