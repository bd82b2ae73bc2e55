// Time-based checks with real notation signatures: an openssl CA whose code-signing leaf expires a few
// seconds after signing (notation refuses to sign with an already expired certificate, so the test
// waits for real), and a signature made with --expiry. tagguard and `notation verify` must agree
// before and after, at strict (enforced) and permissive (only logged).
import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { pushArtifact, type PushedArtifact } from '../../env/oci.ts';
import { createCA, issueCertificate, type KeyPair } from '../../env/pki.ts';
import { listReferrers, registryGet, sha256, type Descriptor } from '../../env/registry-http.ts';
import type { RegistryEndpoint } from '../../env/registries.ts';
import {
  addNotationSigningKey,
  configureNotationVerification,
  createNotationTestSigner,
  signNotation,
  verifyWithNotation,
  type NotationVerifyPolicy,
} from '../../env/sign.ts';
import { createToolHome, type ToolHome } from '../../env/tool-home.ts';
import { NOTATION_SIGNATURE_ARTIFACT_TYPE } from '../../../src/registry/media-types.ts';
import { verifyNotation, type NotationEnvelope } from '../../../src/verify/notation/notation-verifier.ts';
import type { SignerResult } from '../../../src/verify/types.ts';

const env = inject('testEnv');
const registry: RegistryEndpoint = env.registries.referrers;
const LEAF_SUBJECT = '/C=US/ST=WA/L=Seattle/O=Acme/OU=Release/CN=short-lived';
const LEAF_IDENTITY = 'x509.subject: C=US, ST=WA, O=Acme, CN=short-lived';
const CERT_LIFETIME_MS = 15_000;

const repoOf = (artifact: PushedArtifact): string =>
  artifact.repository.slice(artifact.repository.indexOf('/') + 1);

const tagguardVerify = async (
  artifact: PushedArtifact,
  policy: NotationVerifyPolicy,
  now = new Date(),
): Promise<SignerResult> => {
  const repo = repoOf(artifact);
  const manifest = await registryGet(registry, `/v2/${repo}/manifests/${artifact.digest}`);
  const target = {
    mediaType: manifest.contentType.split(';')[0] ?? '',
    digest: artifact.digest,
    size: manifest.body.length,
  };
  const { manifests } = await listReferrers(registry, repo, artifact.digest);
  const envelopes: NotationEnvelope[] = [];
  for (const descriptor of manifests.filter(
    (d: Descriptor) => d.artifactType === NOTATION_SIGNATURE_ARTIFACT_TYPE,
  )) {
    const signature = await registryGet(registry, `/v2/${repo}/manifests/${descriptor.digest}`);
    expect(sha256(signature.body)).toBe(descriptor.digest);
    const [layer] = signature.json<{ layers: Descriptor[] }>().layers;
    if (!layer) continue;
    const blob = await registryGet(registry, `/v2/${repo}/blobs/${layer.digest}`);
    expect(sha256(blob.body)).toBe(layer.digest);
    envelopes.push({
      mediaType: layer.mediaType,
      bytes: blob.body,
      signatureManifestDigest: descriptor.digest,
    });
  }
  expect(envelopes.length).toBeGreaterThan(0);
  return verifyNotation(
    target,
    envelopes,
    {
      name: 'release',
      caCertificates: policy.caCertificates,
      tsaCertificates: [],
      trustedIdentities: policy.trustedIdentities,
      level: policy.level,
    },
    now,
  );
};

const notationVerify = async (
  home: ToolHome,
  artifact: PushedArtifact,
  policy: NotationVerifyPolicy,
): Promise<{ verified: boolean; output: string }> => {
  await configureNotationVerification(home, policy);
  return verifyWithNotation(home, registry, artifact);
};

const sleepUntil = async (time: Date): Promise<void> => {
  const wait = time.getTime() - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
};

