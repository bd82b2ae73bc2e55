import { beforeAll, describe, expect, it } from 'vitest';
import { TrustPolicyError } from '../../../src/verify/errors.ts';
import { parseProvenance } from '../../../src/verify/provenance/parse-provenance.ts';
import {
  MAX_KEYRING_KEYS,
  readProvenanceKeyring,
} from '../../../src/verify/provenance/provenance-keyring.ts';
import { ProvenanceError } from '../../../src/verify/provenance/provenance-types.ts';
import {
  ARCHIVE,
  bytes,
  clearSign,
  helmMessage,
  makeKey,
  sha256,
  type TestKey,
} from './provenance-fixtures.ts';

let key: TestKey;
let good: string;

beforeAll(async () => {
  key = await makeKey('parser');
  good = await clearSign(helmMessage(), [key]);
});

const reasonOf = (text: string): string => {
  try {
    parseProvenance(bytes(text));
    return 'parsed';
  } catch (error) {
    if (error instanceof ProvenanceError) return error.code;
    throw error;
  }
};

/** The signature armor of the good file, to wrap other signed texts (the parser does not verify). */
const signatureOf = (prov: string): string => prov.slice(prov.indexOf('-----BEGIN PGP SIGNATURE-----'));
const withText = (escapedText: string): string =>
  `-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n${escapedText}\n${signatureOf(good)}`;
const SUMS = `files:\n  payment-0.1.0.tgz: ${sha256(ARCHIVE)}`;

describe('parseProvenance', () => {
  it('reads the signed text, the hash header, the one signature packet and the signed claims', () => {
    const parsed = parseProvenance(bytes(good));
    expect(parsed.hash).toBe('SHA512');
    expect(parsed.signedText).toBe(helmMessage().slice(0, -1));
    expect(parsed.signedText).toContain('\n- payment\n'); // dash-escaping undone
    expect(parsed.chart).toEqual({
      name: 'payment',
      version: '0.1.0',
      archiveName: 'payment-0.1.0.tgz',
      archiveDigest: sha256(ARCHIVE),
    });
    expect(parsed.signature[0]).toBeGreaterThanOrEqual(0x80);
  });

  it('accepts a file without its last line break, and armor headers in the signature block', () => {
    expect(reasonOf(good.slice(0, -1))).toBe('parsed');
    expect(
      reasonOf(
        good.replace('-----BEGIN PGP SIGNATURE-----\n', '-----BEGIN PGP SIGNATURE-----\nVersion: GnuPG v2\n'),
      ),
    ).toBe('parsed');
  });

  it.each<[string, (p: string) => string]>([
    ['text before the signed message', (p) => `hello\n${p}`],
    ['text after the signature', (p) => `${p}trailing\n`],
    ['a second signed message after the first', (p) => `${p}${p}`],
    ['CRLF line ends', (p) => p.replaceAll('\n', '\r\n')],
    ['a trailing blank on a signed line', (p) => p.replace('name: payment', 'name: payment ')],
    ['a line starting with a dash that is not dash-escaped', (p) => p.replace('- - demo', '-demo')],
    ['no Hash header', (p) => p.replace('Hash: SHA512\n', '')],
    ['two Hash headers', (p) => p.replace('Hash: SHA512\n', 'Hash: SHA512\nHash: SHA256\n')],
    ['a Hash header naming two algorithms', (p) => p.replace('Hash: SHA512', 'Hash: SHA256,SHA512')],
    ['a Hash header naming SHA1', (p) => p.replace('Hash: SHA512', 'Hash: SHA1')],
    ['another armor header', (p) => p.replace('Hash: SHA512\n', 'Hash: SHA512\nCharset: UTF-8\n')],
    [
      'an unknown header in the signature armor',
      (p) => p.replace('SIGNATURE-----\n\n', 'SIGNATURE-----\nX: y\n\n'),
    ],
    ['a changed armor checksum', (p) => p.replace(/\n=[A-Za-z0-9+/]{4}\n/, '\n=AAAA\n')],
    ['a signature body that is not base64', (p) => p.replace(/\n\n([A-Za-z0-9+/])/, '\n\n!$1')],
    [
      'no signature',
      (p) => p.slice(0, p.indexOf('-----BEGIN PGP SIGNATURE-----')) + '-----END PGP SIGNATURE-----\n',
    ],
    ['a NUL byte', (p) => p.replace('A payment', 'A\u0000payment')],
    ['a line separator (a line break for YAML 1.1)', (p) => p.replace('A payment', 'A\u2028payment')],
    ['a next-line character', (p) => p.replace('A payment', 'A\u0085payment')],
    ['a byte order mark', (p) => `\ufeff${p}`],
  ])('refuses %s', (_what, mutate) => {
    expect(reasonOf(mutate(good))).toBe('ProvenanceMalformed');
  });

  it('refuses bytes that are not UTF-8', () => {
    const raw = bytes(good);
    const at = good.indexOf('A payment');
    raw[at] = 0xff;
    expect(() => parseProvenance(raw)).toThrow(expect.objectContaining({ code: 'ProvenanceMalformed' }));
  });

  const METADATA = 'apiVersion: v2\nname: payment\nversion: 0.1.0\n';
  it.each([
    ['no ... separator', `${METADATA}${SUMS}`],
    ['two ... separators', `${METADATA}\n...\n${SUMS}\n...\nfiles: {}`],
    ['no metadata before ...', `...\n${SUMS}`],
    ['a repeated metadata key', `${METADATA}- name: billing\n\n...\n${SUMS}`.replace('- name', 'name')],
    ['a version spelled Version too', `${METADATA}Version: 9.9.9\n\n...\n${SUMS}`],
    ['a numeric version', `apiVersion: v2\nname: payment\nversion: 1.0\n\n...\n${SUMS}`],
    ['keywords that are not strings', `${METADATA}keywords: 5\n\n...\n${SUMS}`],
    ['an anchor and alias', `apiVersion: &a v2\nname: payment\nversion: 0.1.0\nhome: *a\n\n...\n${SUMS}`],
    ['a merge key', `${METADATA}annotations:\n  <<: {a: b}\n\n...\n${SUMS}`],
    ['a YAML tag', `${METADATA}home: !!str x\n\n...\n${SUMS}`],
    ['a second YAML document', `${METADATA}---\nname: billing\n\n...\n${SUMS}`],
    ['no chart name', `apiVersion: v2\nversion: 0.1.0\n\n...\n${SUMS}`],
    ['two files entries', `${METADATA}\n...\n${SUMS}\n  other-0.1.0.tgz: ${sha256(ARCHIVE)}`],
    ['a repeated files entry', `${METADATA}\n...\n${SUMS}\n  payment-0.1.0.tgz: ${sha256(ARCHIVE)}`],
    ['an images section', `${METADATA}\n...\n${SUMS}\nimages:\n  a:1: ${sha256(ARCHIVE)}`],
    ['a flow mapping of files', `${METADATA}\n...\nfiles: {payment-0.1.0.tgz: ${sha256(ARCHIVE)}}`],
    ['a sha512 hash', `${METADATA}\n...\nfiles:\n  payment-0.1.0.tgz: sha512:${'a'.repeat(128)}`],
    ['an upper-case hash', `${METADATA}\n...\n${SUMS.toUpperCase().replace('FILES', 'files')}`],
  ])('refuses a signed document with %s', (_what, text) => {
    const escaped = text
      .split('\n')
      .map((l) => (l.startsWith('-') ? `- ${l}` : l))
      .join('\n');
    expect(reasonOf(withText(escaped))).toBe('ProvenanceMalformed');
  });

  it('reads a signed document laid out as helm writes it', () => {
    expect(reasonOf(withText(`${METADATA}\n...\n${SUMS}`))).toBe('parsed');
  });
});

