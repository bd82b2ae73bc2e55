import fc from 'fast-check';
import { readKey, revokeKey, type SecretKeyPacket } from 'openpgp';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_PROVENANCE_BYTES } from '../../../src/verify/provenance/parse-provenance.ts';
import {
  readProvenanceKeyring,
  type ProvenanceKeyring,
} from '../../../src/verify/provenance/provenance-keyring.ts';
import type { ExpectedChart, ProvenanceResult } from '../../../src/verify/provenance/provenance-types.ts';
import { coarseReason, verifyProvenance } from '../../../src/verify/provenance/verify-provenance.ts';
import {
  ARCHIVE,
  bytes,
  clearSign,
  helmMessage,
  makeKey,
  sha256,
  type MessageOptions,
  type TestKey,
} from './provenance-fixtures.ts';

const DAY = 24 * 3600 * 1000;
/** The verifier's clock: a minute after the signatures the tests make (signing uses the real clock). */
const NOW = new Date(Date.now() + 60_000);
const PAYMENT: ExpectedChart = { name: 'payment', version: '0.1.0' };

let good: TestKey;
let other: TestKey;
let expired: TestKey;
let revoked: TestKey;
let goodRing: ProvenanceKeyring;

beforeAll(async () => {
  good = await makeKey('good');
  other = await makeKey('other');
  expired = await makeKey('expired', { date: new Date(NOW.getTime() - 10 * DAY), keyExpirationTime: 86_400 });
  revoked = await makeKey('revoked');
  goodRing = await readProvenanceKeyring([good.armored]);
});

const check = async (
  provenance: string | Uint8Array,
  options: { keyring?: ProvenanceKeyring; archive?: Uint8Array; expected?: ExpectedChart } = {},
): Promise<ProvenanceResult> =>
  verifyProvenance({
    name: 'release',
    provenance: typeof provenance === 'string' ? bytes(provenance) : provenance,
    archive: options.archive ?? ARCHIVE,
    expected: options.expected ?? PAYMENT,
    keyring: options.keyring ?? goodRing,
    now: NOW,
  });

const signed = (
  options: MessageOptions = {},
  keys: readonly TestKey[] = [good],
  date?: Date,
): Promise<string> => clearSign(helmMessage(options), keys, date);

