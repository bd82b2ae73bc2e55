// Fuzzing tagguard's verifiers with mutations of signatures made by the real cosign v2 (legacy `.sig`,
// keyed and with a certificate chain), cosign v3 (Sigstore bundles, keyed and with a certificate chain)
// and notation (JWS and COSE), read raw from olareg: 1,000 mutations each (test/verify/signature-fuzz.ts
// says what is asserted). Then the reproduced case of issue 13 end to end: a `.sig` whose first layer
// carries a certificate with a key node:crypto cannot decode, beside a valid signature by another signer,
// through verifyArtifact and `tagguard verify` (exit 0 or 1, never 2 with a stack trace).
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import fc from 'fast-check';
import { createCA, issueCertificate, type KeyPair } from '../../env/pki.ts';
import { pushArtifact, type PushedArtifact } from '../../env/oci.ts';
import { listReferrers, registryGet, sha256, type Descriptor } from '../../env/registry-http.ts';
import { runTool } from '../../env/run-tool.ts';
import { runTagguardCli, writePolicyFile } from '../../env/cli.ts';
import { createToolHome, type ToolHome } from '../../env/tool-home.ts';
import {
  createNotationTestSigner,
  fulcioIssuerExtensions,
  generateCosignKeyPair,
  importCosignKey,
  privateTrustedRoot,
  signCosignBundle,
  signCosignLegacy,
  signCosignWithCertificate,
  signNotation,
  type CosignCertificate,
  type CosignKeyPair,
} from '../../env/sign.ts';
import { RegistryClient } from '../../../src/registry/client.ts';
import { RegistryTransport } from '../../../src/registry/transport.ts';
import { parseReference } from '../../../src/registry/reference.ts';
import {
  COSIGN_BUNDLE_ARTIFACT_TYPE,
  NOTATION_SIGNATURE_ARTIFACT_TYPE,
} from '../../../src/registry/media-types.ts';
import { CosignVerifier } from '../../../src/verify/cosign/cosign-verifier.ts';
import { verifyNotation } from '../../../src/verify/notation/notation-verifier.ts';
import { verifyArtifact } from '../../../src/controller/signature-check.ts';
import { trustPolicyFromSpec } from '../../../src/verify/trust-policy.ts';
import type { VerifySpec } from '../../../src/api/artifact-verification.ts';
import type { CosignLegacySignature, NotationTrust, SignerResult } from '../../../src/verify/types.ts';
import { ODD_KEY_KINDS, withOddKey } from '../../verify/odd-key-certificates.ts';
import { mutate, mutations, type MutationContext } from '../../verify/signature-mutations.ts';
import {
  bundleView,
  coseView,
  jwsView,
  legacyDocument,
  legacyFromDocument,
  legacyView,
  runFuzz,
  type FuzzReport,
  type FuzzSubject,
} from '../../verify/signature-fuzz.ts';

const env = inject('testEnv');
const registry = env.registries.referrers;
const ISSUER = 'https://token.tagguard.test';
const ALICE = 'alice@tagguard.test';
const RUNS = 1000;
const NOTATION_SIGNER = 'tagguard-fuzz';

const ANNOTATION = {
  signature: 'dev.cosignproject.cosign/signature',
  certificate: 'dev.sigstore.cosign/certificate',
  chain: 'dev.sigstore.cosign/chain',
  bundle: 'dev.sigstore.cosign/bundle',
} as const;

let home: ToolHome;
let dir: string;
let ca: KeyPair;
let trusted: CosignKeyPair;
let alice: CosignCertificate;
let aliceLeafPem: string;
let notationCert: string;
let artifact: PushedArtifact;
let client: RegistryClient;
let trustedRootFile: string;
let fuzzContext: MutationContext;
const subjects = new Map<string, FuzzSubject>();
const reports: Record<string, FuzzReport> = {};

const repoOf = (a: PushedArtifact): string => a.repository.slice(a.repository.indexOf('/') + 1);

