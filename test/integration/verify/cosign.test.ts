// Cosign signatures made by the real cosign v2 (legacy `.sig`) and v3 (Sigstore bundle referrers), keyed
// and certificate-based (a private CA and leaves with Fulcio extensions made at run time), verified by
// tagguard on olareg (referrers API) and distribution (tag schema). Every case is checked beside the
// real `cosign verify` (v2 for legacy, v3 for bundles, offline flags) and both verdicts must agree.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createCA, issueCertificate, type KeyPair } from '../../env/pki.ts';
import { pushArtifact, type PushedArtifact } from '../../env/oci.ts';
import { createToolHome, type ToolHome } from '../../env/tool-home.ts';
import {
  fulcioIssuerExtensions,
  generateCosignKeyPair,
  importCosignKey,
  privateTrustedRoot,
  signCosignBundle,
  signCosignLegacy,
  signCosignWithCertificate,
  verifyWithCosign,
  type CosignCertificate,
  type CosignKeyPair,
} from '../../env/sign.ts';
import type { RegistryEndpoint } from '../../env/registries.ts';
import { RegistryClient } from '../../../src/registry/client.ts';
import { RegistryTransport } from '../../../src/registry/transport.ts';
import { parseReference } from '../../../src/registry/reference.ts';
import { verifyArtifact } from '../../../src/controller/signature-check.ts';
import { trustPolicyFromSpec } from '../../../src/verify/trust-policy.ts';
import type { VerifySpec } from '../../../src/api/artifact-verification.ts';
import type { VerificationResult, VerifyReason } from '../../../src/verify/types.ts';
import { COSIGN_BUNDLE_ARTIFACT_TYPE, OCI_MANIFEST } from '../../../src/registry/media-types.ts';

const env = inject('testEnv');
const ISSUER = 'https://token.tagguard.test';
const ALICE = 'alice@tagguard.test';

let home: ToolHome;
let client: RegistryClient;
let trusted: CosignKeyPair;
let stranger: CosignKeyPair;
let alice: CosignCertificate;
let bob: CosignCertificate;
let aliceOtherCa: CosignCertificate;
let aliceV1: CosignCertificate;
let aliceV2: CosignCertificate;
let aliceExpired: CosignCertificate;
let expiresAt: Date;
let ca: KeyPair;
let trustedRootFile: string;

const certificateSigner = async (
  issuingCa: KeyPair,
  dir: string,
  name: string,
  email: string,
  options: { oids?: 'v1' | 'v2' | 'both'; notBefore?: Date; notAfter?: Date } = {},
): Promise<CosignCertificate> => {
  const leaf = await issueCertificate(issuingCa, dir, name, {
    subject: `/CN=${name}`,
    usage: 'code-signing',
    extraExtensions: [`subjectAltName = email:${email}`, ...fulcioIssuerExtensions(ISSUER, options.oids)],
    ...(options.notBefore ? { notBefore: options.notBefore } : {}),
    ...(options.notAfter ? { notAfter: options.notAfter } : {}),
  });
  return {
    key: await importCosignKey(home, `${name}-cosign`, leaf.keyFile),
    certFile: leaf.certFile,
    chainFile: issuingCa.certFile,
  };
};

beforeAll(async () => {
  home = await createToolHome(env);
  client = new RegistryClient(new RegistryTransport({ hostOptions: () => ({ plainHttp: true }) }));
  const dir = await mkdtemp(join(tmpdir(), 'tagguard-verify-pki-'));
  ca = await createCA(dir, 'signing-ca');
  const otherCa = await createCA(dir, 'other-ca');
  expiresAt = new Date(Date.now() + 3000);
  [trusted, stranger, alice, bob, aliceOtherCa, aliceV1, aliceV2, aliceExpired] = await Promise.all([
    generateCosignKeyPair(home, 'trusted'),
    generateCosignKeyPair(home, 'stranger'),
    certificateSigner(ca, dir, 'alice', ALICE),
    certificateSigner(ca, dir, 'bob', 'bob@tagguard.test'),
    certificateSigner(otherCa, dir, 'alice-other-ca', ALICE),
    certificateSigner(ca, dir, 'alice-v1', ALICE, { oids: 'v1' }),
    certificateSigner(ca, dir, 'alice-v2', ALICE, { oids: 'v2' }),
    // cosign checks the chain at the leaf's notBefore, so the leaf starts with the CA and expires at once.
    certificateSigner(ca, dir, 'alice-expired', ALICE, { notBefore: new Date(), notAfter: expiresAt }),
  ]);
  trustedRootFile = join(dir, 'trusted_root.json');
  await writeFile(trustedRootFile, JSON.stringify(privateTrustedRoot(ca.certPem)));
});

