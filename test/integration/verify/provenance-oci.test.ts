// Helm provenance on OCI charts, end to end through the registry layer: charts packaged and signed by the
// real `helm package --sign` (GnuPG keys), pushed with the real `helm push` (which uploads the `.prov` lying
// beside the archive as a layer) to the real olareg and distribution, judged by tagguard's verifyArtifact,
// and each verdict cross-checked with the real `helm pull --verify --keyring` from the same reference.
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runTagguardCli, writePolicyFile } from '../../env/cli.ts';
import { createGpgHome, gpgTime, type GpgHome } from '../../env/gpg.ts';
import { pushChart, type PushedArtifact } from '../../env/oci.ts';
import type { RegistryEndpoint } from '../../env/registries.ts';
import { runTool, ToolError } from '../../env/run-tool.ts';
import {
  generateCosignKeyPair,
  signCosignBundle,
  signCosignLegacy,
  type CosignKeyPair,
} from '../../env/sign.ts';
import { createToolHome, type ToolHome } from '../../env/tool-home.ts';
import type { VerifySpec } from '../../../src/api/artifact-verification.ts';
import { verifyArtifact } from '../../../src/controller/signature-check.ts';
import { RegistryClient } from '../../../src/registry/client.ts';
import { parseReference } from '../../../src/registry/reference.ts';
import { registrySignatures } from '../../../src/registry/signature-fetch.ts';
import { RegistryTransport } from '../../../src/registry/transport.ts';
import { judgeChartProvenance } from '../../../src/verify/provenance/judge-chart-provenance.ts';
import { ociChartProvenance } from '../../../src/verify/provenance/oci-chart.ts';
import { trustPolicyFromSpec } from '../../../src/verify/trust-policy.ts';
import type { VerificationResult } from '../../../src/verify/types.ts';

const env = inject('testEnv');
const DAY = 24 * 3600 * 1000;
const GOOD = 'Good Signer <good@example.com>';
const OTHER = 'Other Signer <other@example.com>';
const EXPIRED = 'Expired Signer <expired@example.com>';

let dir: string;
let home: ToolHome;
let gpg: GpgHome;
let client: RegistryClient;
let cosignKey: CosignKeyPair;
/** Binary keyrings (gpg --export), as a Secret's value and as helm's --keyring file. */
const keyrings: Record<string, { bytes: Buffer; file: string }> = {};
/** The archive signed by GOOD and its .prov (helm package --sign). */
let archive: string;
let goodProv: string;
/** An archive with other content under the same name and version, unsigned. */
let changedArchive: string;
/** The .prov helm package --sign wrote for version 0.2.0 of the chart. */
let v020Prov: string;

const helm = (args: readonly string[]) => runTool('helm', args, { env: home.env });

const chartYaml = (version: string): string =>
  `apiVersion: v2\nname: payment\nversion: ${version}\ndescription: A payment service\n`;

const writeChart = async (where: string, version: string, configName: string): Promise<string> => {
  const chart = join(where, 'payment');
  await mkdir(join(chart, 'templates'), { recursive: true });
  await writeFile(join(chart, 'Chart.yaml'), chartYaml(version));
  await writeFile(join(chart, 'values.yaml'), 'greeting: hello\n');
  await writeFile(
    join(chart, 'templates', 'configmap.yaml'),
    `kind: ConfigMap\napiVersion: v1\nmetadata: {name: ${configName}}\n`,
  );
  return chart;
};

/** helm package, signed with `key` when given, into its own directory; returns the archive path. */
const packageChart = async (name: string, version: string, configName: string, key?: string) => {
  const out = join(dir, name);
  const chart = await writeChart(join(dir, `${name}-src`), version, configName);
  const sign = key ? ['--sign', '--key', key, '--keyring', join(dir, 'secring.gpg')] : [];
  await helm(['package', chart, '--destination', out, ...sign]);
  return join(out, `payment-${version}.tgz`);
};