/** The layers of the artifact's `.sig` manifest as tagguard reads them. */
const legacySignatures = async (a: PushedArtifact): Promise<CosignLegacySignature[]> => {
  const repo = repoOf(a);
  const res = await registryGet(registry, `/v2/${repo}/manifests/${a.digest.replace(':', '-')}.sig`);
  expect(res.status).toBe(200);
  const { layers } = res.json<{ layers: Descriptor[] }>();
  return Promise.all(
    layers.map(async (layer) => {
      const blob = await registryGet(registry, `/v2/${repo}/blobs/${layer.digest}`);
      const an = layer.annotations ?? {};
      const optional = {
        certificate: an[ANNOTATION.certificate],
        chain: an[ANNOTATION.chain],
        rekorBundle: an[ANNOTATION.bundle],
      };
      return {
        payload: blob.body,
        signature: an[ANNOTATION.signature] ?? '',
        ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined && v !== '')),
        signatureManifestDigest: sha256(res.body),
      };
    }),
  );
};

/** The single layer of every referrer of `artifactType`. */
const referrerBlobs = async (
  a: PushedArtifact,
  artifactType: string,
): Promise<{ mediaType: string; bytes: Buffer; digest: string }[]> => {
  const repo = repoOf(a);
  const { manifests } = await listReferrers(registry, repo, a.digest);
  return Promise.all(
    manifests
      .filter((d) => d.artifactType === artifactType)
      .map(async (d) => {
        const manifest = await registryGet(registry, `/v2/${repo}/manifests/${d.digest}`);
        const [layer] = manifest.json<{ layers: Descriptor[] }>().layers;
        if (!layer) throw new Error('referrer without a layer');
        const blob = await registryGet(registry, `/v2/${repo}/blobs/${layer.digest}`);
        return { mediaType: layer.mediaType, bytes: blob.body, digest: d.digest };
      }),
  );
};

const empty = { cosignLegacy: [], cosignBundles: [], notation: [] };