describe('verifyProvenance', () => {
  it('verifies a provenance signed by a key of the keyring, for the archive and chart expected', async () => {
    const result = await check(await signed());
    expect(result).toMatchObject({
      name: 'release',
      type: 'provenance',
      verified: true,
      identity: good.publicKey.getFingerprint().toUpperCase(),
      signed: {
        name: 'payment',
        version: '0.1.0',
        archiveName: 'payment-0.1.0.tgz',
        archiveDigest: sha256(ARCHIVE),
      },
    });
    expect(result.reason).toBeUndefined();
  });

  it('finds the signer in a keyring of several keys, armored and binary', async () => {
    const keyring = await readProvenanceKeyring([other.armored + good.armored, revoked.publicKey.write()]);
    expect((await check(await signed(), { keyring })).verified).toBe(true);
  });

  it('verifies a signature by a signing subkey, and the same key given twice', async () => {
    const withSubkey = await makeKey('subkey', { subkeys: [{ sign: true }] });
    const prov = await signed({}, [withSubkey]);
    const keyring = await readProvenanceKeyring([withSubkey.armored, withSubkey.armored]);
    const result = await check(prov, { keyring });
    expect(result).toMatchObject({
      verified: true,
      identity: withSubkey.publicKey.getFingerprint().toUpperCase(),
    });
  });

  it('refuses a signature by a revoked signing subkey', async () => {
    const withSubkey = await makeKey('revoked-subkey', { subkeys: [{ sign: true }] });
    const prov = await signed({}, [withSubkey]);
    const [subkey] = withSubkey.privateKey.subkeys;
    if (subkey === undefined) throw new Error('generateKey made no subkey');
    const revokedCopy = await subkey.revoke(withSubkey.privateKey.keyPacket as SecretKeyPacket);
    subkey.revocationSignatures.push(...revokedCopy.revocationSignatures);
    const keyring = await readProvenanceKeyring([withSubkey.privateKey.toPublic().armor()]);
    expect(await check(prov, { keyring })).toMatchObject({ verified: false, reason: 'ProvenanceKeyRevoked' });
  });

  it.each([
    ['the archive bytes changed', { archive: bytes('other bytes') }, 'ProvenanceDigestMismatch'],
    [
      'another chart name is expected',
      { expected: { name: 'billing', version: '0.1.0' } },
      'ProvenanceChartMismatch',
    ],
    [
      'another version is expected',
      { expected: { name: 'payment', version: '0.1.1' } },
      'ProvenanceChartMismatch',
    ],
    [
      'the archive is expected under another file name',
      { expected: { ...PAYMENT, archiveName: 'payment.tgz' } },
      'ProvenanceChartMismatch',
    ],
  ] as const)('refuses a good signature when %s', async (_what, options, reason) => {
    const result = await check(await signed(), options);
    expect(result).toMatchObject({ verified: false, reason });
    expect(result.signed?.name).toBe('payment');
  });

  it('refuses a hash signed for another file name (helm would look the expected name up and find none)', async () => {
    const result = await check(await signed({ archiveName: 'billing-0.1.0.tgz' }));
    expect(result).toMatchObject({ verified: false, reason: 'ProvenanceChartMismatch' });
  });

  it('refuses a signature by a key that is not in the keyring', async () => {
    const keyring = await readProvenanceKeyring([other.armored]);
    expect(await check(await signed(), { keyring })).toMatchObject({
      verified: false,
      reason: 'ProvenanceUnknownSigner',
    });
  });

  it('refuses a signature made while the key was valid once the key has expired', async () => {
    const keyring = await readProvenanceKeyring([expired.armored]);
    const prov = await signed({}, [expired], new Date(NOW.getTime() - 10 * DAY + 3600_000));
    expect(await check(prov, { keyring })).toMatchObject({ verified: false, reason: 'ProvenanceKeyExpired' });
  });

  it('refuses a signature by a revoked key, even one made before the revocation', async () => {
    const prov = await signed({}, [revoked]);
    const { publicKey } = await revokeKey({ key: revoked.privateKey, format: 'armored' });
    const keyring = await readProvenanceKeyring([publicKey]);
    expect(await check(prov, { keyring })).toMatchObject({ verified: false, reason: 'ProvenanceKeyRevoked' });
  });

  it('refuses a key revoked by importing its revocation certificate', async () => {
    const prov = await signed({}, [revoked]);
    const { publicKey } = await revokeKey({
      key: await readKey({ armoredKey: revoked.armored }),
      revocationCertificate: revoked.revocationCertificate,
      format: 'armored',
    });
    const keyring = await readProvenanceKeyring([publicKey]);
    expect(await check(prov, { keyring })).toMatchObject({ verified: false, reason: 'ProvenanceKeyRevoked' });
  });

  it('refuses a signature made in the future', async () => {
    const prov = await signed({}, [good], new Date(NOW.getTime() + DAY));
    expect(await check(prov)).toMatchObject({ verified: false, reason: 'ProvenanceSignatureInvalid' });
  });

  it.each([
    ['the version', (p: string) => p.replace('version: 0.1.0', 'version: 0.1.1')],
    ['the archive hash', (p: string) => p.replace(/sha256:[0-9a-f]{64}/, `sha256:${'0'.repeat(64)}`)],
    ['the description', (p: string) => p.replace('A payment service', 'A billing service')],
    ['a dash-escaped line', (p: string) => p.replace('- - demo', '- - prod')],
  ])('refuses a provenance whose signed text was changed: %s', async (_what, tamper) => {
    const result = await check(tamper(await signed()), { archive: ARCHIVE });
    expect(result).toMatchObject({ verified: false, reason: 'ProvenanceSignatureInvalid' });
  });

  it('refuses two signatures, even when one is by a key of the keyring', async () => {
    const result = await check(await signed({}, [other, good]));
    expect(result).toMatchObject({ verified: false, reason: 'ProvenanceMalformed' });
  });

  it('refuses an oversized file before reading it', async () => {
    const prov = `${await signed()}${'#'.repeat(MAX_PROVENANCE_BYTES)}`;
    expect(await check(prov)).toMatchObject({ verified: false, reason: 'ProvenanceTooLarge' });
  });

  it('never throws on arbitrary bytes and never verifies them', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), async (input) => {
        const result = await check(input);
        expect(result.verified).toBe(false);
        expect(result.reason).toMatch(/^Provenance/);
      }),
      { numRuns: 200 },
    );
  });

  it('never verifies a good provenance with one byte changed', async () => {
    const prov = bytes(await signed());
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: prov.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        async (at, xor) => {
          const mutated = Uint8Array.from(prov);
          mutated[at] = (mutated[at] ?? 0) ^ xor;
          const result = await check(mutated);
          expect(result.verified).toBe(false);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('coarseReason', () => {
  it.each([
    ['ProvenanceUnknownSigner', 'UntrustedSigner'],
    ['ProvenanceKeyRevoked', 'UntrustedSigner'],
    ['ProvenanceKeyExpired', 'CertificateExpired'],
    ['ProvenanceDigestMismatch', 'DigestMismatch'],
    ['ProvenanceMalformed', 'SignatureInvalid'],
  ] as const)('counts %s as %s', (reason, coarse) => {
    expect(coarseReason(reason)).toBe(coarse);
  });
});
