// Revocation of real notation signatures by CRL: an openssl CA whose code-signing leaf names a CRL
// distribution point served over HTTP here; the CRL made by `openssl ca`. tagguard (the verifier, and the
// `tagguard verify` CLI) and `notation verify` must agree: not revoked → verified; revoked → refused at
// strict, logged at permissive; CRL unreachable → refused at strict; revocation: skip → not looked at.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { pushArtifact, type PushedArtifact } from '../../env/oci.ts';
import { OpensslCa, type Issued } from '../../env/openssl-ca.ts';
import { serveFile, type FileServer } from '../../env/file-server.ts';
import { runTagguardCli, writePolicyFile, type CliResult } from '../../env/cli.ts';
import { listReferrers, registryGet } from '../../env/registry-http.ts';
import type { RegistryEndpoint } from '../../env/registries.ts';
import {
  addNotationSigningKey,
  configureNotationVerification,
  signNotation,
  verifyWithNotation,
  type NotationVerifyPolicy,
} from '../../env/sign.ts';
import { createToolHome, type ToolHome } from '../../env/tool-home.ts';
import { NOTATION_SIGNATURE_ARTIFACT_TYPE } from '../../../src/registry/media-types.ts';
import { verifyNotation } from '../../../src/verify/notation/notation-verifier.ts';
import type { NotationEnvelope } from '../../../src/verify/types.ts';
import { createRevocationHttp } from '../../../src/registry/revocation-http.ts';
import { RevocationChecker } from '../../../src/verify/notation/revocation/revocation.ts';
import type { RevocationAction } from '../../../src/api/artifact-verification.ts';
import type { SignerResult } from '../../../src/verify/types.ts';

const env = inject('testEnv');
const registry: RegistryEndpoint = env.registries.referrers;

const repoOf = (artifact: PushedArtifact): string =>
  artifact.repository.slice(artifact.repository.indexOf('/') + 1);

