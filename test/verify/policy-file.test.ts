// The --policy file: an ArtifactVerification manifest narrowed to the API types, with coded errors naming
// the field. (Lives under test/verify/ because it is the verification policy's edge.)
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadPolicyFile, PolicyError } from '../../src/cli/policy-file.ts';

const writePolicy = async (text: string): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), 'tagguard-policy-'));
  const file = join(dir, 'policy.yaml');
  await writeFile(file, text);
  return file;
};

const header = 'apiVersion: tagguard.dev/v1alpha1\nkind: ArtifactVerification\nmetadata: {name: p}\n';

const rejection = async (text: string): Promise<PolicyError> => {
  const error = await loadPolicyFile(await writePolicy(text)).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(PolicyError);
  return error as PolicyError;
};

describe('loadPolicyFile', () => {
  it('returns verify and scan narrowed to the API types', async () => {
    const spec = await loadPolicyFile(
      await writePolicy(`${header}spec:
  verify:
    minSignatures: 2
    cosign:
      - name: release
        publicKey: |
          -----BEGIN PUBLIC KEY-----
          abc
          -----END PUBLIC KEY-----
      - name: ci
        keyless: {issuer: https://issuer.example, subjectRegex: '^https://github\\.com/acme/.*$'}
        requireTransparencyLog: false
    notation:
      - name: acme
        trustStore: {pem: "-----BEGIN CERTIFICATE-----"}
        trustedIdentities: ['*']
        level: audit
  scan:
    failOn: high
    helm: {exceptions: [{rule: host-path-volume, resource: DaemonSet/node-exporter}]}
`),
    );
    expect(spec.verify?.minSignatures).toBe(2);
    expect(spec.verify?.cosign?.map((s) => s.name)).toEqual(['release', 'ci']);
    expect(spec.verify?.cosign?.[1]?.keyless?.subjectRegex).toBe('^https://github\\.com/acme/.*$');
    expect(spec.verify?.cosign?.[1]?.requireTransparencyLog).toBe(false);
    expect(spec.verify?.notation?.[0]?.level).toBe('audit');
    expect(spec.scan?.failOn).toBe('high');
    expect(spec.scan?.helm?.exceptions?.[0]?.resource).toBe('DaemonSet/node-exporter');
  });

  it('reads provenance signers: a keyring Secret (mapped to a file by --keyring) or an inline key', async () => {
    const spec = await loadPolicyFile(
      await writePolicy(`${header}spec:
  verify:
    minSignatures: 2
    cosign: [{name: release, publicKey: x}]
    provenance:
      - name: helm
        keyring: {secretRef: {name: helm-keys}}
      - name: inline
        publicKey: |
          -----BEGIN PGP PUBLIC KEY BLOCK-----
          abc
          -----END PGP PUBLIC KEY BLOCK-----
`),
    );
    expect(spec.verify?.minSignatures).toBe(2);
    expect(spec.verify?.provenance).toEqual([
      { name: 'helm', keyring: { secretRef: { name: 'helm-keys' } } },
      {
        name: 'inline',
        publicKey: '-----BEGIN PGP PUBLIC KEY BLOCK-----\nabc\n-----END PGP PUBLIC KEY BLOCK-----\n',
      },
    ]);
  });

  it('accepts a manifest without spec.verify', async () => {
    const spec = await loadPolicyFile(await writePolicy(`${header}spec: {scan: {failOn: none}}\n`));
    expect(spec.verify).toBeUndefined();
  });

  it.each([
    ['a missing file', null, 'Unreadable', undefined],
    ['broken YAML', `${header}spec: [`, 'InvalidYaml', undefined],
    ['another kind', 'apiVersion: v1\nkind: ConfigMap\n', 'WrongKind', 'apiVersion'],
    [
      'a signer with two kinds of trust',
      `${header}spec: {verify: {cosign: [{name: a, publicKey: x, keyless: {issuer: i, subject: s}}]}}`,
      'InvalidField',
      'spec.verify.cosign[0]',
    ],
    [
      'an invalid subject regex',
      `${header}spec: {verify: {cosign: [{name: a, keyless: {issuer: i, subjectRegex: '('}}]}}`,
      'InvalidField',
      'spec.verify.cosign[0].keyless.subjectRegex',
    ],
    [
      'a subject regex RE2 refuses (a lookahead JavaScript would take)',
      `${header}spec: {verify: {cosign: [{name: a, keyless: {issuer: i, subjectRegex: 'a(?=b)'}}]}}`,
      'InvalidField',
      'spec.verify.cosign[0].keyless.subjectRegex',
    ],
    [
      'a subject regex with \\Z',
      `${header}spec: {verify: {cosign: [{name: a, keyless: {issuer: i, subjectRegex: 'a\\Z'}}]}}`,
      'InvalidField',
      'spec.verify.cosign[0].keyless.subjectRegex',
    ],
    [
      'a subject regex over 1024 characters',
      `${header}spec: {verify: {cosign: [{name: a, keyless: {issuer: i, subjectRegex: '${'a'.repeat(1025)}'}}]}}`,
      'InvalidField',
      'spec.verify.cosign[0].keyless.subjectRegex',
    ],
    [
      'minSignatures above the number of signers',
      `${header}spec: {verify: {minSignatures: 2, cosign: [{name: a, publicKey: x}]}}`,
      'InvalidField',
      'spec.verify.minSignatures',
    ],
    [
      'an unknown field',
      `${header}spec: {verify: {cosign: [{name: a, publicKey: x, pubKey: y}]}}`,
      'InvalidField',
      'spec.verify.cosign[0].pubKey',
    ],
    [
      'a duplicate signer name',
      `${header}spec: {verify: {cosign: [{name: a, publicKey: x}], notation: [{name: a, trustStore: {pem: p}, trustedIdentities: ['*']}]}}`,
      'InvalidField',
      'spec.verify',
    ],
    [
      'a provenance signer with a keyring and a publicKey',
      `${header}spec: {verify: {provenance: [{name: a, publicKey: '-----BEGIN PGP PUBLIC KEY BLOCK-----', keyring: {secretRef: {name: k}}}]}}`,
      'InvalidField',
      'spec.verify.provenance[0]',
    ],
    [
      'a provenance signer with neither',
      `${header}spec: {verify: {provenance: [{name: a}]}}`,
      'InvalidField',
      'spec.verify.provenance[0]',
    ],
    [
      'a provenance publicKey that is not armored OpenPGP',
      `${header}spec: {verify: {provenance: [{name: a, publicKey: '-----BEGIN PUBLIC KEY-----'}]}}`,
      'InvalidField',
      'spec.verify.provenance[0].publicKey',
    ],
    [
      'a provenance keyring without secretRef',
      `${header}spec: {verify: {provenance: [{name: a, keyring: {}}]}}`,
      'InvalidField',
      'spec.verify.provenance[0].keyring.secretRef',
    ],
    [
      'a provenance signer named like a cosign one',
      `${header}spec: {verify: {cosign: [{name: a, publicKey: x}], provenance: [{name: a, keyring: {secretRef: {name: k}}}]}}`,
      'InvalidField',
      'spec.verify',
    ],
    [
      'minSignatures above the number of signers, provenance counted',
      `${header}spec: {verify: {minSignatures: 3, cosign: [{name: a, publicKey: x}], provenance: [{name: b, keyring: {secretRef: {name: k}}}]}}`,
      'InvalidField',
      'spec.verify.minSignatures',
    ],
    [
      'a bad notation level',
      `${header}spec: {verify: {notation: [{name: a, trustStore: {pem: p}, trustedIdentities: ['*'], level: lax}]}}`,
      'InvalidField',
      'spec.verify.notation[0].level',
    ],
  ])('rejects %s with a coded error naming the field', async (_what, text, code, field) => {
    const error =
      text === null
        ? ((await loadPolicyFile('/nonexistent/policy.yaml').catch((e: unknown) => e)) as PolicyError)
        : await rejection(text);
    expect(error).toBeInstanceOf(PolicyError);
    expect(error.code).toBe(code);
    expect(error.field).toBe(field);
  });

  it('accepts RE2 syntax JavaScript refuses and carries the RE2 code of a refusal', async () => {
    const spec = await loadPolicyFile(
      await writePolicy(
        `${header}spec: {verify: {cosign: [{name: a, keyless: {issuer: i, subjectRegex: '(?i)\\QA.B\\E'}}]}}`,
      ),
    );
    expect(spec.verify?.cosign?.[0]?.keyless?.subjectRegex).toBe('(?i)\\QA.B\\E');
    const error = await rejection(
      `${header}spec: {verify: {cosign: [{name: a, keyless: {issuer: i, subjectRegex: '${'a'.repeat(1025)}'}}]}}`,
    );
    expect(error.cause).toMatchObject({ code: 'PatternTooLong' });
  });
});
