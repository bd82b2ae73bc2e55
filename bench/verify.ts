// Benchmark: signature verification of N distinct signed artifacts on a local olareg (referrers API).
// Each artifact carries a cosign v3 bundle and a notation JWS signature. tagguard verifies all N in one
// warm process (concurrent, the registry client's per-registry limit applies) against `cosign verify
// --key` and `notation verify` run on a sample of the same artifacts, side by side. Reports per-artifact
// times, throughput ratios and HTTP requests per verification. No absolute asserts.
import { createRevocationHttp } from '../src/registry/revocation-http.ts';
import { RevocationChecker } from '../src/verify/notation/revocation/revocation.ts';
import { createHash } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ProcessSupervisor } from '../test/env/processes.ts';
import { startOlareg, type RegistryEndpoint } from '../test/env/registries.ts';
import { runTool } from '../test/env/run-tool.ts';
import type { PushedArtifact } from '../test/env/oci.ts';
import {
  configureNotationVerification,
  createNotationTestSigner,
  generateCosignKeyPair,
  signNotation,
  verifyWithCosign,
  verifyWithNotation,
} from '../test/env/sign.ts';
import { RegistryClient } from '../src/registry/client.ts';
import { RegistryTransport } from '../src/registry/transport.ts';
import { parseReference, type DigestReference } from '../src/registry/reference.ts';
import { OCI_EMPTY, OCI_MANIFEST } from '../src/registry/media-types.ts';
import { verifyArtifact } from '../src/controller/signature-check.ts';
import { trustPolicyFromSpec } from '../src/verify/trust-policy.ts';
import type { TrustPolicy } from '../src/verify/types.ts';

const ARTIFACTS = Number(process.argv[2] ?? 200);
const CLI_SAMPLE = Math.min(ARTIFACTS, Number(process.argv[3] ?? 40));

const sha256 = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** Pushes a small distinct OCI artifact over plain HTTP (three requests; oras would take ~100 ms each). */
const pushDistinct = async (registry: RegistryEndpoint, repo: string, i: number): Promise<PushedArtifact> => {
  const base = `http://${registry.host}/v2/${repo}`;
  const putBlob = async (data: Buffer): Promise<{ digest: string; size: number }> => {
    const digest = sha256(data);
    const start = await fetch(`${base}/blobs/uploads/`, { method: 'POST' });
    const url = new URL(start.headers.get('location') ?? '', `http://${registry.host}`);
    url.searchParams.set('digest', digest);
    const res = await fetch(url, { method: 'PUT', body: data });
    if (res.status !== 201) throw new Error(`blob upload: ${res.status}`);
    return { digest, size: data.length };
  };
  const config = await putBlob(Buffer.from('{}'));
  const layer = await putBlob(Buffer.from(`artifact ${i} ${Math.random()}`));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: 'application/vnd.tagguard.bench.v1',
      config: { mediaType: OCI_EMPTY, ...config },
      layers: [{ mediaType: 'application/vnd.tagguard.bench.layer.v1', ...layer }],
    }),
  );
  const tag = `a${i}`;
  const res = await fetch(`${base}/manifests/${tag}`, {
    method: 'PUT',
    body: manifest,
    headers: { 'content-type': OCI_MANIFEST },
  });
  if (res.status !== 201) throw new Error(`manifest push: ${res.status}`);
  const digest = sha256(manifest);
  const repository = `${registry.host}/${repo}`;
  return { repository, tag, digest, byDigest: `${repository}@${digest}` };
};

/** Runs `task` over `items` with at most `limit` in flight. */
const pool = async <T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> => {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await task(items[next++] as T);
    }),
  );
};