beforeAll(async () => {
  home = await createToolHome(env);
  dir = await mkdtemp(join(tmpdir(), 'tagguard-signature-fuzz-'));
  client = new RegistryClient(new RegistryTransport({ hostOptions: () => ({ plainHttp: true }) }));
  ca = await createCA(dir, 'signing-ca');
  const leaf = await issueCertificate(ca, dir, 'alice', {
    subject: '/CN=alice',
    usage: 'code-signing',
    extraExtensions: [`subjectAltName = email:${ALICE}`, ...fulcioIssuerExtensions(ISSUER)],
  });
  aliceLeafPem = leaf.certPem;
  [trusted, alice, { certPem: notationCert }] = await Promise.all([
    generateCosignKeyPair(home, 'fuzz-trusted'),
    importCosignKey(home, 'fuzz-alice', leaf.keyFile).then((key) => ({
      key,
      certFile: leaf.certFile,
      chainFile: ca.certFile,
    })),
    createNotationTestSigner(home, NOTATION_SIGNER),
  ]);
  trustedRootFile = join(dir, 'trusted_root.json');
  await writeFile(trustedRootFile, JSON.stringify(privateTrustedRoot(ca.certPem)));

  artifact = await pushArtifact(home, registry, 'fuzz/signed', 'v1', 'content signed in every format');
  await signCosignLegacy(home, registry, artifact, trusted);
  await signCosignWithCertificate('legacy', home, registry, artifact, alice);
  await signCosignBundle(home, registry, artifact, trusted);
  await signCosignWithCertificate('bundle', home, registry, artifact, alice);
  await signNotation(home, registry, artifact, 'jws', { referrersApi: true });
  await signNotation(home, registry, artifact, 'cose', { referrersApi: true });

  const legacy = await legacySignatures(artifact);
  const keyedLegacy = legacy.find((s) => s.certificate === undefined);
  const certLegacy = legacy.find((s) => s.certificate !== undefined);
  const bundles = await referrerBlobs(artifact, COSIGN_BUNDLE_ARTIFACT_TYPE);
  const certBundle = bundles.find(
    (b) => b.bytes.includes('x509CertificateChain') || b.bytes.includes('"certificate"'),
  );
  const keyedBundle = bundles.find((b) => b !== certBundle);
  const envelopes = await referrerBlobs(artifact, NOTATION_SIGNATURE_ARTIFACT_TYPE);
  const jws = envelopes.find((e) => e.mediaType === 'application/jose+json');
  const cose = envelopes.find((e) => e.mediaType === 'application/cose');
  if (!keyedLegacy || !certLegacy || !keyedBundle || !certBundle || !jws || !cose)
    throw new Error('cosign or notation did not write every signature format');

  const odd = await Promise.all(ODD_KEY_KINDS.map((kind) => withOddKey(aliceLeafPem, ca, kind)));
  const certificates = [...odd, ca.certPem, notationCert].map((pem) => new X509Certificate(pem).raw);
  const donors = [
    legacyDocument(keyedLegacy),
    legacyDocument(certLegacy),
    keyedBundle.bytes,
    certBundle.bytes,
    jws.bytes,
    cose.bytes,
  ];
  const context: MutationContext = { donors, certificates };
  fuzzContext = context;

  const target = { repository: artifact.repository, digest: artifact.digest };
  const manifest = await registryGet(registry, `/v2/${repoOf(artifact)}/manifests/${artifact.digest}`);
  const notationTarget = {
    mediaType: manifest.contentType.split(';')[0] ?? '',
    digest: artifact.digest,
    size: manifest.body.length,
  };
  const keyed = new CosignVerifier({
    name: 'release',
    publicKeys: [trusted.publicKeyPem],
    requireTransparencyLog: false,
  });
  const keyless = new CosignVerifier({
    name: 'ci',
    publicKeys: [],
    keyless: { issuer: ISSUER, subjectRegex: '^alice@tagguard\\.test$' },
    trustedRoot: privateTrustedRoot(ca.certPem),
    requireTransparencyLog: false,
  });
  const notationTrust: NotationTrust = {
    name: 'notation',
    caCertificates: [notationCert],
    tsaCertificates: [],
    trustedIdentities: [`x509.subject: C=US, ST=WA, L=Seattle, O=Notary, CN=${NOTATION_SIGNER}`],
    level: 'strict',
  };
  const legacySubject = (
    name: string,
    sig: CosignLegacySignature,
    verifier: CosignVerifier,
    withCert: boolean,
  ): FuzzSubject => ({
    name,
    original: legacyDocument(sig),
    context,
    judge: (bytes) =>
      verifier.verify(target, { ...empty, cosignLegacy: [legacyFromDocument(bytes, sig)] }, new Date()),
    view: legacyView(sig, withCert),
  });
  const bundleSubject = (
    name: string,
    digest: string,
    original: Buffer,
    verifier: CosignVerifier,
    withCert: boolean,
  ): FuzzSubject => ({
    name,
    original,
    context,
    judge: (bytes) =>
      verifier.verify(
        target,
        { ...empty, cosignBundles: [{ bytes, signatureManifestDigest: digest }] },
        new Date(),
      ),
    view: bundleView(withCert),
  });
  const notationSubject = (name: string, envelope: typeof jws, view: (b: Buffer) => string): FuzzSubject => ({
    name,
    original: envelope.bytes,
    context,
    judge: (bytes): Promise<SignerResult> =>
      verifyNotation(
        notationTarget,
        [{ mediaType: envelope.mediaType, bytes, signatureManifestDigest: envelope.digest }],
        notationTrust,
        new Date(),
      ),
    view,
  });
  for (const subject of [
    legacySubject('cosign v2 legacy keyed signature', keyedLegacy, keyed, false),
    legacySubject('cosign v2 legacy certificate signature', certLegacy, keyless, true),
    bundleSubject('cosign v3 keyed bundle', keyedBundle.digest, keyedBundle.bytes, keyed, false),
    bundleSubject('cosign v3 certificate bundle', certBundle.digest, certBundle.bytes, keyless, true),
    notationSubject('notation JWS envelope', jws, jwsView),
    notationSubject('notation COSE envelope', cose, coseView),
  ])
    subjects.set(subject.name, subject);
});

afterAll(async () => {
  await client.close();
  // The figures for the report: runs, verified no-op mutations, reasons, time per input.
  if (Object.keys(reports).length > 0) console.info(JSON.stringify(reports, null, 1));
});