/** The text helm signed, read back from its provenance file, with its final line break. */
const signedText = (prov: string): string => {
  const lines = prov.split('\n');
  const start = lines.indexOf('') + 1;
  const end = lines.indexOf('-----BEGIN PGP SIGNATURE-----');
  return `${lines
    .slice(start, end)
    .map((l) => (l.startsWith('- ') ? l.slice(2) : l))
    .join('\n')}\n`;
};

const tlsFlags = (registry: RegistryEndpoint): string[] =>
  registry.plainHttp ? ['--plain-http'] : registry.caFile ? ['--ca-file', registry.caFile] : [];

/** helm push of `archiveFile` as payment-0.1.0.tgz, with `prov` beside it (helm then pushes it too). */
const pushWith = async (
  registry: RegistryEndpoint,
  namespace: string,
  archiveFile: string,
  prov?: string,
): Promise<PushedArtifact> => {
  const stage = await mkdtemp(join(dir, 'push-'));
  const staged = join(stage, 'payment-0.1.0.tgz');
  await copyFile(archiveFile, staged);
  if (prov !== undefined) await writeFile(`${staged}.prov`, prov);
  return pushChart(home, registry, namespace, staged);
};

const policy = (spec: VerifySpec) =>
  trustPolicyFromSpec(spec, {
    keyringSecrets: Object.fromEntries(
      Object.entries(keyrings).map(([name, k]) => [name, { 'pubring.gpg': k.bytes }]),
    ),
  });

const provenanceOnly = (keyring: string): VerifySpec => ({
  provenance: [{ name: 'helm-release', keyring: { secretRef: { name: keyring } } }],
});

const tagguard = async (pushed: PushedArtifact, spec: VerifySpec): Promise<VerificationResult> => {
  const ref = parseReference(`${pushed.repository}:${pushed.tag}`);
  return verifyArtifact(client, { ...ref, digest: pushed.digest }, await policy(spec), {
    now: () => new Date(),
    tag: pushed.tag,
  });
};

/** The real `helm pull --verify --keyring` of the same reference: does helm accept it? */
const helmPullVerifies = async (
  registry: RegistryEndpoint,
  pushed: PushedArtifact,
  keyring: string,
): Promise<{ ok: boolean; output: string; archive?: string }> => {
  const out = await mkdtemp(join(dir, 'pull-'));
  /** sha256 (hex) of the archive helm wrote, when it wrote one. */
  const written = async (): Promise<string | undefined> =>
    readFile(join(out, `payment-${pushed.tag}.tgz`)).then(
      (bytes) => createHash('sha256').update(bytes).digest('hex'),
      () => undefined,
    );
  const args = ['pull', `oci://${pushed.repository}`, '--version', pushed.tag, '--destination', out];
  try {
    const { stdout, stderr } = await helm([
      ...args,
      '--verify',
      '--keyring',
      keyrings[keyring]?.file ?? '',
      ...tlsFlags(registry),
    ]);
    const kept = await written();
    return { ok: true, output: `${stdout}${stderr}`, ...(kept ? { archive: kept } : {}) };
  } catch (error) {
    if (!(error instanceof ToolError)) throw error;
    const kept = await written();
    return { ok: false, output: error.message, ...(kept ? { archive: kept } : {}) };
  }
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tg-prov-oci-'));
  home = await createToolHome(env);
  // Both registries of these tests (referrers, tagSchema) speak plain HTTP.
  client = new RegistryClient(new RegistryTransport({ hostOptions: () => ({ plainHttp: true }) }));
  gpg = await createGpgHome();
  const past = new Date(Date.now() - 10 * DAY);
  await gpg.generateKey(GOOD);
  await gpg.generateKey(OTHER);
  await gpg.generateKey(EXPIRED, { createdAt: past, expire: '1d' });
  await writeFile(join(dir, 'secring.gpg'), await gpg.exportSecret());
  for (const [name, user] of [
    ['good', GOOD],
    ['other', OTHER],
    ['expired', EXPIRED],
  ] as const) {
    const bytes = await gpg.exportPublic(user);
    const file = join(dir, `${name}.gpg`);
    await writeFile(file, bytes);
    keyrings[name] = { bytes, file };
  }
  archive = await packageChart('good', '0.1.0', 'a', 'Good Signer');
  goodProv = await readFile(`${archive}.prov`, 'utf8');
  changedArchive = await packageChart('changed', '0.1.0', 'b');
  v020Prov = await readFile(`${await packageChart('v020', '0.2.0', 'a', 'Good Signer')}.prov`, 'utf8');
  cosignKey = await generateCosignKeyPair(home, 'release');
}, 240_000);