afterAll(async () => {
  await client.close();
});

// ---- policies -------------------------------------------------------------------------------------

const keyed = (...keys: CosignKeyPair[]): VerifySpec => ({
  cosign: keys.map((k, i) => ({ name: `key-${i}`, publicKey: k.publicKeyPem })),
});

const identity: VerifySpec = {
  cosign: [
    {
      name: 'ci',
      keyless: { issuer: ISSUER, subjectRegex: '^alice@tagguard\\.test$' },
      trustedRoot: { configMapRef: { name: 'private-sigstore' } },
      requireTransparencyLog: false,
    },
  ],
};

const verifyWithTagguard = async (reference: string, spec: VerifySpec): Promise<VerificationResult> => {
  const ref = parseReference(reference);
  const { digest } = await client.resolve(ref);
  const policy = await trustPolicyFromSpec(spec, {
    configMaps: { 'private-sigstore': { 'trusted_root.json': await readFile(trustedRootFile, 'utf8') } },
  });
  return verifyArtifact(client, { ...ref, digest }, policy, { now: () => new Date() });
};

// ---- registry manipulation an attacker with push access can do ------------------------------------

const sha256 = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

const putBlob = async (registry: RegistryEndpoint, repo: string, data: Buffer): Promise<string> => {
  const digest = sha256(data);
  const start = await fetch(`http://${registry.host}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  const location = new URL(start.headers.get('location') ?? '', `http://${registry.host}`);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, {
    method: 'PUT',
    body: data,
    headers: { 'content-type': 'application/octet-stream' },
  });
  if (put.status !== 201) throw new Error(`blob upload failed: ${put.status} ${await put.text()}`);
  return digest;
};

const putManifest = async (
  registry: RegistryEndpoint,
  repo: string,
  ref: string,
  manifest: unknown,
): Promise<string> => {
  const body = Buffer.from(JSON.stringify(manifest));
  const res = await fetch(`http://${registry.host}/v2/${repo}/manifests/${ref}`, {
    method: 'PUT',
    body,
    headers: { 'content-type': OCI_MANIFEST },
  });
  if (res.status !== 201) throw new Error(`manifest push failed: ${res.status} ${await res.text()}`);
  return sha256(body);
};

const getJson = async <T>(registry: RegistryEndpoint, path: string): Promise<T> => {
  const res = await fetch(`http://${registry.host}/v2/${path}`, { headers: { accept: OCI_MANIFEST } });
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}`);
  return (await res.json()) as T;
};

const getBlob = async (registry: RegistryEndpoint, repo: string, digest: string): Promise<Buffer> =>
  Buffer.from(await (await fetch(`http://${registry.host}/v2/${repo}/blobs/${digest}`)).arrayBuffer());

interface OciManifestJson {
  config: { digest: string; size: number; mediaType: string };
  layers: { digest: string; size: number; mediaType: string; annotations?: Record<string, string> }[];
  subject?: { digest: string; size: number; mediaType: string };
  [key: string]: unknown;
}

const repoOf = (a: PushedArtifact): string => a.repository.slice(a.repository.indexOf('/') + 1);
const sigTag = (digest: string): string => `${digest.replace(':', '-')}.sig`;

/** Copies every blob of a manifest from one repository to another (same registry). */
const copyBlobs = async (
  registry: RegistryEndpoint,
  from: string,
  to: string,
  m: OciManifestJson,
): Promise<void> => {
  for (const d of [m.config, ...m.layers])
    await putBlob(registry, to, await getBlob(registry, from, d.digest));
};

/** Replays the legacy signature of `signed` as if it were the signature of `victim` (any repository). */
const replayLegacySignature = async (
  registry: RegistryEndpoint,
  signed: PushedArtifact,
  victim: PushedArtifact,
): Promise<void> => {
  const m = await getJson<OciManifestJson>(registry, `${repoOf(signed)}/manifests/${sigTag(signed.digest)}`);
  await copyBlobs(registry, repoOf(signed), repoOf(victim), m);
  await putManifest(registry, repoOf(victim), sigTag(victim.digest), m);
};

