// tagguard's Notary Project verifier against signatures made by the real notation CLI, fetched raw
// from the test registries, and checked side by side with `notation verify` under the same trust
// store, identities and level: for every case both must reach the same verdict.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { packageChart } from '../../env/charts.ts';
import { pushArtifact, pushChart, type PushedArtifact } from '../../env/oci.ts';
import { createCA } from '../../env/pki.ts';
import { listReferrers, registryGet, sha256, type Descriptor } from '../../env/registry-http.ts';
import type { RegistryEndpoint } from '../../env/registries.ts';
import { runTool } from '../../env/run-tool.ts';
import {
  configureNotationVerification,
  createNotationTestSigner,
  signNotation,
  verifyWithNotation,
  type NotationVerifyPolicy,
} from '../../env/sign.ts';
import { createToolHome, type ToolHome } from '../../env/tool-home.ts';
import { NOTATION_SIGNATURE_ARTIFACT_TYPE } from '../../../src/registry/media-types.ts';
import { verifyNotation } from '../../../src/verify/notation/notation-verifier.ts';
import type { NotationEnvelope } from '../../../src/verify/types.ts';
import type { NotationTrust, SignerResult } from '../../../src/verify/types.ts';

const env = inject('testEnv');
const SIGNER = 'tagguard-notation';
const SIGNER_IDENTITY = `x509.subject: C=US, ST=WA, L=Seattle, O=Notary, CN=${SIGNER}`;

interface Target {
  mediaType: string;
  digest: string;
  size: number;
}

const repoOf = (artifact: PushedArtifact): string =>
  artifact.repository.slice(artifact.repository.indexOf('/') + 1);

/** The artifact's own descriptor, read back from the registry. */
const targetOf = async (registry: RegistryEndpoint, artifact: PushedArtifact): Promise<Target> => {
  const res = await registryGet(registry, `/v2/${repoOf(artifact)}/manifests/${artifact.digest}`);
  expect(sha256(res.body)).toBe(artifact.digest);
  return { mediaType: res.contentType.split(';')[0] ?? '', digest: artifact.digest, size: res.body.length };
};

/** Every Notary Project envelope attached to the artifact (referrers API and tag schema), re-hashed. */
const fetchEnvelopes = async (
  registry: RegistryEndpoint,
  artifact: PushedArtifact,
): Promise<NotationEnvelope[]> => {
  const repo = repoOf(artifact);
  const api = await listReferrers(registry, repo, artifact.digest);
  const tagIndex = await registryGet(registry, `/v2/${repo}/manifests/${artifact.digest.replace(':', '-')}`);
  const fromTag =
    tagIndex.status === 200 ? (tagIndex.json<{ manifests?: Descriptor[] }>().manifests ?? []) : [];
  const descriptors = [...(api.manifests ?? []), ...fromTag].filter(
    (d) => d.artifactType === NOTATION_SIGNATURE_ARTIFACT_TYPE,
  );
  const unique = [...new Map(descriptors.map((d) => [d.digest, d])).values()];
  return Promise.all(
    unique.map(async (descriptor) => {
      const manifest = await registryGet(registry, `/v2/${repo}/manifests/${descriptor.digest}`);
      expect(sha256(manifest.body)).toBe(descriptor.digest);
      const [layer] = manifest.json<{ layers: Descriptor[] }>().layers;
      if (!layer) throw new Error('signature manifest without a layer');
      const blob = await registryGet(registry, `/v2/${repo}/blobs/${layer.digest}`);
      expect(sha256(blob.body)).toBe(layer.digest);
      return { mediaType: layer.mediaType, bytes: blob.body, signatureManifestDigest: descriptor.digest };
    }),
  );
};

const plainHttp = (registry: RegistryEndpoint): string[] => (registry.plainHttp ? ['--plain-http'] : []);

