// `tagguard verify` as users run it: a separate process, a policy file on disk, real signatures by cosign
// and notation on the real registries. Exit codes and the JSON document are docs/design.md#command-line's.
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { pushArtifact, type PushedArtifact } from '../../env/oci.ts';
import { createToolHome, type ToolHome } from '../../env/tool-home.ts';
import { runTagguardCli, writePolicyFile, type CliResult } from '../../env/cli.ts';
import {
  createNotationTestSigner,
  generateCosignKeyPair,
  signCosignBundle,
  signCosignLegacy,
  signNotation,
  type CosignKeyPair,
} from '../../env/sign.ts';
import type { VerifySpec } from '../../../src/api/artifact-verification.ts';

const env = inject('testEnv');

let home: ToolHome;
let dir: string;
let key: CosignKeyPair;
let notationCa: string;
let signed: PushedArtifact;
let unsigned: PushedArtifact;

const tagguard = (args: readonly string[]): Promise<CliResult> =>
  runTagguardCli(args, {
    PATH: process.env.PATH ?? '',
    HOME: home.dir,
    DOCKER_CONFIG: home.env.DOCKER_CONFIG ?? '',
  });

const policyFile = (verify: VerifySpec | undefined): Promise<string> => writePolicyFile(dir, verify);

const ref = (a: PushedArtifact): string => `oci://${a.repository}:${a.tag}`;

beforeAll(async () => {
  home = await createToolHome(env);
  dir = await mkdtemp(join(tmpdir(), 'tagguard-verify-cli-'));
  const registry = env.registries.referrers;
  [key, { certPem: notationCa }] = await Promise.all([
    generateCosignKeyPair(home, 'cli'),
    createNotationTestSigner(home, 'tagguard-cli'),
  ]);
  signed = await pushArtifact(home, registry, 'cli/signed', 'v1', 'signed content');
  unsigned = await pushArtifact(home, registry, 'cli/unsigned', 'v1', 'unsigned content');
  await signCosignLegacy(home, registry, signed, key);
  await signCosignBundle(home, registry, signed, key);
  await signNotation(home, registry, signed, 'jws');
});

describe('tagguard verify', () => {
  it('exits 0 and prints the JSON document when cosign and notation signers both verify (minSignatures: 2)', async () => {
    const policy = await policyFile({
      minSignatures: 2,
      cosign: [{ name: 'release-key', publicKey: key.publicKeyPem }],
      notation: [{ name: 'release-cert', trustStore: { pem: notationCa }, trustedIdentities: ['*'] }],
    });
    const result = await tagguard([
      'verify',
      ref(signed),
      '--policy',
      policy,
      '--insecure',
      '--output',
      'json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(Object.keys(doc).sort()).toEqual([
      'digest',
      'findings',
      'reasons',
      'reference',
      'signatures',
      'verdict',
    ]);
    expect(doc).toMatchObject({ digest: signed.digest, verdict: 'Trusted', reasons: [], findings: [] });
    expect(doc.signatures).toEqual([
      {
        name: 'release-key',
        type: 'cosign',
        format: expect.stringMatching(/^(legacy|bundle)$/) as unknown,
        identity: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) as unknown,
        verified: true,
        reason: null,
      },
      {
        name: 'release-cert',
        type: 'notation',
        format: 'notation-jws',
        identity: expect.stringContaining('tagguard-cli') as unknown,
        verified: true,
        reason: null,
      },
    ]);
  });

  it('exits 1 with reason SignatureMissing for an unsigned artifact', async () => {
    const policy = await policyFile({ cosign: [{ name: 'release-key', publicKey: key.publicKeyPem }] });
    const result = await tagguard([
      'verify',
      ref(unsigned),
      '--policy',
      policy,
      '--insecure',
      '--output',
      'json',
    ]);
    expect(result.code).toBe(1);
    const doc = JSON.parse(result.stdout) as {
      verdict: string;
      reasons: string[];
      signatures: { reason: string }[];
    };
    expect(doc.verdict).toBe('Untrusted');
    expect(doc.reasons).toEqual(['SignatureMissing']);
    expect(doc.signatures[0]?.reason).toBe('SignatureMissing');
  });

  it('prints a table on stdout without --output json', async () => {
    const policy = await policyFile({ cosign: [{ name: 'release-key', publicKey: key.publicKeyPem }] });
    const result = await tagguard(['verify', ref(signed), '--policy', policy, '--insecure']);
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')[0]).toBe(`${signed.repository}:v1@${signed.digest}: Trusted`);
    expect(result.stdout).toMatch(/^release-key\tcosign\t(legacy|bundle)\tyes\t/m);
  });

  it.each([
    ['a policy without spec.verify', async () => policyFile(undefined)],
    [
      'a policy whose signer needs a Secret',
      async () => policyFile({ cosign: [{ name: 'k', secretRef: { name: 'cosign-pub' } }] }),
    ],
    ['a policy file that does not exist', () => Promise.resolve(join(dir, 'missing.yaml'))],
  ])('exits 2 for %s', async (_what, make) => {
    const result = await tagguard(['verify', ref(signed), '--policy', await make(), '--insecure']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
  });

  it('exits 2 without --policy', async () => {
    expect((await tagguard(['verify', ref(signed)])).code).toBe(2);
  });

  it('exits 3 and reports verdict Error when the registry cannot be reached', async () => {
    const policy = await policyFile({ cosign: [{ name: 'release-key', publicKey: key.publicKeyPem }] });
    const result = await tagguard([
      'verify',
      'oci://127.0.0.1:9/cli/none:v1',
      '--policy',
      policy,
      '--insecure',
      '--output',
      'json',
    ]);
    expect(result.code).toBe(3);
    expect(JSON.parse(result.stdout)).toMatchObject({
      verdict: 'Error',
      reasons: ['RegistryError'],
      digest: null,
    });
  });
});
