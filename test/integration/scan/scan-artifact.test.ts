// scanArtifact and `tagguard scan <ref>` against real registries: charts pushed with helm, SBOMs attached
// with oras (referrers API on olareg, tag schema on distribution), WASM modules pushed with oras.
import { mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { RegistryClient } from '../../../src/registry/client.ts';
import { RegistryTransport } from '../../../src/registry/transport.ts';
import { parseReference } from '../../../src/registry/reference.ts';
import { MAX_WASM_LAYERS, scanArtifact } from '../../../src/scan/scan-artifact.ts';
import { scanCommand } from '../../../src/cli/scan-command.ts';
import { packageChart } from '../../env/charts.ts';
import { pushArtifact, pushChart, type PushedArtifact } from '../../env/oci.ts';
import { toolPath } from '../../env/paths.ts';
import { runTool } from '../../env/run-tool.ts';
import { createToolHome, type ToolHome } from '../../env/tool-home.ts';
import type { RegistryEndpoint } from '../../env/registries.ts';
import { wasmModule } from '../../scan/support/wasm-builder.ts';

const env = inject('testEnv');

const SPDX = JSON.stringify({
  spdxVersion: 'SPDX-2.3',
  dataLicense: 'CC0-1.0',
  SPDXID: 'SPDXRef-DOCUMENT',
  name: 'payment',
  documentNamespace: 'https://example.com/payment',
  creationInfo: { created: '2026-01-01T00:00:00Z', creators: ['Tool: test'] },
  packages: [],
});

const clientFor = (registry: RegistryEndpoint): RegistryClient =>
  new RegistryClient(
    new RegistryTransport({ credentials: new Map(), hostOptions: () => ({ plainHttp: registry.plainHttp }) }),
  );

const refOf = (artifact: PushedArtifact) => parseReference(`${artifact.repository}:${artifact.tag}`);

describe('scanArtifact against real registries', () => {
  let home: ToolHome;
  let helm: string;

  const attach = async (
    registry: RegistryEndpoint,
    subject: PushedArtifact,
    artifactType: string,
    content: string,
  ): Promise<void> => {
    const file = `sbom-${Math.random().toString(36).slice(2, 8)}.json`;
    await writeFile(join(home.dir, file), content);
    await runTool(
      'oras',
      [
        'attach',
        '--artifact-type',
        artifactType,
        subject.byDigest,
        `${file}:${artifactType}`,
        ...(registry.plainHttp ? ['--plain-http'] : []),
      ],
      { env: home.env, cwd: home.dir },
    );
  };

  beforeAll(async () => {
    home = await createToolHome(env);
    helm = toolPath('helm');
  });

  it.each([
    ['olareg (referrers API)', () => env.registries.referrers],
    ['distribution (tag schema)', () => env.registries.tagSchema],
  ])('%s: scans a pushed chart and finds its SPDX SBOM referrer', async (_name, registryOf) => {
    const registry = registryOf();
    const chart = await pushChart(
      home,
      registry,
      'scan',
      await packageChart(home, home.dir, { version: '1.0.0' }),
    );
    await attach(registry, chart, 'application/spdx+json', SPDX);
    const client = clientFor(registry);
    try {
      const result = await scanArtifact(
        client,
        { ...refOf(chart), digest: chart.digest },
        { sbom: { required: true } },
        { helmBinary: helm },
      );
      expect(result).toMatchObject({
        artifactKind: 'helm-chart',
        rendered: true,
        failed: false,
        reasons: [],
      });
      expect(result.chart).toEqual({ name: 'payment', version: '1.0.0' });
      expect(result.sbom).toMatchObject({ found: true, format: 'spdx' });
    } finally {
      await client.close();
    }
  });

  it('fails a poisoned chart without an SBOM on both counts', async () => {
    const registry = env.registries.referrers;
    const chart = await pushChart(
      home,
      registry,
      'scan-bad',
      await packageChart(home, home.dir, { maliciousInitContainer: true }),
    );
    const client = clientFor(registry);
    try {
      const result = await scanArtifact(
        client,
        { ...refOf(chart), digest: chart.digest },
        { sbom: { required: true } },
        { helmBinary: helm },
      );
      expect(result.failed).toBe(true);
      expect(result.reasons).toEqual(['FindingsAtFailOn', 'SbomMissing']);
      expect(result.findings[0]?.rule).toBe('privileged-container');
      expect(result.sbom?.found).toBe(false);
      // Not required: reported, not failing on its own.
      const optional = await scanArtifact(
        client,
        { ...refOf(chart), digest: chart.digest },
        { failOn: 'none', sbom: {} },
        { helmBinary: helm },
      );
      expect(optional).toMatchObject({ failed: false, reasons: [], sbom: { found: false } });
    } finally {
      await client.close();
    }
  });

  it('refuses an SBOM referrer whose document does not parse as its format', async () => {
    const registry = env.registries.referrers;
    const chart = await pushChart(
      home,
      registry,
      'scan-sbom',
      await packageChart(home, home.dir, { version: '2.0.0' }),
    );
    await attach(registry, chart, 'application/vnd.cyclonedx+json', '{"not": "a bom"}');
    const client = clientFor(registry);
    try {
      const result = await scanArtifact(
        client,
        { ...refOf(chart), digest: chart.digest },
        { sbom: { required: true } },
        { helmBinary: helm },
      );
      expect(result.reasons).toEqual(['SbomMissing']);
      expect(result.sbom?.reason).toMatch(/not valid cyclonedx/);
    } finally {
      await client.close();
    }
  });

  it('compiles WASM layers without running them and checks their imports', async () => {
    const registry = env.registries.referrers;
    const pushed = await pushArtifact(
      home,
      registry,
      'scan/plugin',
      'v1',
      wasmModule(['wasi_snapshot_preview1.fd_write', 'env.exec']),
      'application/vnd.wasm.content.layer.v1+wasm',
      'application/vnd.wasm.config.v0+json',
    );
    const client = clientFor(registry);
    try {
      const strict = await scanArtifact(
        client,
        { ...refOf(pushed), digest: pushed.digest },
        { wasm: { allowedImports: ['wasi_snapshot_preview1.*'] } },
        {},
      );
      expect(strict.artifactKind).toBe('wasm');
      expect(strict.reasons).toEqual(['WasmImportNotAllowed']);
      expect(strict.wasm?.modules[0]?.disallowed).toEqual(['env.exec']);
      const lenient = await scanArtifact(
        client,
        { ...refOf(pushed), digest: pushed.digest },
        { wasm: { allowedImports: ['wasi_snapshot_preview1.*', 'env.*'] } },
        {},
      );
      expect(lenient).toMatchObject({ failed: false, reasons: [] });
    } finally {
      await client.close();
    }
  });

  it('refuses a chart manifest with two chart layers (a benign and a poisoned one) that helm pulls without complaint', async () => {
    const registry = env.registries.referrers;
    const work = await mkdtemp(join(tmpdir(), 'tagguard-two-charts-'));
    const benign = await packageChart(home, work, { name: 'payment', version: '1.0.0' });
    const evilDir = await mkdtemp(join(work, 'evil-'));
    const evil = await packageChart(home, evilDir, {
      name: 'payment',
      version: '1.0.0',
      maliciousInitContainer: true,
    });
    await writeFile(
      join(work, 'config.json'),
      JSON.stringify({ apiVersion: 'v2', name: 'payment', version: '1.0.0' }),
    );
    await writeFile(join(work, 'benign.tgz'), await readFile(benign));
    await writeFile(join(work, 'evil.tgz'), await readFile(evil));
    const CHART = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';
    const { stdout } = await runTool(
      'oras',
      [
        'push',
        `${registry.host}/scan/two-charts/payment:1.0.0`,
        '--config',
        'config.json:application/vnd.cncf.helm.config.v1+json',
        `benign.tgz:${CHART}`,
        `evil.tgz:${CHART}`,
        '--format',
        'json',
        '--plain-http',
      ],
      { env: home.env, cwd: work },
    );
    const digest = (JSON.parse(stdout) as { digest: string }).digest;
    // helm pulls it: one of the two archives is what would be installed.
    const pulled = await runTool(
      'helm',
      [
        'pull',
        `oci://${registry.host}/scan/two-charts/payment`,
        '--version',
        '1.0.0',
        '--plain-http',
        '-d',
        evilDir,
      ],
      { env: home.env, cwd: work },
    );
    expect(pulled.stderr).not.toMatch(/Error/);
    const client = clientFor(registry);
    try {
      await expect(
        scanArtifact(
          client,
          { registry: registry.host, repository: 'scan/two-charts/payment', digest },
          {},
          { helmBinary: helm },
        ),
      ).rejects.toThrow(expect.objectContaining({ code: 'AmbiguousArchive' }) as Error);
    } finally {
      await client.close();
    }
  });

  it(`refuses an artifact with more than ${MAX_WASM_LAYERS} WASM layers (pushed by the real oras)`, async () => {
    const registry = env.registries.referrers;
    const dir = await mkdtemp(join(tmpdir(), 'tagguard-wasm-many-'));
    const files: string[] = [];
    for (let i = 0; i <= MAX_WASM_LAYERS; i++) {
      await writeFile(join(dir, `m${i}.wasm`), wasmModule([`env.f${i}`]));
      files.push(`m${i}.wasm:application/vnd.wasm.content.layer.v1+wasm`);
    }
    const { stdout } = await runTool(
      'oras',
      [
        'push',
        `${registry.host}/scan/many-wasm:v1`,
        ...files,
        '--artifact-type',
        'application/vnd.wasm.config.v0+json',
        '--format',
        'json',
        '--plain-http',
      ],
      { env: home.env, cwd: dir },
    );
    const digest = (JSON.parse(stdout) as { digest: string }).digest;
    const client = clientFor(registry);
    try {
      await expect(
        scanArtifact(
          client,
          { registry: registry.host, repository: 'scan/many-wasm', digest },
          { wasm: { allowedImports: ['*'] } },
          {},
        ),
      ).rejects.toMatchObject({ code: 'TooManyEntries' });
    } finally {
      await client.close();
    }
  });

  describe('tagguard scan', () => {
    const run = async (argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await scanCommand(argv, {
        stdout: (t) => out.push(t),
        stderr: (t) => err.push(t),
        environment: { dockerConfigFile: join(home.dir, 'no-such-config.json') },
      });
      return { code, stdout: out.join(''), stderr: err.join('') };
    };

    it('scans a reference: JSON with the digest and findings, exit 1 at failOn, 0 below it', async () => {
      const registry = env.registries.referrers;
      const chart = await pushChart(
        home,
        registry,
        'cli',
        await packageChart(home, home.dir, { maliciousInitContainer: true }),
      );
      const json = await run([
        `oci://${chart.repository}:${chart.tag}`,
        '--insecure',
        '--helm',
        helm,
        '--output',
        'json',
      ]);
      expect(json.code).toBe(1);
      const report = JSON.parse(json.stdout) as Record<string, unknown>;
      expect(report).toMatchObject({
        digest: chart.digest,
        verdict: 'Untrusted',
        reasons: ['FindingsAtFailOn'],
        signatures: [],
        rendered: true,
      });
      expect((report.findings as { rule: string }[])[0]?.rule).toBe('privileged-container');

      const policy = join(home.dir, 'policy.yaml');
      await writeFile(
        policy,
        `apiVersion: tagguard.dev/v1alpha1
kind: ArtifactVerification
metadata: {name: p}
spec:
  scan:
    failOn: critical
    helm:
      exceptions: [{rule: privileged-container, resource: Deployment/payment}]
`,
      );
      const excepted = await run([
        `${chart.repository}:${chart.tag}`,
        '--insecure',
        '--helm',
        helm,
        '--policy',
        policy,
      ]);
      expect(excepted.code).toBe(0);
      expect(excepted.stdout).toMatch(/1 suppressed by exceptions/);
    });

    it('scans a local .tgz and a chart directory; bad archives exit 2, unreachable registries 3', async () => {
      const tgz = await packageChart(home, home.dir, { maliciousInitContainer: true });
      const local = await run([tgz, '--helm', helm, '--output', 'json']);
      expect(local.code).toBe(1);
      expect(JSON.parse(local.stdout)).toMatchObject({
        rendered: true,
        chart: { name: 'payment', version: '3.1.0' },
      });

      const dir = join(home.dir, 'dir-chart', 'agent');
      await mkdir(join(dir, 'templates'), { recursive: true });
      await writeFile(join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: agent\nversion: 0.3.0\n');
      await writeFile(
        join(dir, 'templates', 'pod.yaml'),
        'apiVersion: v1\nkind: Pod\nmetadata: {name: {{ .Release.Name }}}\nspec: {hostPID: true, containers: []}\n',
      );
      const fromDir = await run([dir, '--helm', helm, '--output', 'json']);
      expect(fromDir.code).toBe(1);
      expect(JSON.parse(fromDir.stdout)).toMatchObject({
        findings: [{ rule: 'host-pid', resource: 'Pod/agent' }],
      });
      await symlink('/etc/passwd', join(dir, 'templates', 'link.yaml'));
      const withLink = await run([dir, '--output', 'json']);
      expect(withLink.code).toBe(2);
      expect(JSON.parse(withLink.stdout)).toMatchObject({ reasons: ['UnsupportedEntry'] });

      const notAChart = join(home.dir, 'not-a-chart.tgz');
      await writeFile(notAChart, await readFile(toolPath('helm')).then((b) => b.subarray(0, 4096)));
      const bad = await run([notAChart, '--output', 'json']);
      expect(bad.code).toBe(2);
      expect(JSON.parse(bad.stdout)).toMatchObject({ verdict: 'Error', reasons: ['InvalidArchive'] });

      const unreachable = await run(['127.0.0.1:1/charts/x:1.0.0', '--insecure']);
      expect(unreachable.code).toBe(3);
      expect((await run(['--output', 'yaml', tgz])).code).toBe(2);
    });
  });
});
