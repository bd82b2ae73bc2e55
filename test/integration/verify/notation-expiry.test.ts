// Time-based checks with real notation signatures: an openssl CA whose code-signing leaf expires a few
// seconds after signing (notation refuses to sign with an already expired certificate, so the test
// waits for real), a signature made with --expiry, and a signature countersigned by an RFC 3161 TSA
// (openssl ts behind a local HTTP endpoint). tagguard and `notation verify` must agree before and
// after, at strict (enforced) and permissive (only logged).
import { X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { pushArtifact, type PushedArtifact } from '../../env/oci.ts';
import {
  createCA,
  createTimestampAuthority,
  issueCertificate,
  timestampReply,
  type KeyPair,
  type TimestampAuthority,
} from '../../env/pki.ts';
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
import { verifyNotation } from '../../../src/verify/notation/notation-verifier.ts';
import type { NotationEnvelope } from '../../../src/verify/types.ts';
import type { SignerResult } from '../../../src/verify/types.ts';

const env = inject('testEnv');
const registry: RegistryEndpoint = env.registries.referrers;
const LEAF_SUBJECT = '/C=US/ST=WA/L=Seattle/O=Acme/OU=Release/CN=short-lived';
const LEAF_IDENTITY = 'x509.subject: C=US, ST=WA, O=Acme, CN=short-lived';
const CERT_LIFETIME_MS = 15_000;

const repoOf = (artifact: PushedArtifact): string =>
  artifact.repository.slice(artifact.repository.indexOf('/') + 1);

/** An RFC 3161 TSA over HTTP for `notation sign --timestamp-url`; the answers come from `openssl ts`. */
const serveTimestampAuthority = async (
  authority: TimestampAuthority,
): Promise<{ server: Server; url: string }> => {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      timestampReply(authority, Buffer.concat(chunks)).then(
        (reply) => res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(reply),
        (error: unknown) => res.writeHead(500).end(String(error)),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
};

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
  return await verifyNotation(
    target,
    envelopes,
    {
      name: 'release',
      caCertificates: policy.caCertificates,
      tsaCertificates: policy.tsaCertificates ?? [],
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
  let authority: TimestampAuthority;
  let tsaServer: Server | undefined;
  let timestamped: PushedArtifact;

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

    authority = await createTimestampAuthority(home.dir);
    const tsa = await serveTimestampAuthority(authority);
    tsaServer = tsa.server;
    // the timestamp (genTime ± 1 s, whole seconds) must not begin before the CA's notBefore
    await sleepUntil(new Date(signedAt.getTime() + 2500));
    timestamped = await pushArtifact(
      home,
      registry,
      'notation-expiry/timestamped',
      'v1',
      `ts ${Math.random()}`,
    );
    await signNotation(home, registry, timestamped, 'jws', {
      key: 'short-lived',
      referrersApi: true,
      timestamp: { url: tsa.url, rootCertFile: authority.root.certFile },
    });
  });

  afterAll(async () => {
    await new Promise((resolve) => tsaServer?.close(resolve) ?? resolve(undefined));
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

  it('a timestamp countersignature keeps the expired leaf trusted with TSA certificates, as notation with afterCertExpiry', async () => {
    const base: NotationVerifyPolicy = {
      caCertificates: [ca.certPem],
      trustedIdentities: [LEAF_IDENTITY],
      level: 'strict',
    };
    await sleepUntil(new Date(leafNotAfter.getTime() + 1500));

    const withTsa: NotationVerifyPolicy = {
      ...base,
      tsaCertificates: [authority.root.certPem],
      verifyTimestamp: 'afterCertExpiry',
    };
    const trusted = await tagguardVerify(timestamped, withTsa);
    const notationTrusted = await notationVerify(home, timestamped, withTsa);
    expect(trusted.verified, trusted.message).toBe(true);
    expect(trusted.message).toContain('timestamped by');
    expect(notationTrusted.verified, notationTrusted.output).toBe(true);

    // without a TSA trust store the timestamp proves nothing: expired, for both
    const withoutTsa = await tagguardVerify(timestamped, base);
    const notationWithoutTsa = await notationVerify(home, timestamped, base);
    expect(withoutTsa).toMatchObject({ verified: false, reason: 'CertificateExpired' });
    expect(notationWithoutTsa.verified, notationWithoutTsa.output).toBe(false);

    // a TSA store with another root: the countersignature does not chain, for both
    const otherRoot = (await createCA(home.dir, 'not-the-tsa-root', 30)).certPem;
    const wrongTsa: NotationVerifyPolicy = { ...withTsa, tsaCertificates: [otherRoot] };
    const untrusted = await tagguardVerify(timestamped, wrongTsa);
    const notationUntrusted = await notationVerify(home, timestamped, wrongTsa);
    expect(untrusted).toMatchObject({ verified: false, reason: 'CertificateExpired' });
    expect(notationUntrusted.verified, notationUntrusted.output).toBe(false);
  });
});