/** Re-attaches the bundle referrer of `signed` to `victim` (the subject rewritten; the bundle unchanged). */
const replayBundle = async (
  registry: RegistryEndpoint,
  signed: PushedArtifact,
  victim: PushedArtifact,
): Promise<void> => {
  const referrers = await getJson<{ manifests: { digest: string; artifactType?: string }[] }>(
    registry,
    `${repoOf(signed)}/referrers/${signed.digest}`,
  );
  const bundleRef = referrers.manifests.find((d) => d.artifactType === COSIGN_BUNDLE_ARTIFACT_TYPE);
  if (!bundleRef) throw new Error('no bundle referrer to replay');
  const m = await getJson<OciManifestJson>(registry, `${repoOf(signed)}/manifests/${bundleRef.digest}`);
  const victimManifest = Buffer.from(
    await (
      await fetch(`http://${registry.host}/v2/${repoOf(victim)}/manifests/${victim.digest}`, {
        headers: { accept: OCI_MANIFEST },
      })
    ).arrayBuffer(),
  );
  await copyBlobs(registry, repoOf(signed), repoOf(victim), m);
  const replayed = {
    ...m,
    subject: { mediaType: OCI_MANIFEST, digest: victim.digest, size: victimManifest.length },
  };
  await putManifest(registry, repoOf(victim), sha256(Buffer.from(JSON.stringify(replayed))), replayed);
};

/** Rewrites the simple-signing payload of a legacy signature, keeping the signature annotation. */
const tamperLegacyPayload = async (registry: RegistryEndpoint, artifact: PushedArtifact): Promise<void> => {
  const repo = repoOf(artifact);
  const m = await getJson<OciManifestJson>(registry, `${repo}/manifests/${sigTag(artifact.digest)}`);
  const layer = m.layers[0];
  if (!layer) throw new Error('signature manifest without layers');
  const payload = JSON.parse((await getBlob(registry, repo, layer.digest)).toString('utf8')) as Record<
    string,
    unknown
  >;
  const tampered = Buffer.from(JSON.stringify({ ...payload, optional: { note: 'approved by security' } }));
  const digest = await putBlob(registry, repo, tampered);
  await putManifest(registry, repo, sigTag(artifact.digest), {
    ...m,
    layers: [{ ...layer, digest, size: tampered.length }],
  });
};

/**
 * Replaces the bundle referrer of `artifact` by one whose DSSE statement carries an extra annotation
 * (same subject, same signature), and deletes the original referrer.
 */
const tamperBundleStatement = async (registry: RegistryEndpoint, artifact: PushedArtifact): Promise<void> => {
  const repo = repoOf(artifact);
  const referrers = await getJson<{ manifests: { digest: string; artifactType?: string }[] }>(
    registry,
    `${repo}/referrers/${artifact.digest}`,
  );
  const original = referrers.manifests.find((d) => d.artifactType === COSIGN_BUNDLE_ARTIFACT_TYPE);
  if (!original) throw new Error('no bundle referrer to tamper with');
  const m = await getJson<OciManifestJson>(registry, `${repo}/manifests/${original.digest}`);
  const layer = m.layers[0];
  if (!layer) throw new Error('bundle manifest without layers');
  const bundle = JSON.parse((await getBlob(registry, repo, layer.digest)).toString('utf8')) as {
    dsseEnvelope: { payload: string };
  };
  const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8')) as {
    predicate?: Record<string, unknown>;
  };
  statement.predicate = { ...statement.predicate, note: 'approved by security' };
  bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
  const tampered = Buffer.from(JSON.stringify(bundle));
  const digest = await putBlob(registry, repo, tampered);
  const replaced = { ...m, layers: [{ ...layer, digest, size: tampered.length }] };
  await putManifest(registry, repo, sha256(Buffer.from(JSON.stringify(replaced))), replaced);
  const deleted = await fetch(`http://${registry.host}/v2/${repo}/manifests/${original.digest}`, {
    method: 'DELETE',
  });
  if (deleted.status !== 202) throw new Error(`deleting the original bundle failed: ${deleted.status}`);
};