afterAll(async () => {
  await client?.close();
  await gpg?.remove();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const registries = (): [string, RegistryEndpoint][] => [
  ['olareg (referrers API)', env.registries.referrers],
  ['distribution (tag schema)', env.registries.tagSchema],
];

describe.each(registries())('Helm provenance of OCI charts on %s', (_name, registry) => {
  const ns = (what: string) => `prov-${registry.kind}/${what}`;

  it('helm push stores the .prov as a provenance layer; a valid one is Trusted, as for helm pull --verify', async () => {
    const pushed = await pushWith(registry, ns('valid'), archive, goodProv);
    const result = await tagguard(pushed, provenanceOnly('good'));
    expect(result.verdict, JSON.stringify(result.signers)).toBe('Trusted');
    expect(result.signers).toEqual([
      expect.objectContaining({
        name: 'helm-release',
        type: 'provenance',
        format: 'provenance',
        verified: true,
      }),
    ]);
    expect(result.signers[0]?.identity).toMatch(/^[0-9A-F]{40}$/);
    expect((await helmPullVerifies(registry, pushed, 'good')).ok).toBe(true);
  });

  it('a keyring without the signer: Untrusted, UntrustedSigner (ProvenanceUnknownSigner); helm refuses too', async () => {
    const pushed = await pushWith(registry, ns('wrong-key'), archive, goodProv);
    const result = await tagguard(pushed, provenanceOnly('other'));
    expect(result).toMatchObject({ verdict: 'Untrusted', reasons: ['UntrustedSigner'] });
    expect(result.signers[0]?.message).toMatch(/^ProvenanceUnknownSigner:/);
    const helmResult = await helmPullVerifies(registry, pushed, 'other');
    expect(helmResult.ok, helmResult.output).toBe(false);
  });

  it('a chart re-pushed under the same tag with the .prov of another version: Untrusted; helm refuses too', async () => {
    const first = await pushWith(registry, ns('repushed'), archive, goodProv);
    expect((await tagguard(first, provenanceOnly('good'))).verdict).toBe('Trusted');
    const again = await pushWith(registry, ns('repushed'), changedArchive, v020Prov);
    expect(again.digest).not.toBe(first.digest);
    const result = await tagguard(again, provenanceOnly('good'));
    expect(result).toMatchObject({ verdict: 'Untrusted', reasons: ['DigestMismatch'] });
    expect(result.signers[0]?.message).toMatch(
      /^ProvenanceChartMismatch: the provenance is for payment 0\.2\.0/,
    );
    const helmResult = await helmPullVerifies(registry, again, 'good');
    expect(helmResult.ok, helmResult.output).toBe(false);
  });

  it('another archive pushed with the genuine .prov: Untrusted, DigestMismatch; helm refuses too', async () => {
    const pushed = await pushWith(registry, ns('swapped'), changedArchive, goodProv);
    const result = await tagguard(pushed, provenanceOnly('good'));
    expect(result).toMatchObject({ verdict: 'Untrusted', reasons: ['DigestMismatch'] });
    expect(result.signers[0]?.message).toMatch(/^ProvenanceDigestMismatch:/);
    expect((await helmPullVerifies(registry, pushed, 'good')).ok).toBe(false);
  });

  it('a tampered .prov (signed text changed): Untrusted, SignatureInvalid; helm refuses too', async () => {
    const tampered = goodProv.replace('description: A payment service', 'description: A paymemt service');
    expect(tampered).not.toBe(goodProv);
    const pushed = await pushWith(registry, ns('tampered'), archive, tampered);
    const result = await tagguard(pushed, provenanceOnly('good'));
    expect(result).toMatchObject({ verdict: 'Untrusted', reasons: ['SignatureInvalid'] });
    expect(result.signers[0]?.message).toMatch(/^ProvenanceSignatureInvalid:/);
    expect((await helmPullVerifies(registry, pushed, 'good')).ok).toBe(false);
  });

  it('no .prov pushed: Untrusted, SignatureMissing; helm pull --verify fails to find one', async () => {
    const pushed = await pushWith(registry, ns('unsigned'), archive);
    const result = await tagguard(pushed, provenanceOnly('good'));
    expect(result).toMatchObject({ verdict: 'Untrusted', reasons: ['SignatureMissing'] });
    const helmResult = await helmPullVerifies(registry, pushed, 'good');
    expect(helmResult.ok).toBe(false);
    expect(helmResult.output).toMatch(/prov/i);
  });

  it('a .prov layer larger than 64 KiB is not read: Untrusted, SignatureInvalid (ProvenanceTooLarge)', async () => {
    // The genuine file with a long armor header comment: helm reads it whole and ignores the comment.
    const padded = goodProv.replace(
      '-----BEGIN PGP SIGNATURE-----\n',
      `-----BEGIN PGP SIGNATURE-----\nComment: ${'x'.repeat(70 * 1024)}\n`,
    );
    const pushed = await pushWith(registry, ns('oversized'), archive, padded);
    const result = await tagguard(pushed, provenanceOnly('good'));
    expect(result).toMatchObject({ verdict: 'Untrusted', reasons: ['SignatureInvalid'] });
    expect(result.signers[0]?.message).toMatch(/^ProvenanceTooLarge: the provenance has \d+ bytes/);
    const helmResult = await helmPullVerifies(registry, pushed, 'good');
    // helm reads it whole and accepts it (docs/provenance.md: tagguard is the stricter one here).
    expect(helmResult.ok, helmResult.output).toBe(true);
  });

  it('a key that has expired: Untrusted, CertificateExpired (ProvenanceKeyExpired); helm v3 accepts it', async () => {
    const prov = (
      await gpg.run(
        [
          '--digest-algo',
          'SHA512',
          '--clearsign',
          '-u',
          EXPIRED,
          '--faked-system-time',
          gpgTime(new Date(Date.now() - 10 * DAY + 3600_000)),
        ],
        signedText(goodProv),
      )
    ).toString();
    const pushed = await pushWith(registry, ns('expired'), archive, prov);
    const result = await tagguard(pushed, provenanceOnly('expired'));
    expect(result).toMatchObject({ verdict: 'Untrusted', reasons: ['CertificateExpired'] });
    expect(result.signers[0]?.message).toMatch(/^ProvenanceKeyExpired:/);
    // x/crypto checks no key expiry: helm is the lenient one here (docs/provenance.md).
    const helmResult = await helmPullVerifies(registry, pushed, 'expired');
    expect(helmResult.ok, helmResult.output).toBe(true);
  });

  it.each([
    ['two provenance layers (the genuine one and a tampered one)', 'prov'],
    ['two chart layers (the signed archive and another)', 'chart'],
  ])('refuses a manifest crafted with %s: helm keeps whichever its copy lists last', async (_what, twice) => {
    // oras writes the manifest helm push would, with one layer more of the doubled media type.
    const work = await mkdtemp(join(dir, 'crafted-'));
    await copyFile(archive, join(work, 'payment-0.1.0.tgz'));
    await copyFile(changedArchive, join(work, 'other.tgz'));
    await writeFile(join(work, 'payment-0.1.0.tgz.prov'), goodProv);
    await writeFile(join(work, 'tampered.prov'), goodProv.replace('A payment', 'A paymemt'));
    await writeFile(
      join(work, 'config.json'),
      JSON.stringify({ apiVersion: 'v2', name: 'payment', version: '0.1.0' }),
    );
    const CHART = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';
    const PROV = 'application/vnd.cncf.helm.chart.provenance.v1.prov';
    const layers = [
      `payment-0.1.0.tgz:${CHART}`,
      `payment-0.1.0.tgz.prov:${PROV}`,
      twice === 'prov' ? `tampered.prov:${PROV}` : `other.tgz:${CHART}`,
    ];
    const repo = ns(`crafted-${twice}/payment`);
    const { stdout } = await runTool(
      'oras',
      [
        'push',
        `${registry.host}/${repo}:0.1.0`,
        '--config',
        'config.json:application/vnd.cncf.helm.config.v1+json',
        ...layers,
        '--format',
        'json',
        ...tlsFlags(registry),
      ],
      { env: home.env, cwd: work },
    );
    const digest = (JSON.parse(stdout) as { digest: string }).digest;
    const pushed = {
      repository: `${registry.host}/${repo}`,
      tag: '0.1.0',
      digest,
      byDigest: `${registry.host}/${repo}@${digest}`,
    };
    const result = await tagguard(pushed, provenanceOnly('good'));
    expect(result).toMatchObject({ verdict: 'Untrusted', reasons: ['SignatureInvalid'] });
    expect(result.signers[0]?.message).toMatch(
      new RegExp(
        `^ProvenanceMalformed: the chart manifest has 2 ${twice === 'prov' ? 'provenance' : 'chart'} layers`,
      ),
    );
    // What helm does with the same manifest, for docs/provenance.md (its choice is not stable by design).
    const helmRuns = await Promise.all([1, 2, 3].map(() => helmPullVerifies(registry, pushed, 'good')));
    const signed = createHash('sha256')
      .update(await readFile(archive))
      .digest('hex');
    const pulled = helmRuns.map((r) =>
      r.archive === signed ? 'signed' : r.archive === undefined ? 'none' : 'other',
    );
    console.log(
      `${registry.kind} ${twice}×2: helm pull --verify accepted ${helmRuns.filter((r) => r.ok).length}/3, archives kept: ${pulled.join(',')}`,
    );
  });

  it('provenance and cosign with minSignatures 2: Trusted only with both signatures', async () => {
    const pushed = await pushWith(registry, ns('two-signers'), archive, goodProv);
    const spec: VerifySpec = {
      minSignatures: 2,
      cosign: [{ name: 'cosign-release', publicKey: cosignKey.publicKeyPem }],
      ...provenanceOnly('good'),
    };
    const before = await tagguard(pushed, spec);
    expect(before).toMatchObject({ verdict: 'Untrusted' });
    expect(before.reasons).toEqual(expect.arrayContaining(['SignatureMissing', 'ThresholdNotMet']));
    expect(before.signers.map((s) => [s.name, s.verified])).toEqual([
      ['cosign-release', false],
      ['helm-release', true],
    ]);
    await (registry.referrersApi ? signCosignBundle : signCosignLegacy)(home, registry, pushed, cosignKey);
    const after = await tagguard(pushed, spec);
    expect(after.verdict, JSON.stringify(after.signers)).toBe('Trusted');
    expect(after.signers.map((s) => [s.name, s.type, s.verified])).toEqual([
      ['cosign-release', 'cosign', true],
      ['helm-release', 'provenance', true],
    ]);
  });
});

describe('tagguard verify (CLI) with a provenance policy', () => {
  it('takes the keyring Secret from --keyring NAME=FILE or the key inline; exit 0 trusted, 1 untrusted', async () => {
    const registry = env.registries.referrers;
    const pushed = await pushWith(registry, 'prov-cli/charts', archive, goodProv);
    const ref = `${pushed.repository}:${pushed.tag}`;
    const policyFile = await writePolicyFile(dir, provenanceOnly('helm-keys'));
    const cli = (...args: string[]) =>
      runTagguardCli(['verify', ref, '--policy', policyFile, '--insecure', '--output', 'json', ...args], {
        HOME: home.dir,
      });
    const good = await cli('--keyring', `helm-keys=${keyrings.good?.file ?? ''}`);
    expect(good.code, good.stderr).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({
      verdict: 'Trusted',
      signatures: [expect.objectContaining({ name: 'helm-release', type: 'provenance', verified: true })],
    });
    const wrong = await cli('--keyring', `helm-keys=${keyrings.other?.file ?? ''}`);
    expect(wrong.code).toBe(1);
    expect(JSON.parse(wrong.stdout)).toMatchObject({ verdict: 'Untrusted', reasons: ['UntrustedSigner'] });
    // A keyring Secret the command was not given is a policy error (exit 2), as an unresolved secretRef.
    expect((await cli()).code).toBe(2);
    const armored = (await gpg.run(['--armor', '--export', GOOD])).toString();
    const inline = await writePolicyFile(dir, { provenance: [{ name: 'inline', publicKey: armored }] });
    const inlineRun = await runTagguardCli(
      ['verify', ref, '--policy', inline, '--insecure', '--output', 'json'],
      { HOME: home.dir },
    );
    expect(inlineRun.code, inlineRun.stderr).toBe(0);
  });
});

describe('cost of provenance verification per chart', () => {
  const median = (values: number[]): number => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? NaN;
  };

  it('the operator path (fetch + judge) beside helm verify and helm pull --verify on the same chart', async () => {
    const registry = env.registries.referrers;
    const pushed = await pushWith(registry, 'prov-cost/charts', archive, goodProv);
    const trusted = await policy(provenanceOnly('good'));
    const ref = { ...parseReference(`${pushed.repository}:${pushed.tag}`), digest: pushed.digest };
    const N = 20;
    const fetchAndJudge: number[] = [];
    const judgeOnly: number[] = [];
    const chart = await registrySignatures(client, ref).chart();
    for (let i = 0; i < N; i++) {
      let start = performance.now();
      const result = await verifyArtifact(client, ref, trusted, { now: () => new Date(), tag: pushed.tag });
      fetchAndJudge.push(performance.now() - start);
      expect(result.verdict).toBe('Trusted');
      start = performance.now();
      const judged = await judgeChartProvenance(
        ociChartProvenance(chart, ref.repository, pushed.tag),
        trusted.provenance?.[0] ?? expect.unreachable(),
        new Date(),
      );
      judgeOnly.push(performance.now() - start);
      expect(judged.verified).toBe(true);
    }
    const helmVerify: number[] = [];
    const helmPull: number[] = [];
    for (let i = 0; i < 7; i++) {
      let start = performance.now();
      await helm(['verify', archive, '--keyring', keyrings.good?.file ?? '']);
      helmVerify.push(performance.now() - start);
      start = performance.now();
      expect((await helmPullVerifies(registry, pushed, 'good')).ok).toBe(true);
      helmPull.push(performance.now() - start);
    }
    const figures = {
      tagguardFetchAndJudgeMs: median(fetchAndJudge),
      tagguardJudgeMs: median(judgeOnly),
      helmVerifyMs: median(helmVerify),
      helmPullVerifyMs: median(helmPull),
    };
    console.log(`provenance cost per chart (medians): ${JSON.stringify(figures)}`);
    // The judgement alone must stay well under a helm process start on the same files.
    expect(figures.tagguardJudgeMs).toBeLessThan(figures.helmVerifyMs);
  }, 180_000);
});