describe('verifiers under mutations of real cosign and notation signatures', () => {
  for (const name of [
    'cosign v2 legacy keyed signature',
    'cosign v2 legacy certificate signature',
    'cosign v3 keyed bundle',
    'cosign v3 certificate bundle',
    'notation JWS envelope',
    'notation COSE envelope',
  ]) {
    it(`${name}: ${RUNS} mutations, none throws, each bounded, only no-op mutations verify`, async () => {
      const subject = subjects.get(name);
      if (!subject) throw new Error(`no subject ${name}`);
      const report = await runFuzz(subject, RUNS);
      reports[name] = report;
      expect(report.runs).toBe(RUNS);
    });
  }
});

/** Pushes the artifact's `.sig` manifest again with `layer` in front of its layers. */
const prependLegacyLayer = async (a: PushedArtifact, annotations: Record<string, string>): Promise<void> => {
  const repo = repoOf(a);
  const tag = `${a.digest.replace(':', '-')}.sig`;
  const res = await registryGet(registry, `/v2/${repo}/manifests/${tag}`);
  const manifest = res.json<{ layers: Descriptor[] }>();
  const [first] = manifest.layers;
  if (!first) throw new Error('no signature layer');
  const layer = { ...first, annotations: { ...first.annotations, ...annotations } };
  const file = join(dir, `sig-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, JSON.stringify({ ...manifest, layers: [layer, ...manifest.layers] }));
  await runTool('oras', ['manifest', 'push', '--plain-http', `${registry.host}/${repo}:${tag}`, file], {
    env: home.env,
  });
};

describe('a signature with a certificate node:crypto cannot read, beside a valid signature of another signer', () => {
  let broken: PushedArtifact;
  let spec: (min: number) => VerifySpec;

  beforeAll(async () => {
    broken = await pushArtifact(home, registry, 'fuzz/odd-key', 'v1', 'content with an odd signature beside');
    await signCosignLegacy(home, registry, broken, trusted);
    // Signer A's signature: the certificate's key has an algorithm OID nobody knows (still CA-signed).
    await prependLegacyLayer(broken, {
      [ANNOTATION.certificate]: await withOddKey(aliceLeafPem, ca, 'unknown-oid'),
      [ANNOTATION.chain]: ca.certPem,
    });
    spec = (min) => ({
      minSignatures: min,
      cosign: [
        {
          name: 'ci',
          keyless: { issuer: ISSUER, subjectRegex: '^alice@tagguard\\.test$' },
          trustedRoot: { configMapRef: { name: 'private-sigstore' } },
          requireTransparencyLog: false,
        },
        { name: 'release', publicKey: trusted.publicKeyPem },
      ],
    });
  });

  it('verifyArtifact judges signer A SignatureInvalid and still evaluates signer B', async () => {
    const ref = parseReference(`${broken.repository}:${broken.tag}`);
    const policy = (min: number) =>
      trustPolicyFromSpec(spec(min), {
        configMaps: {
          'private-sigstore': { 'trusted_root.json': JSON.stringify(privateTrustedRoot(ca.certPem)) },
        },
      });
    const one = await verifyArtifact(client, { ...ref, digest: broken.digest }, await policy(1), {
      now: () => new Date(),
    });
    expect(one.verdict).toBe('Trusted');
    expect(one.signers.map((s) => [s.name, s.verified])).toEqual([
      ['ci', false],
      ['release', true],
    ]);
    // Its candidates: the odd certificate (SignatureInvalid) and B's keyed layer (no certificate).
    expect(['SignatureInvalid', 'UntrustedSigner']).toContain(one.signers[0]?.reason);
    const two = await verifyArtifact(client, { ...ref, digest: broken.digest }, await policy(2), {
      now: () => new Date(),
    });
    expect(two.verdict).toBe('Untrusted');
  });

  it('tagguard verify exits 0 with minSignatures 1 and 1 with minSignatures 2, without a stack trace', async () => {
    const run = async (min: number) =>
      runTagguardCli(
        [
          'verify',
          `oci://${broken.repository}:${broken.tag}`,
          '--policy',
          await writePolicyFile(dir, spec(min)),
          '--trusted-root',
          `private-sigstore=${trustedRootFile}`,
          '--insecure',
          '--output',
          'json',
        ],
        { PATH: process.env.PATH ?? '', HOME: home.dir, DOCKER_CONFIG: home.env.DOCKER_CONFIG ?? '' },
      );
    const one = await run(1);
    expect(one.code, one.stderr).toBe(0);
    expect((JSON.parse(one.stdout) as { verdict: string }).verdict).toBe('Trusted');
    const two = await run(2);
    expect(two.code, two.stderr).toBe(1);
    expect((JSON.parse(two.stdout) as { verdict: string }).verdict).toBe('Untrusted');
    for (const output of [one.stderr, two.stderr]) expect(output).not.toMatch(/\n\s+at /);
  });
});