const dir = await mkdtemp(join(tmpdir(), 'tagguard-bench-verify-'));
const supervisor = new ProcessSupervisor(dir);
try {
  const registry = await startOlareg(supervisor, dir, { name: 'olareg-bench' });
  const home = {
    dir,
    env: {
      HOME: dir,
      XDG_CONFIG_HOME: join(dir, '.config'),
      XDG_CACHE_HOME: join(dir, '.cache'),
      TUF_ROOT: join(dir, '.sigstore'),
      DOCKER_CONFIG: join(dir, '.docker'),
    },
  };
  process.stderr.write(`pushing and signing ${ARTIFACTS} artifacts (cosign v3 bundle + notation JWS)…\n`);
  const artifacts: PushedArtifact[] = [];
  for (let i = 0; i < ARTIFACTS; i++) artifacts.push(await pushDistinct(registry, 'bench/signed', i));
  const key = await generateCosignKeyPair(home, 'bench');
  const { certPem } = await createNotationTestSigner(home, 'tagguard-bench');
  for (let i = 0; i < artifacts.length; i += 50) {
    await runTool(
      'cosign',
      [
        'sign',
        '--key',
        key.privateKeyFile,
        '--use-signing-config=false',
        '--tlog-upload=false',
        '--yes',
        '--allow-http-registry',
        ...artifacts.slice(i, i + 50).map((a) => a.byDigest),
      ],
      { env: { ...home.env, COSIGN_PASSWORD: key.password }, timeoutMs: 600_000 },
    );
  }
  await pool(artifacts, 2, (a) => signNotation(home, registry, a, 'jws'));
  await configureNotationVerification(home, {
    caCertificates: [certPem],
    trustedIdentities: ['*'],
    level: 'strict',
  });

  let requests = 0;
  let requestMs = 0;
  const client = new RegistryClient(
    new RegistryTransport({
      hostOptions: () => ({ plainHttp: true }),
      onRequest: (event) => {
        requests++;
        requestMs += event.durationMs;
      },
    }),
  );
  const cosignPolicy = await trustPolicyFromSpec(
    { cosign: [{ name: 'bench', publicKey: key.publicKeyPem }] },
    {},
  );
  const notationPolicy = await trustPolicyFromSpec(
    { notation: [{ name: 'bench', trustStore: { pem: certPem }, trustedIdentities: ['*'] }] },
    {},
  );
  const ref = parseReference(`${registry.host}/bench/signed:a0`);
  const at = (digest: string): DigestReference => ({
    registry: ref.registry,
    repository: ref.repository,
    digest,
  });

  // Revocation is looked at as notation does (the test certificates name no OCSP/CRL location).
  const revocationHttp = createRevocationHttp({ timeoutMs: 5_000, userAgent: 'tagguard-bench' });
  const options = { now: () => new Date(), revocation: new RevocationChecker(revocationHttp) };
  const tagguardRun = async (
    policy: TrustPolicy,
  ): Promise<{ msPerArtifact: number; requests: number; msPerRequest: number }> => {
    // Warm: connection pool, JIT, the policy's parsed keys.
    await verifyArtifact(client, at((artifacts[0] as PushedArtifact).digest), policy, options);
    requests = 0;
    requestMs = 0;
    const start = performance.now();
    const results = await Promise.all(
      artifacts.map((a) => verifyArtifact(client, at(a.digest), policy, options)),
    );
    const ms = performance.now() - start;
    const failed = results.filter((r) => r.verdict !== 'Trusted');
    if (failed.length > 0)
      throw new Error(`tagguard did not trust ${failed.length} artifacts: ${JSON.stringify(failed[0])}`);
    return {
      msPerArtifact: ms / ARTIFACTS,
      requests: requests / ARTIFACTS,
      msPerRequest: requestMs / requests,
    };
  };

  const cliRun = async (
    verify: (a: PushedArtifact) => Promise<{ verified: boolean; output: string }>,
  ): Promise<number> => {
    const sample = artifacts.slice(0, CLI_SAMPLE);
    const start = performance.now();
    for (const a of sample) {
      const result = await verify(a);
      if (!result.verified) throw new Error(`CLI did not verify ${a.byDigest}: ${result.output}`);
    }
    return (performance.now() - start) / CLI_SAMPLE;
  };

  const tagguardCosign = await tagguardRun(cosignPolicy);
  const tagguardNotation = await tagguardRun(notationPolicy);
  await client.close();
  await revocationHttp.close();
  const cosignMs = await cliRun((a) =>
    verifyWithCosign('cosign', home, registry, a.byDigest, [
      '--key',
      key.publicKeyFile,
      '--insecure-ignore-tlog=true',
    ]),
  );
  const notationMs = await cliRun((a) => verifyWithNotation(home, registry, a));

  const round = (n: number, digits = 2): number => Number(n.toFixed(digits));
  const result = {
    benchmark: 'verify',
    artifacts: ARTIFACTS,
    cliSample: CLI_SAMPLE,
    cosign: {
      tagguardMsPerArtifact: round(tagguardCosign.msPerArtifact),
      cliMsPerArtifact: round(cosignMs),
      ratio: round(cosignMs / tagguardCosign.msPerArtifact, 1),
      requestsPerVerification: round(tagguardCosign.requests),
      registryMsPerRequest: round(tagguardCosign.msPerRequest),
    },
    notation: {
      tagguardMsPerArtifact: round(tagguardNotation.msPerArtifact),
      cliMsPerArtifact: round(notationMs),
      ratio: round(notationMs / tagguardNotation.msPerArtifact, 1),
      requestsPerVerification: round(tagguardNotation.requests),
      registryMsPerRequest: round(tagguardNotation.msPerRequest),
    },
  };
  process.stdout.write(
    `verify (cosign bundle, --key): tagguard ${result.cosign.tagguardMsPerArtifact} ms/artifact over ${ARTIFACTS}, ` +
      `cosign verify ${result.cosign.cliMsPerArtifact} ms/artifact over ${CLI_SAMPLE}; tagguard is ${result.cosign.ratio}x faster; ` +
      `${result.cosign.requestsPerVerification} requests per verification\n` +
      `verify (notation JWS): tagguard ${result.notation.tagguardMsPerArtifact} ms/artifact over ${ARTIFACTS}, ` +
      `notation verify ${result.notation.cliMsPerArtifact} ms/artifact over ${CLI_SAMPLE}; tagguard is ${result.notation.ratio}x faster; ` +
      `${result.notation.requestsPerVerification} requests per verification\n`,
  );
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await supervisor.stopAll();
}