describe('notation revocation by CRL', () => {
  let home: ToolHome;
  let dir: string;
  let ca: OpensslCa;
  let caPem: string;
  let leaf: Issued;
  let crl: FileServer;
  let artifact: PushedArtifact;
  let envelopes: NotationEnvelope[];
  let target: { mediaType: string; digest: string; size: number };
  const http = createRevocationHttp({ timeoutMs: 2_000, userAgent: 'tagguard-test' });

  const policy = (level: NotationVerifyPolicy['level']): NotationVerifyPolicy => ({
    caCertificates: [caPem],
    trustedIdentities: ['x509.subject: C=US, ST=WA, O=Acme, CN=revocable'],
    level,
  });

  /** A fresh checker each time: the CRL cache would otherwise keep the CRL until its nextUpdate. */
  const tagguardVerify = (
    level: NotationVerifyPolicy['level'],
    revocation?: RevocationAction,
  ): Promise<SignerResult> =>
    verifyNotation(
      target,
      envelopes,
      {
        name: 'release',
        caCertificates: [caPem],
        tsaCertificates: [],
        trustedIdentities: policy(level).trustedIdentities,
        level,
        ...(revocation ? { revocation } : {}),
      },
      new Date(),
      new RevocationChecker(http),
    );

  /** notation keeps CRLs in its cache until their nextUpdate; each check here starts without one. */
  const notationVerify = async (level: NotationVerifyPolicy['level']) => {
    await rm(join(home.env.XDG_CACHE_HOME ?? '', 'notation', 'crl'), { recursive: true, force: true });
    await configureNotationVerification(home, policy(level));
    return verifyWithNotation(home, registry, artifact);
  };

  const cliVerify = async (): Promise<CliResult> => {
    const file = await writePolicyFile(dir, {
      notation: [
        {
          name: 'release',
          trustStore: { pem: caPem },
          trustedIdentities: policy('strict').trustedIdentities,
        },
      ],
    });
    return runTagguardCli(
      [
        'verify',
        `oci://${artifact.repository}:${artifact.tag}`,
        '--policy',
        file,
        '--insecure',
        '--output',
        'json',
      ],
      { PATH: process.env.PATH ?? '', HOME: home.dir },
    );
  };

  beforeAll(async () => {
    home = await createToolHome(env);
    dir = await mkdtemp(join(tmpdir(), 'tagguard-revocation-'));
    crl = await serveFile('/ca.crl', 'application/pkix-crl');
    ca = await OpensslCa.create(dir, 'revocation-ca');
    caPem = await readFile(ca.ca.certFile, 'utf8');
    leaf = await ca.issue('revocable', { subject: '/C=US/ST=WA/O=Acme/CN=revocable', crlUrls: [crl.url] });
    const leafPem = await readFile(leaf.certFile, 'utf8');
    await addNotationSigningKey(home, 'revocable', leaf.keyFile, `${leafPem}${caPem}`);
    crl.set(await ca.crl());
    artifact = await pushArtifact(
      home,
      registry,
      'notation-revocation/app',
      'v1',
      `revocable ${Math.random()}`,
    );
    await signNotation(home, registry, artifact, 'jws', { key: 'revocable', referrersApi: true });

    const repo = repoOf(artifact);
    const manifest = await registryGet(registry, `/v2/${repo}/manifests/${artifact.digest}`);
    target = {
      mediaType: manifest.contentType.split(';')[0] ?? '',
      digest: artifact.digest,
      size: manifest.body.length,
    };
    const { manifests } = await listReferrers(registry, repo, artifact.digest);
    envelopes = [];
    for (const d of manifests.filter((m) => m.artifactType === NOTATION_SIGNATURE_ARTIFACT_TYPE)) {
      const signature = await registryGet(registry, `/v2/${repo}/manifests/${d.digest}`);
      const [layer] = signature.json<{ layers: { digest: string; mediaType: string }[] }>().layers;
      if (!layer) continue;
      const blob = await registryGet(registry, `/v2/${repo}/blobs/${layer.digest}`);
      envelopes.push({ mediaType: layer.mediaType, bytes: blob.body, signatureManifestDigest: d.digest });
    }
    expect(envelopes).toHaveLength(1);
  });

  afterAll(async () => {
    await http.close();
    await crl.close();
  });

  it('verifies while the certificate is not on the CRL, as notation does', async () => {
    const ours = await tagguardVerify('strict');
    expect(ours, ours.message).toMatchObject({ verified: true });
    expect(ours.message).toContain('not revoked');
    const theirs = await notationVerify('strict');
    expect(theirs.verified, theirs.output).toBe(true);
    const cli = await cliVerify();
    expect(cli.code, cli.stderr).toBe(0);
  });

  it('refuses at strict once the CA revokes the certificate, logs it at permissive, skips it when told', async () => {
    await ca.revoke(leaf, { reason: 'keyCompromise' });
    crl.set(await ca.crl());

    const strict = await tagguardVerify('strict');
    expect(strict).toMatchObject({ verified: false, reason: 'UntrustedSigner' });
    expect(strict.message).toMatch(/revocation: .*revoked/);
    const notationStrict = await notationVerify('strict');
    expect(notationStrict.verified, notationStrict.output).toBe(false);

    const permissive = await tagguardVerify('permissive');
    expect(permissive).toMatchObject({ verified: true });
    expect(permissive.message).toContain('revocation (logged)');
    const notationPermissive = await notationVerify('permissive');
    expect(notationPermissive.verified, notationPermissive.output).toBe(true);

    expect(await tagguardVerify('strict', 'skip')).toMatchObject({ verified: true });
    expect(await tagguardVerify('permissive', 'enforce')).toMatchObject({
      verified: false,
      reason: 'UntrustedSigner',
    });

    const cli = await cliVerify();
    expect(cli.code, cli.stderr).toBe(1);
    const doc = JSON.parse(cli.stdout) as { verdict: string; signatures: { reason?: string }[] };
    expect(doc.verdict).toBe('Untrusted');
    expect(doc.signatures[0]?.reason).toBe('UntrustedSigner');
  });

  it('refuses at strict when the CRL cannot be fetched (status unknown), as notation does', async () => {
    crl.set(undefined); // 503
    const ours = await tagguardVerify('strict');
    expect(ours).toMatchObject({ verified: false, reason: 'UntrustedSigner' });
    expect(ours.message).toContain('unknown revocation status');
    const theirs = await notationVerify('strict');
    expect(theirs.verified, theirs.output).toBe(false);
  });
});