/** Pushes a `.sig` manifest for `a` whose single layer is `sig` (its payload pushed as a blob). */
const pushLegacySignature = async (a: PushedArtifact, sig: CosignLegacySignature): Promise<void> => {
  const repo = repoOf(a);
  const payloadFile = join(dir, `payload-${Math.random().toString(36).slice(2)}`);
  await writeFile(payloadFile, sig.payload);
  await runTool('oras', ['blob', 'push', '--plain-http', `${registry.host}/${repo}`, payloadFile], {
    env: home.env,
  });
  const config = Buffer.from('{}');
  const configFile = join(dir, `config-${Math.random().toString(36).slice(2)}`);
  await writeFile(configFile, config);
  await runTool('oras', ['blob', 'push', '--plain-http', `${registry.host}/${repo}`, configFile], {
    env: home.env,
  });
  const annotations = Object.fromEntries(
    Object.entries({
      [ANNOTATION.signature]: sig.signature,
      [ANNOTATION.certificate]: sig.certificate,
      [ANNOTATION.chain]: sig.chain,
      [ANNOTATION.bundle]: sig.rekorBundle,
    }).filter(([, v]) => v !== undefined),
  );
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: sha256(config),
      size: config.length,
    },
    layers: [
      {
        mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
        digest: sha256(sig.payload),
        size: sig.payload.length,
        annotations,
      },
    ],
  };
  const file = join(dir, `sig-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, JSON.stringify(manifest));
  const tag = `${a.digest.replace(':', '-')}.sig`;
  await runTool('oras', ['manifest', 'push', '--plain-http', `${registry.host}/${repo}:${tag}`, file], {
    env: home.env,
  });
};

describe('mutated signatures served by a real registry', () => {
  let served: PushedArtifact;
  let original: CosignLegacySignature;
  let spec: VerifySpec;

  beforeAll(async () => {
    served = await pushArtifact(home, registry, 'fuzz/served', 'v1', 'content whose signature is mutated');
    await signCosignLegacy(home, registry, served, trusted);
    const [sig] = await legacySignatures(served);
    if (!sig) throw new Error('no signature');
    original = sig;
    spec = { cosign: [{ name: 'release', publicKey: trusted.publicKeyPem }] };
  });

  it('verifyArtifact returns a verdict for every mutated .sig and trusts only no-op mutations (200 pushes)', async () => {
    const ref = parseReference(`${served.repository}:${served.tag}`);
    const policy = await trustPolicyFromSpec(spec, {});
    const view = legacyView(original, false);
    await fc.assert(
      fc.asyncProperty(mutations, async (list) => {
        const mutated = mutate(legacyDocument(original), list, fuzzContext);
        await pushLegacySignature(served, legacyFromDocument(mutated, original));
        const result = await verifyArtifact(client, { ...ref, digest: served.digest }, policy, {
          now: () => new Date(),
        });
        expect(['Trusted', 'Untrusted']).toContain(result.verdict);
        if (result.verdict === 'Trusted') expect(view(mutated)).toBe(view(legacyDocument(original)));
      }),
      { numRuns: 200 },
    );
  }, 300_000);

  it('does not fetch a signature blob larger than any real signature and judges it SignatureInvalid', async () => {
    const big = {
      ...original,
      payload: Buffer.concat([original.payload, Buffer.alloc(2 * 1024 * 1024, 0x20)]),
    };
    await pushLegacySignature(served, big);
    const ref = parseReference(`${served.repository}:${served.tag}`);
    const result = await verifyArtifact(
      client,
      { ...ref, digest: served.digest },
      await trustPolicyFromSpec(spec, {}),
      {
        now: () => new Date(),
      },
    );
    expect(result.verdict).toBe('Untrusted');
    expect(result.signers[0]?.reason).toBe('SignatureInvalid');
  });
});