// ---- the cases --------------------------------------------------------------------------------------

let counter = 0;
const push = (
  registry: RegistryEndpoint,
  repo = `verify/app-${++counter}`,
  tag = 'v1',
): Promise<PushedArtifact> => pushArtifact(home, registry, repo, tag, `artifact ${counter} ${Math.random()}`);

type CosignCheck = { tool: 'cosign' | 'cosign2'; flags: () => string[] };

const keyCheck = (
  tool: 'cosign' | 'cosign2',
  key: () => CosignKeyPair,
  extra: readonly string[] = [],
): CosignCheck => ({
  tool,
  flags: () => ['--key', key().publicKeyFile, '--insecure-ignore-tlog=true', ...extra],
});

const identityCheck = (tool: 'cosign' | 'cosign2'): CosignCheck => ({
  tool,
  flags: () => [
    ...(tool === 'cosign2'
      ? ['--certificate-chain', ca.certFile]
      : ['--trusted-root', trustedRootFile, '--allow-certificate-chain']),
    '--certificate-identity-regexp',
    '^alice@tagguard\\.test$',
    '--certificate-oidc-issuer',
    ISSUER,
    '--insecure-ignore-tlog=true',
    '--insecure-ignore-sct=true',
  ],
});

interface Case {
  name: string;
  registry: () => RegistryEndpoint;
  /** Pushes and signs; returns the reference both tools verify. */
  arrange: (registry: RegistryEndpoint) => Promise<string>;
  policy: () => VerifySpec;
  expected: { verdict: 'Trusted' | 'Untrusted'; reasons?: VerifyReason[]; format?: 'legacy' | 'bundle' };
  /** The cosign CLI run(s) beside tagguard; with several, the verdict is "at least minSignatures verified". */
  cosign: CosignCheck[];
  /** Why the cosign CLI deliberately gives the other verdict here (documented in docs/verification.md). */
  cosignDiffers?: string;
  minSignatures?: number;
}

const olareg = (): RegistryEndpoint => env.registries.referrers;
const distribution = (): RegistryEndpoint => env.registries.tagSchema;