/** Attaches an envelope (e.g. a tampered or borrowed one) as a Notary Project signature of `subject`. */
const attachEnvelope = async (
  home: ToolHome,
  registry: RegistryEndpoint,
  subject: PushedArtifact,
  envelope: NotationEnvelope,
): Promise<void> => {
  const name = `envelope-${Math.random().toString(36).slice(2, 8)}.sig`;
  await writeFile(join(home.dir, name), envelope.bytes);
  await runTool(
    'oras',
    [
      'attach',
      '--artifact-type',
      NOTATION_SIGNATURE_ARTIFACT_TYPE,
      ...plainHttp(registry),
      subject.byDigest,
      `${name}:${envelope.mediaType}`,
    ],
    { env: home.env, cwd: home.dir },
  );
};

/** Copies an artifact (without its referrers) to another repository of the same registry. */
const copyArtifact = async (
  home: ToolHome,
  registry: RegistryEndpoint,
  artifact: PushedArtifact,
  repo: string,
): Promise<PushedArtifact> => {
  const repository = `${registry.host}/${repo}`;
  const flags = registry.plainHttp ? ['--from-plain-http', '--to-plain-http'] : [];
  await runTool('oras', ['cp', ...flags, artifact.byDigest, `${repository}:${artifact.tag}`], {
    env: home.env,
  });
  return { ...artifact, repository, byDigest: `${repository}@${artifact.digest}` };
};

interface SideBySide {
  tagguard: SignerResult;
  notation: { verified: boolean; output: string };
}

/** Runs tagguard and `notation verify` with the same policy. */
const bothVerify = async (
  home: ToolHome,
  registry: RegistryEndpoint,
  artifact: PushedArtifact,
  policy: NotationVerifyPolicy,
  now = new Date(),
): Promise<SideBySide> => {
  const trust: NotationTrust = {
    name: 'release',
    caCertificates: policy.caCertificates,
    tsaCertificates: [],
    trustedIdentities: policy.trustedIdentities,
    level: policy.level,
  };
  const tagguard = await verifyNotation(
    await targetOf(registry, artifact),
    await fetchEnvelopes(registry, artifact),
    trust,
    now,
  );
  await configureNotationVerification(home, policy);
  const notation = await verifyWithNotation(home, registry, artifact);
  return { tagguard, notation };
};

const expectSameVerdict = ({ tagguard, notation }: SideBySide): void => {
  expect(tagguard.verified, `tagguard: ${tagguard.message}\nnotation: ${notation.output}`).toBe(
    notation.verified,
  );
};

/** Flips one bit of the signature value, leaving the envelope well-formed. */
const tamperSignature = (envelope: NotationEnvelope): Buffer => {
  if (envelope.mediaType === 'application/jose+json') {
    const jws = JSON.parse(envelope.bytes.toString()) as { signature: string };
    const signature = Buffer.from(jws.signature, 'base64url');
    signature[10] = (signature[10] ?? 0) ^ 0x01;
    return Buffer.from(JSON.stringify({ ...jws, signature: signature.toString('base64url') }));
  }
  // COSE_Sign1 ends with the signature byte string
  const bytes = Buffer.from(envelope.bytes);
  bytes[bytes.length - 5] = (bytes[bytes.length - 5] ?? 0) ^ 0x01;
  return bytes;
};

let counter = 0;
const uniqueTag = (): string => `v${Date.now().toString(36)}${(counter++).toString(36)}`;

