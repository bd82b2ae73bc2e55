// trustPolicyFromSpec: trust material as data, from inline fields or the Secrets / ConfigMaps given.
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { trustPolicyFromSpec } from '../../src/verify/trust-policy.ts';
import { TrustPolicyError } from '../../src/verify/errors.ts';
import { certificate, chain } from './cosign/fixtures/kubewarden-keyless-2022.ts';

const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .publicKey.export({ type: 'spki', format: 'pem' })
  .toString();

const codeOf = (run: () => unknown): string | undefined => {
  try {
    run();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(TrustPolicyError);
    return (error as TrustPolicyError).code;
  }
};

describe('trustPolicyFromSpec', () => {
  it('takes inline keys and every *.pub key of a Secret', () => {
    const policy = trustPolicyFromSpec(
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

  it('requires the transparency log for keyless signers unless the policy says otherwise', () => {
    const keyless = { issuer: 'https://issuer', subject: 'me@example.com' };
    const policy = trustPolicyFromSpec(
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

  it('reads a private trusted root from the ConfigMap', () => {
    const policy = trustPolicyFromSpec(
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

  it('splits a notation trust store Secret into CA and TSA certificates', () => {
    const policy = trustPolicyFromSpec(
      { notation: [{ name: 'n', trustStore: { secretRef: { name: 'store' } }, trustedIdentities: ['*'] }] },
      { secrets: { store: { 'ca.crt': chain, 'tsa.crt': certificate } } },
    );
    expect(policy.notation[0]).toMatchObject({
      caCertificates: [chain],
      tsaCertificates: [certificate],
      level: 'strict',
    });
  });

  it('refuses a trust store that does not parse when the policy is read', () => {
    const spec = { notation: [{ name: 'n', trustStore: { pem: 'garbage' }, trustedIdentities: ['*'] }] };
    expect(codeOf(() => trustPolicyFromSpec(spec, {}))).toBe('InvalidCertificate');
  });

  it('refuses a public key that does not parse when the policy is read', () => {
    expect(codeOf(() => trustPolicyFromSpec({ cosign: [{ name: 'k', publicKey: 'not a key' }] }, {}))).toBe(
      'InvalidKey',
    );
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
  ] as const)('refuses %s with a coded error', (_what, spec, material, code) => {
    expect(codeOf(() => trustPolicyFromSpec(spec, material))).toBe(code);
  });

  it('keeps an RE2-only subjectRegex ((?i), \\pL, [[:alpha:]]) as written and names the signer when refusing', () => {
    const subjectRegex = '(?i)https://github\\.com/[[:alpha:]]+/\\pL+';
    const policy = trustPolicyFromSpec(
      { cosign: [{ name: 'gh', keyless: { issuer: 'i', subjectRegex } }] },
      {},
    );
    expect(policy.cosign[0]?.keyless?.subjectRegex).toBe(subjectRegex);
    try {
      trustPolicyFromSpec({ cosign: [{ name: 'gh', keyless: { issuer: 'i', subjectRegex: '(' } }] }, {});
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'InvalidIdentityPattern', signer: 'gh' });
      expect((error as Error).cause).toMatchObject({ code: 'InvalidPattern' });
    }
  });
});