describe('readProvenanceKeyring', () => {
  const code = async (sources: readonly (string | Uint8Array)[]): Promise<string> => {
    try {
      await readProvenanceKeyring(sources, 'release');
      return 'read';
    } catch (error) {
      return error instanceof TrustPolicyError ? error.code : 'other';
    }
  };

  it('reads armored blocks (several in one string) and binary keys', async () => {
    const other = await makeKey('other');
    const ring = await readProvenanceKeyring([`${key.armored}\n${other.armored}`, key.publicKey.write()]);
    expect(ring.keys).toHaveLength(3);
  });

  it.each<[string, () => (string | Uint8Array)[], string]>([
    ['no source', () => [], 'MaterialMissing'],
    ['garbage', () => ['not a key'], 'InvalidKey'],
    ['garbage bytes', () => [new Uint8Array([1, 2, 3])], 'InvalidKey'],
    ['a private key', () => [key.privateKey.armor()], 'InvalidKey'],
    ['a signature block', () => [signatureOf(good)], 'InvalidKey'],
    ['text beside the key', () => [`my key:\n${key.armored}`], 'InvalidKey'],
    ['too many keys', () => Array.from({ length: MAX_KEYRING_KEYS + 1 }, () => key.armored), 'InvalidKey'],
    ['too many bytes', () => ['x'.repeat(1024 * 1024 + 1)], 'InvalidKey'],
  ])('refuses %s with %s', async (_what, sources, expected) => {
    expect(await code(sources())).toBe(expected);
  });
});