const cases: Case[] = [
  ...[olareg, distribution].flatMap((registry): Case[] => [
    {
      name: `legacy keyed signature on ${registry === olareg ? 'olareg' : 'distribution'}`,
      registry,
      arrange: async (r) => {
        const a = await push(r);
        await signCosignLegacy(home, r, a, trusted);
        return `${a.repository}:${a.tag}`;
      },
      policy: () => keyed(trusted),
      expected: { verdict: 'Trusted', format: 'legacy' },
      cosign: [keyCheck('cosign2', () => trusted)],
    },
    {
      name: `bundle keyed signature on ${registry === olareg ? 'olareg (referrers API)' : 'distribution (tag schema)'}`,
      registry,
      arrange: async (r) => {
        const a = await push(r);
        await signCosignBundle(home, r, a, trusted);
        return `${a.repository}:${a.tag}`;
      },
      policy: () => keyed(trusted),
      expected: { verdict: 'Trusted', format: 'bundle' },
      cosign: [keyCheck('cosign', () => trusted)],
    },
    {
      name: `legacy certificate signature with a trusted identity on ${registry === olareg ? 'olareg' : 'distribution'}`,
      registry,
      arrange: async (r) => {
        const a = await push(r);
        await signCosignWithCertificate('legacy', home, r, a, alice);
        return `${a.repository}:${a.tag}`;
      },
      policy: () => identity,
      expected: { verdict: 'Trusted', format: 'legacy' },
      cosign: [identityCheck('cosign2')],
    },
    {
      name: `bundle certificate signature with a trusted identity on ${registry === olareg ? 'olareg' : 'distribution'}`,
      registry,
      arrange: async (r) => {
        const a = await push(r);
        await signCosignWithCertificate('bundle', home, r, a, alice);
        return `${a.repository}:${a.tag}`;
      },
      policy: () => identity,
      expected: { verdict: 'Trusted', format: 'bundle' },
      cosign: [identityCheck('cosign')],
    },
  ]),
  ...(
    [
      ['v1', 'legacy'],
      ['v2', 'bundle'],
      ['v2', 'legacy'],
    ] as const
  ).map(([oid, format]): Case => ({
    name: `${format} certificate naming its issuer only in the ${oid} Fulcio extension`,
    registry: olareg,
    arrange: async (r) => {
      const a = await push(r);
      await signCosignWithCertificate(format, home, r, a, oid === 'v1' ? aliceV1 : aliceV2);
      return `${a.repository}:${a.tag}`;
    },
    policy: () => identity,
    expected: { verdict: 'Trusted', format },
    cosign: [identityCheck(format === 'legacy' ? 'cosign2' : 'cosign')],
    ...(oid === 'v2' && format === 'legacy'
      ? {
          // cosign's legacy path reads the issuer from the v1 extension only (it reports an empty
          // issuer); Fulcio has written the v2 extension since 2022 and sigstore-go (bundles) reads it.
          cosignDiffers: 'cosign reads a legacy certificate issuer only from 1.3.6.1.4.1.57264.1.1',
        }
      : {}),
  })),
  ...(['legacy', 'bundle'] as const).map((format): Case => ({
    name: `${format} certificate signature whose certificate expired before verification (no transparency log)`,
    registry: olareg,
    arrange: async (r) => {
      const a = await push(r);
      // Signed after the leaf expired: cosign checks the chain at the leaf's notBefore only.
      await new Promise((done) => setTimeout(done, Math.max(0, expiresAt.getTime() + 1500 - Date.now())));
      await signCosignWithCertificate(format, home, r, a, aliceExpired);
      return `${a.repository}:${a.tag}`;
    },
    policy: () => identity,
    expected: { verdict: 'Untrusted', reasons: ['CertificateExpired'] },
    cosign: [identityCheck(format === 'legacy' ? 'cosign2' : 'cosign')],
  })),
  {
    name: 'legacy signature by another key',
    registry: olareg,
    arrange: async (r) => {
      const a = await push(r);
      await signCosignLegacy(home, r, a, stranger);
      return `${a.repository}:${a.tag}`;
    },
    policy: () => keyed(trusted),
    expected: { verdict: 'Untrusted', reasons: ['UntrustedSigner'] },
    cosign: [keyCheck('cosign2', () => trusted)],
  },
  {
    name: 'bundle signature by another key',
    registry: olareg,
    arrange: async (r) => {
      const a = await push(r);
      await signCosignBundle(home, r, a, stranger);
      return `${a.repository}:${a.tag}`;
    },
    policy: () => keyed(trusted),
    // The bundle's key hint names a key the policy does not trust.
    expected: { verdict: 'Untrusted', reasons: ['UntrustedSigner'] },
    cosign: [keyCheck('cosign', () => trusted)],
  },
  {
    name: 'legacy signature whose payload was altered after signing',
    registry: olareg,
    arrange: async (r) => {
      const a = await push(r);
      await signCosignLegacy(home, r, a, trusted);
      await tamperLegacyPayload(r, a);
      return `${a.repository}:${a.tag}`;
    },
    policy: () => keyed(trusted),
    // A legacy signature names no key: an altered payload looks like a signature by another key.
    expected: { verdict: 'Untrusted', reasons: ['UntrustedSigner'] },
    cosign: [keyCheck('cosign2', () => trusted)],
  },
  {
    name: 'bundle whose signed statement was altered after signing',
    registry: olareg,
    arrange: async (r) => {
      const a = await push(r);
      await signCosignBundle(home, r, a, trusted);
      await tamperBundleStatement(r, a);
      return `${a.repository}:${a.tag}`;
    },
    policy: () => keyed(trusted),
    // The bundle's key hint names the trusted key, so the signature itself is broken.
    expected: { verdict: 'Untrusted', reasons: ['SignatureInvalid'] },
    cosign: [keyCheck('cosign', () => trusted)],
  },
  {
    name: 'tag re-pushed after signing (the signature belongs to the old digest)',
    registry: olareg,
    arrange: async (r) => {
      const a = await push(r, 'verify/repushed');
      await signCosignLegacy(home, r, a, trusted);
      await signCosignBundle(home, r, a, trusted);
      const b = await push(r, 'verify/repushed');
      return `${b.repository}:${b.tag}`;
    },
    policy: () => keyed(trusted),
    expected: { verdict: 'Untrusted', reasons: ['SignatureMissing'] },
    cosign: [keyCheck('cosign2', () => trusted), keyCheck('cosign', () => trusted)],
  },
  {
    name: 'tag re-pushed and the old legacy signature replayed under the new digest',
    registry: olareg,
    arrange: async (r) => {
      const a = await push(r, 'verify/replayed-tag');
      await signCosignLegacy(home, r, a, trusted);
      const b = await push(r, 'verify/replayed-tag');
      await replayLegacySignature(r, a, b);
      return `${b.repository}:${b.tag}`;
    },
    policy: () => keyed(trusted),
    expected: { verdict: 'Untrusted', reasons: ['DigestMismatch'] },
    cosign: [keyCheck('cosign2', () => trusted)],
  },
  {
    name: 'legacy signature copied to another repository',
    registry: olareg,
    arrange: async (r) => {
      const a = await push(r, 'verify/origin');
      await signCosignLegacy(home, r, a, trusted);
      const b = await push(r, 'verify/elsewhere');
      await replayLegacySignature(r, a, b);
      return `${b.repository}:${b.tag}`;
    },
    policy: () => keyed(trusted),
    expected: { verdict: 'Untrusted', reasons: ['DigestMismatch'] },
    cosign: [keyCheck('cosign2', () => trusted)],
  },
  {
    name: 'bundle referrer copied to another repository',
    registry: olareg,
    arrange: async (r) => {
      const a = await push(r, 'verify/bundle-origin');
      await signCosignBundle(home, r, a, trusted);
      const b = await push(r, 'verify/bundle-elsewhere');
      await replayBundle(r, a, b);
      return `${b.repository}:${b.tag}`;
    },
    policy: () => keyed(trusted),
    expected: { verdict: 'Untrusted', reasons: ['DigestMismatch'] },
    cosign: [keyCheck('cosign', () => trusted)],
  },
  {
    name: 'legacy certificate signature by an identity the policy does not trust',
    registry: olareg,
    arrange: async (r) => {
      const a = await push(r);
      await signCosignWithCertificate('legacy', home, r, a, bob);
      return `${a.repository}:${a.tag}`;
    },
    policy: () => identity,
    expected: { verdict: 'Untrusted', reasons: ['UntrustedSigner'] },
    cosign: [identityCheck('cosign2')],
  },
  {
    name: 'bundle certificate signature by an identity the policy does not trust',
    registry: olareg,
    arrange: async (r) => {
      const a = await push(r);
      await signCosignWithCertificate('bundle', home, r, a, bob);
      return `${a.repository}:${a.tag}`;
    },
    policy: () => identity,
    expected: { verdict: 'Untrusted', reasons: ['UntrustedSigner'] },
    cosign: [identityCheck('cosign')],
  },
  {
    name: 'legacy certificate of the right identity chaining to another CA',
    registry: olareg,
    arrange: async (r) => {
      const a = await push(r);
      await signCosignWithCertificate('legacy', home, r, a, aliceOtherCa);
      return `${a.repository}:${a.tag}`;
    },
    policy: () => identity,
    expected: { verdict: 'Untrusted', reasons: ['UntrustedSigner'] },
    cosign: [identityCheck('cosign2')],
  },
  {
    name: 'bundle certificate of the right identity chaining to another CA',
    registry: olareg,
    arrange: async (r) => {
      const a = await push(r);
      await signCosignWithCertificate('bundle', home, r, a, aliceOtherCa);
      return `${a.repository}:${a.tag}`;
    },
    policy: () => identity,
    expected: { verdict: 'Untrusted', reasons: ['UntrustedSigner'] },
    cosign: [identityCheck('cosign')],
  },
  {
    name: 'one of two required signers (minSignatures: 2)',
    registry: olareg,
    arrange: async (r) => {
      const a = await push(r);
      await signCosignLegacy(home, r, a, trusted);
      return `${a.repository}:${a.tag}`;
    },
    policy: () => ({ ...keyed(trusted, stranger), minSignatures: 2 }),
    minSignatures: 2,
    expected: { verdict: 'Untrusted', reasons: ['UntrustedSigner', 'ThresholdNotMet'] },
    cosign: [keyCheck('cosign2', () => trusted), keyCheck('cosign2', () => stranger)],
  },
  {
    name: 'two of two required signers, one legacy and one bundle (minSignatures: 2)',
    registry: distribution,
    arrange: async (r) => {
      const a = await push(r);
      await signCosignLegacy(home, r, a, trusted);
      await signCosignBundle(home, r, a, stranger);
      return `${a.repository}:${a.tag}`;
    },
    policy: () => ({ ...keyed(trusted, stranger), minSignatures: 2 }),
    minSignatures: 2,
    expected: { verdict: 'Trusted' },
    // cosign v2.6.5 switches to the bundle path as soon as a bundle referrer exists and then never looks
    // at the `.sig` tag; cosign v3 reads the legacy signature with --new-bundle-format=false. One cosign
    // run checks one format; tagguard checks every format it finds for each signer entry.
    cosign: [
      keyCheck('cosign', () => trusted, ['--new-bundle-format=false']),
      keyCheck('cosign', () => stranger),
    ],
  },
  ...[olareg, distribution].map((registry): Case => ({
    name: `no signature at all on ${registry === olareg ? 'olareg' : 'distribution'}`,
    registry,
    arrange: async (r) => {
      const a = await push(r);
      return `${a.repository}:${a.tag}`;
    },
    policy: () => keyed(trusted),
    expected: { verdict: 'Untrusted', reasons: ['SignatureMissing'] },
    cosign: [keyCheck('cosign2', () => trusted), keyCheck('cosign', () => trusted)],
  })),
];

