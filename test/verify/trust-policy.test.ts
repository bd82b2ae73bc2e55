// trustPolicyFromSpec: trust material as data, from inline fields or the Secrets / ConfigMaps given.
import { generateKeyPairSync } from 'node:crypto';
import { generateKey, readKey } from 'openpgp';
import { beforeAll, describe, expect, it } from 'vitest';
import { stableHash } from '../../src/controller/result-cache.ts';
import { trustPolicyFromSpec } from '../../src/verify/trust-policy.ts';
import { TrustPolicyError } from '../../src/verify/errors.ts';
import { certificate, chain } from './cosign/fixtures/kubewarden-keyless-2022.ts';

const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .publicKey.export({ type: 'spki', format: 'pem' })
  .toString();

const codeOf = async (run: () => Promise<unknown>): Promise<string | undefined> => {
  try {
    await run();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(TrustPolicyError);
    return (error as TrustPolicyError).code;
  }
};

describe('trustPolicyFromSpec', () => {
  it('takes inline keys and every *.pub key of a Secret', async () => {
    const policy = await trustPolicyFromSpec(
      {
        cosign: [
          { name: 'inline', publicKey: pem },
          { name: 'secret', secretRef: { name: 'keys' } },
        ],
      },
      { secrets: { keys: { 'a.pub': pem, 'b.pub': pem, README: 'not a key' } } },
    );
    expect(policy.cosign.map((c) => c.publicKeys.length)).toEqual([1, 2]);
    expect(policy.minSignatures).toBe(1);
    expect(policy.cosign[0]?.requireTransparencyLog).toBe(false);
  });

  it('requires the transparency log for keyless signers unless the policy says otherwise', async () => {
    const keyless = { issuer: 'https://issuer', subject: 'me@example.com' };
    const policy = await trustPolicyFromSpec(
      {
        cosign: [
          { name: 'a', keyless },
          { name: 'b', keyless, requireTransparencyLog: false },
        ],
      },
      {},
    );
    expect(policy.cosign.map((c) => c.requireTransparencyLog)).toEqual([true, false]);
    expect(policy.cosign[0]?.trustedRoot).toBeUndefined();
  });

  it('reads a private trusted root from the ConfigMap', async () => {
    const policy = await trustPolicyFromSpec(
      {
        cosign: [
          {
            name: 'a',
            keyless: { issuer: 'https://issuer', subject: 'x' },
            trustedRoot: { configMapRef: { name: 'root' } },
          },
        ],
      },
      { configMaps: { root: { 'trusted_root.json': '{"mediaType":"x"}' } } },
    );
    expect(policy.cosign[0]?.trustedRoot).toEqual({ mediaType: 'x' });
  });

  it('splits a notation trust store Secret into CA and TSA certificates', async () => {
    const policy = await trustPolicyFromSpec(
      { notation: [{ name: 'n', trustStore: { secretRef: { name: 'store' } }, trustedIdentities: ['*'] }] },
      { secrets: { store: { 'ca.crt': chain, 'tsa.crt': certificate } } },
    );
    expect(policy.notation[0]).toMatchObject({
      caCertificates: [chain],
      tsaCertificates: [certificate],
      level: 'strict',
    });
  });

  it('refuses a trust store that does not parse when the policy is read', async () => {
    const spec = { notation: [{ name: 'n', trustStore: { pem: 'garbage' }, trustedIdentities: ['*'] }] };
    expect(await codeOf(() => trustPolicyFromSpec(spec, {}))).toBe('InvalidCertificate');
  });

  it('refuses a public key that does not parse when the policy is read', async () => {
    expect(
      await codeOf(() => trustPolicyFromSpec({ cosign: [{ name: 'k', publicKey: 'not a key' }] }, {})),
    ).toBe('InvalidKey');
  });

  it.each([
    [
      'a Secret that was not given',
      { cosign: [{ name: 'a', secretRef: { name: 'keys' } }] },
      {},
      'MaterialMissing',
    ],
    [
      'a Secret without *.pub keys',
      { cosign: [{ name: 'a', secretRef: { name: 'keys' } }] },
      { secrets: { keys: { 'key.pem': pem } } },
      'MaterialMissing',
    ],
    [
      'a trusted root that is not JSON',
      {
        cosign: [
          {
            name: 'a',
            keyless: { issuer: 'i', subject: 's' },
            trustedRoot: { configMapRef: { name: 'root' } },
          },
        ],
      },
      { configMaps: { root: { 'trusted_root.json': '{' } } },
      'InvalidTrustedRoot',
    ],
    [
      'a subjectRegex RE2 refuses (a lookahead)',
      { cosign: [{ name: 'a', keyless: { issuer: 'i', subjectRegex: '(?=x)x' } }] },
      {},
      'InvalidIdentityPattern',
    ],
    [
      'a subjectRegex with a backreference',
      { cosign: [{ name: 'a', keyless: { issuer: 'i', subjectRegex: '(a)\\1' } }] },
      {},
      'InvalidIdentityPattern',
    ],
    [
      'a subjectRegex with \\Z',
      { cosign: [{ name: 'a', keyless: { issuer: 'i', subjectRegex: 'a\\Z' } }] },
      {},
      'InvalidIdentityPattern',
    ],
    [
      'a subjectRegex over 1024 characters',
      { cosign: [{ name: 'a', keyless: { issuer: 'i', subjectRegex: 'a'.repeat(1025) } }] },
      {},
      'InvalidIdentityPattern',
    ],
  ] as const)('refuses %s with a coded error', async (_what, spec, material, code) => {
    expect(await codeOf(() => trustPolicyFromSpec(spec, material))).toBe(code);
  });

  it('keeps an RE2-only subjectRegex ((?i), \\pL, [[:alpha:]]) as written and names the signer when refusing', async () => {
    const subjectRegex = '(?i)https://github\\.com/[[:alpha:]]+/\\pL+';
    const policy = await trustPolicyFromSpec(
      { cosign: [{ name: 'gh', keyless: { issuer: 'i', subjectRegex } }] },
      {},
    );
    expect(policy.cosign[0]?.keyless?.subjectRegex).toBe(subjectRegex);
    try {
      await trustPolicyFromSpec(
        { cosign: [{ name: 'gh', keyless: { issuer: 'i', subjectRegex: '(' } }] },
        {},
      );
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'InvalidIdentityPattern', signer: 'gh' });
      expect((error as Error).cause).toMatchObject({ code: 'InvalidPattern' });
    }
  });

  describe('verify.provenance', () => {
    let armored: string;
    let binary: Uint8Array;
    let other: string;
    beforeAll(async () => {
      const made = await generateKey({ userIDs: [{ name: 'charts' }], format: 'armored' });
      armored = made.publicKey;
      binary = (await readKey({ armoredKey: armored })).write();
      other = (await generateKey({ userIDs: [{ name: 'other' }], format: 'armored' })).publicKey;
    });

    it('reads an inline armored key and every value of a keyring Secret, armored or binary', async () => {
      const policy = await trustPolicyFromSpec(
        {
          provenance: [
            { name: 'inline', publicKey: armored },
            { name: 'ring', keyring: { secretRef: { name: 'helm-keys' } } },
          ],
        },
        { keyringSecrets: { 'helm-keys': { 'pubring.gpg': binary, 'other.asc': Buffer.from(other) } } },
      );
      expect(policy.provenance?.map((p) => [p.name, p.keyring.keys.length])).toEqual([
        ['inline', 1],
        ['ring', 2],
      ]);
      expect(policy.minSignatures).toBe(1);
    });

    it('counts provenance entries toward the default minSignatures and keeps an explicit one', async () => {
      const policy = await trustPolicyFromSpec(
        {
          minSignatures: 2,
          cosign: [{ name: 'c', publicKey: pem }],
          provenance: [{ name: 'p', publicKey: armored }],
        },
        {},
      );
      expect(policy.minSignatures).toBe(2);
      expect(policy.provenance?.map((p) => p.name)).toEqual(['p']);
    });

    it('hashes a keyring as its digest: the same Secret the same key, a rotated one another', async () => {
      const spec = { provenance: [{ name: 'ring', keyring: { secretRef: { name: 'k' } } }] };
      const hashOf = async (data: Record<string, Uint8Array>): Promise<string> =>
        stableHash(await trustPolicyFromSpec(spec, { keyringSecrets: { k: data } }));
      const first = await hashOf({ 'a.asc': Buffer.from(armored) });
      expect(await hashOf({ 'a.asc': Buffer.from(armored) })).toBe(first);
      expect(await hashOf({ 'a.asc': Buffer.from(other) })).not.toBe(first);
      expect(await hashOf({ 'a.asc': Buffer.from(armored), 'b.asc': Buffer.from(other) })).not.toBe(first);
      // The key objects themselves never reach the hash (nor a status or log as JSON).
      const policy = await trustPolicyFromSpec(spec, { keyringSecrets: { k: { a: binary } } });
      expect(JSON.stringify(policy.provenance)).toMatch(
        /^\[\{"name":"ring","keyring":\{"digest":"sha256:[0-9a-f]{64}"\}\}\]$/,
      );
    });

    it.each([
      [
        'a keyring Secret that was not given',
        { keyring: { secretRef: { name: 'nope' } } },
        {},
        'MaterialMissing',
      ],
      ['an empty keyring Secret', { keyring: { secretRef: { name: 'k' } } }, { k: {} }, 'MaterialMissing'],
      [
        'garbage in the Secret',
        { keyring: { secretRef: { name: 'k' } } },
        { k: { x: Buffer.from('garbage') } },
        'InvalidKey',
      ],
      [
        'an inline key that is not one',
        { publicKey: '-----BEGIN PGP PUBLIC KEY BLOCK-----\nxx' },
        {},
        'InvalidKey',
      ],
    ] as const)('refuses %s with a stalling coded error', async (_what, entry, keyringSecrets, code) => {
      const error = await trustPolicyFromSpec(
        { provenance: [{ name: 'p', ...entry }] },
        { keyringSecrets },
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TrustPolicyError);
      expect(error).toMatchObject({ code, signer: 'p' });
    });
  });
});