describe('expiry with real notation signatures', () => {
  let home: ToolHome;
  let ca: KeyPair;
  let leafNotAfter: Date;
  let chainSigned: PushedArtifact;
  let testCertPem: string;
  let expiring: PushedArtifact;
  let signedAt: Date;
  let expirySigning: { started: Date; finished: Date };

  beforeAll(async () => {
    home = await createToolHome(env);
    testCertPem = (await createNotationTestSigner(home, 'tagguard-expiry')).certPem;
    ca = await createCA(home.dir, 'release-ca', 30);
    signedAt = new Date();
    const leaf = await issueCertificate(ca, home.dir, 'short-lived', {
      subject: LEAF_SUBJECT,
      usage: 'code-signing',
      notBefore: new Date(signedAt.getTime() - 3_600_000),
      notAfter: new Date(signedAt.getTime() + CERT_LIFETIME_MS),
    });
    leafNotAfter = new X509Certificate(leaf.certPem).validToDate;
    await addNotationSigningKey(home, 'short-lived', leaf.keyFile, `${leaf.certPem}${ca.certPem}`);

    chainSigned = await pushArtifact(home, registry, 'notation-expiry/chain', 'v1', `chain ${Math.random()}`);
    await signNotation(home, registry, chainSigned, 'cose', { key: 'short-lived', referrersApi: true });
    expiring = await pushArtifact(home, registry, 'notation-expiry/sig', 'v1', `sig ${Math.random()}`);
    const started = new Date();
    await signNotation(home, registry, expiring, 'jws', { expiry: '3s', referrersApi: true });
    expirySigning = { started, finished: new Date() };
  });

  it('an openssl CA chain (ES256, leaf + root in x5chain) verifies while valid and gives CertificateExpired once the leaf expired', async () => {
    const policy: NotationVerifyPolicy = {
      caCertificates: [ca.certPem],
      trustedIdentities: [LEAF_IDENTITY],
      level: 'strict',
    };
    const before = await tagguardVerify(chainSigned, policy);
    const notationBefore = await notationVerify(home, chainSigned, policy);
    expect(Date.now()).toBeLessThan(leafNotAfter.getTime()); // both checks ran inside the validity window
    expect(before).toMatchObject({
      verified: true,
      format: 'notation-cose',
      identity: 'C=US, ST=WA, L=Seattle, O=Acme, OU=Release, CN=short-lived',
    });
    expect(notationBefore.verified, notationBefore.output).toBe(true);

    await sleepUntil(new Date(leafNotAfter.getTime() + 1500));
    const after = await tagguardVerify(chainSigned, policy);
    const notationAfter = await notationVerify(home, chainSigned, policy);
    expect(after).toMatchObject({ verified: false, reason: 'CertificateExpired' });
    expect(notationAfter.verified, notationAfter.output).toBe(false);

    // permissive only logs the authentic-timestamp failure: both accept
    const permissive = { ...policy, level: 'permissive' as const };
    const logged = await tagguardVerify(chainSigned, permissive);
    const notationLogged = await notationVerify(home, chainSigned, permissive);
    expect(logged.verified).toBe(true);
    expect(logged.message).toContain('authenticTimestamp (logged at level permissive)');
    expect(notationLogged.verified, notationLogged.output).toBe(true);
  });

  it('a signature made with --expiry 3s gives CertificateExpired after it expired, as notation at strict', async () => {
    const policy: NotationVerifyPolicy = {
      caCertificates: [testCertPem],
      trustedIdentities: ['x509.subject: C=US, ST=WA, O=Notary, CN=tagguard-expiry'],
      level: 'strict',
    };
    await sleepUntil(new Date(expirySigning.finished.getTime() + 4500));
    const expired = await tagguardVerify(expiring, policy);
    const notationExpired = await notationVerify(home, expiring, policy);
    expect(expired).toMatchObject({ verified: false, reason: 'CertificateExpired' });
    expect(expired.message).toContain('the signature expired at');
    expect(notationExpired.verified, notationExpired.output).toBe(false);

    const permissive = { ...policy, level: 'permissive' as const };
    const logged = await tagguardVerify(expiring, permissive);
    const notationLogged = await notationVerify(home, expiring, permissive);
    expect(logged.verified).toBe(true);
    expect(notationLogged.verified, notationLogged.output).toBe(true);

    // and before its expiry (tagguard's clock is an argument) the same signature verifies
    const early = await tagguardVerify(expiring, policy, expirySigning.started);
    expect(early.verified).toBe(true);
  });
});