describe('cosign verification, cross-checked with the cosign CLI', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const registry = c.registry();
    const reference = await c.arrange(registry);

    const result = await verifyWithTagguard(reference, c.policy());
    expect(result.verdict).toBe(c.expected.verdict);
    if (c.expected.reasons) expect([...result.reasons].sort()).toEqual([...c.expected.reasons].sort());
    if (c.expected.format) expect(result.signers.find((s) => s.verified)?.format).toBe(c.expected.format);

    // The real cosign on the same digest: the verdicts must agree.
    const byDigest = `${reference.slice(0, reference.lastIndexOf(':'))}@${result.digest}`;
    // One at a time: concurrent cosign runs race on the TUF cache of the shared tool home.
    const runs: { verified: boolean; output: string }[] = [];
    for (const check of c.cosign)
      runs.push(await verifyWithCosign(check.tool, home, registry, byDigest, check.flags()));
    const cosignTrusted = runs.filter((r) => r.verified).length >= (c.minSignatures ?? 1);
    const agree = c.cosignDiffers === undefined;
    expect(
      result.verdict === 'Trusted',
      `${c.cosignDiffers ?? ''}\n${runs.map((r) => r.output).join('\n---\n')}`,
    ).toBe(agree ? cosignTrusted : !cosignTrusted);
  });
});