describe('Notary Project signatures made by notation', () => {
  let home: ToolHome;
  let signerCert: string;
  let otherCa: string;
  const strict = (): NotationVerifyPolicy => ({
    caCertificates: [signerCert],
    trustedIdentities: [SIGNER_IDENTITY],
    level: 'strict',
  });

  beforeAll(async () => {
    home = await createToolHome(env);
    signerCert = (await createNotationTestSigner(home, SIGNER)).certPem;
    otherCa = (await createCA(home.dir, 'other-ca', 30)).certPem;
  });

  const signedArtifact = async (
    registry: RegistryEndpoint,
    format: 'jws' | 'cose',
    repo = 'notation/app',
  ): Promise<PushedArtifact> => {
    const artifact = await pushArtifact(home, registry, repo, uniqueTag(), `content ${Math.random()}`);
    await signNotation(home, registry, artifact, format, { referrersApi: registry.referrersApi });
    return artifact;
  };

  it('a JWS signature of a Helm chart verifies (referrers API), as with notation', async () => {
    const registry = env.registries.referrers;
    const tgz = await packageChart(home, home.dir, { version: '4.0.0' });
    const chart = await pushChart(home, registry, 'notation-charts', tgz);
    await signNotation(home, registry, chart, 'jws', { referrersApi: true });

    const result = await bothVerify(home, registry, chart, strict());
    expect(result.tagguard).toMatchObject({
      verified: true,
      format: 'notation-jws',
      identity: `C=US, ST=WA, L=Seattle, O=Notary, CN=${SIGNER}`,
    });
    expectSameVerdict(result);
  });

  it('a COSE signature verifies (tag schema registry), as with notation', async () => {
    const registry = env.registries.tagSchema;
    const artifact = await signedArtifact(registry, 'cose');
    const result = await bothVerify(home, registry, artifact, strict());
    expect(result.tagguard).toMatchObject({ verified: true, format: 'notation-cose' });
    expectSameVerdict(result);
  });

  it('a trust store with another CA gives UntrustedSigner at strict and permissive; audit only logs it', async () => {
    const registry = env.registries.referrers;
    const artifact = await signedArtifact(registry, 'jws');
    for (const level of ['strict', 'permissive'] as const) {
      const result = await bothVerify(home, registry, artifact, {
        ...strict(),
        caCertificates: [otherCa],
        level,
      });
      expect(result.tagguard).toMatchObject({ verified: false, reason: 'UntrustedSigner' });
      expectSameVerdict(result);
    }
    const audit = await bothVerify(home, registry, artifact, {
      ...strict(),
      caCertificates: [otherCa],
      level: 'audit',
    });
    expect(audit.tagguard.verified).toBe(true);
    expectSameVerdict(audit);
  });

  it('an identity that is not trusted gives UntrustedSigner, for JWS and COSE', async () => {
    const registry = env.registries.referrers;
    for (const format of ['jws', 'cose'] as const) {
      const artifact = await signedArtifact(registry, format);
      const policy = {
        ...strict(),
        trustedIdentities: ['x509.subject: C=US, ST=WA, O=Notary, CN=someone-else'],
      };
      const result = await bothVerify(home, registry, artifact, policy);
      expect(result.tagguard).toMatchObject({ verified: false, reason: 'UntrustedSigner' });
      expectSameVerdict(result);
      // a partial DN naming only C, ST and O is trusted: notation's subset rule
      const partial = await bothVerify(home, registry, artifact, {
        ...strict(),
        trustedIdentities: ['x509.subject: O=Notary, ST=WA, C=US'],
      });
      expect(partial.tagguard.verified).toBe(true);
      expectSameVerdict(partial);
    }
  });

  it('a tampered envelope gives SignatureInvalid, for JWS and COSE', async () => {
    const registry = env.registries.referrers;
    for (const format of ['jws', 'cose'] as const) {
      const original = await signedArtifact(registry, format, `notation/tamper-src-${format}`);
      const [envelope] = await fetchEnvelopes(registry, original);
      if (!envelope) throw new Error('no envelope');
      // the copy carries only the tampered envelope, so notation cannot fall back to the original
      const target = await copyArtifact(home, registry, original, `notation/tamper-${format}`);
      await attachEnvelope(home, registry, target, { ...envelope, bytes: tamperSignature(envelope) });
      const result = await bothVerify(home, registry, target, strict());
      expect(result.tagguard).toMatchObject({ verified: false, reason: 'SignatureInvalid' });
      expectSameVerdict(result);
    }
  });

  it('a valid signature of another artifact, attached to this one, gives DigestMismatch at every level', async () => {
    const registry = env.registries.referrers;
    const signed = await signedArtifact(registry, 'jws', 'notation/borrowed-src');
    const [envelope] = await fetchEnvelopes(registry, signed);
    if (!envelope) throw new Error('no envelope');
    const victim = await pushArtifact(home, registry, 'notation/borrowed', uniqueTag(), 'unsigned content');
    await attachEnvelope(home, registry, victim, envelope);
    for (const level of ['strict', 'audit'] as const) {
      const result = await bothVerify(home, registry, victim, { ...strict(), level });
      expect(result.tagguard).toMatchObject({ verified: false, reason: 'DigestMismatch' });
      expectSameVerdict(result);
    }
  });
});