describe('verifyArtifact', () => {
  it('reports a registry failure as verdict Error with reason RegistryError', async () => {
    const unreachable = parseReference('127.0.0.1:9/verify/none:v1');
    const result = await verifyArtifact(
      client,
      { ...unreachable, digest: `sha256:${'0'.repeat(64)}` },
      await trustPolicyFromSpec(keyed(trusted), {}),
      { now: () => new Date() },
    );
    expect(result.verdict).toBe('Error');
    expect(result.reasons).toEqual(['RegistryError']);
    expect(result.signers[0]?.message).toMatch(/^ConnectionFailed:/);
  });

  it('a signature verified for one digest does not make another digest of the same tag trusted', async () => {
    const registry = olareg();
    const signed = await push(registry, 'verify/two-digests');
    await signCosignLegacy(home, registry, signed, trusted);
    const unsigned = await push(registry, 'verify/two-digests', 'v2');
    const policy = await trustPolicyFromSpec(keyed(trusted), {});
    const ref = parseReference(`${signed.repository}:v1`);
    const [first, second] = await Promise.all([
      verifyArtifact(client, { ...ref, digest: signed.digest }, policy, { now: () => new Date() }),
      verifyArtifact(client, { ...ref, digest: unsigned.digest }, policy, { now: () => new Date() }),
    ]);
    expect(first.verdict).toBe('Trusted');
    expect(second.verdict).toBe('Untrusted');
    expect(second.reasons).toEqual(['SignatureMissing']);
  });
});
