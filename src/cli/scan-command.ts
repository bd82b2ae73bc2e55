// `tagguard scan <chart.tgz | dir | ref> [--policy F] [--output json]`: scans a packaged chart, a chart
// directory, an OCI artifact or (`--repo URL <chart>`) a chart of an HTTP(S) Helm repository with the rules of the policy's spec.scan (failOn, exceptions, sbom, wasm).
// Exit codes (docs/design.md#command-line): 0 nothing at failOn, 1 findings at failOn, 2 usage/policy/bad
// archive, 3 registry.
import { mergeValues } from '../sources/helm-values.ts';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { ScanSpec } from '../api/artifact-verification.ts';
import { RegistryError } from '../registry/errors.ts';
import { formatReference, parseReference, redactUserinfo } from '../registry/reference.ts';
import { assertRegistryTarget, ScanTargetError } from './scan-target.ts';
import { loadChartArchive } from '../scan/archive/chart-archive.ts';
import { loadChartDirectory } from '../scan/archive/chart-directory.ts';
import { ScanError } from '../scan/errors.ts';
import { scanArtifact, scanChartArchive } from '../scan/scan-artifact.ts';
import { scanChartFiles, scanLimits } from '../scan/scan-chart.ts';
import type { ScanOptions, ScanResult } from '../scan/types.ts';
import { killRendersOnExit, LiveRenders } from '../scan/helm/live-renders.ts';
import { loadPolicyFile, parsePolicyYaml, PolicyError, readYamlFile } from './policy-file.ts';
import { createRegistryClient, registryOptionHelp, registryOptions } from './registry-options.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';
import { parseCommandArgs } from './command-args.ts';
import type { CommandIo } from './command-io.ts';
import {
  createHelmRepositoryClient,
  helmRepositoryOptionHelp,
  helmRepositoryOptions,
  parseHelmRepositoryArgs,
  type HelmRepositoryRequest,
} from './helm-repository-options.ts';
import { fetchHelmChart, helmChartErrorExit, helmChartReference } from './helm-chart-target.ts';

export const scanUsage = `Usage: tagguard scan <chart.tgz | dir | ref> [--policy F] [--output json] [options]
       tagguard scan --repo <url> <chart> [--version V] [--policy F] [--output json] [options]

Scans a packaged chart, a chart directory or an OCI artifact (oci://host/repo:tag, host/repo@sha256:…).
A target that is not on disk must name its registry (oci://…, or a host with a dot or port); otherwise it
is a missing file (TargetNotFound, exit 2) and nothing is looked up.
  --policy F          ArtifactVerification manifest; its spec.scan is used (default: failOn high)
  --helm F            helm binary to render with (default: helm on PATH; "none": the raw templates are
                      scanned statically, rendered: false)
  --values F          values file layered over the chart defaults (repeatable, later wins)
  --kube-version V    Kubernetes version helm renders for (e.g. 1.34.0)
  --release-name N    release name to render with (default: the chart name)
  --namespace NS      release namespace to render with (default: default)
  --timeout-ms N      helm template time limit (default 30000)
${Object.entries(registryOptionHelp)
  .map(([name, help]) => `  --${name.padEnd(17)} ${help}`)
  .join('\n')}
  --output json       print one JSON object

Repository options (an HTTP(S) Helm repository, helm pull --repo's flags; --ca-file and the timeouts as above):
${Object.entries(helmRepositoryOptionHelp)
  .map(([name, help]) => `  --${name.padEnd(17)} ${help}`)
  .join('\n')}
`;

const options = {
  ...registryOptions,
  ...helmRepositoryOptions,
  policy: { type: 'string' },
  helm: { type: 'string' },
  values: { type: 'string', multiple: true },
  'kube-version': { type: 'string' },
  'release-name': { type: 'string' },
  namespace: { type: 'string' },
  'timeout-ms': { type: 'string' },
  output: { type: 'string' },
  help: { type: 'boolean', default: false },
} as const;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const readValues = async (files: readonly string[]): Promise<Record<string, unknown>> => {
  let values: Record<string, unknown> = {};
  for (const file of files) {
    const doc = parsePolicyYaml(await readYamlFile(file, 'values file'), `values file ${file}`);
    if (doc !== null && doc !== undefined && !isRecord(doc)) {
      throw new PolicyError('InvalidField', `values file ${file} is not a mapping`);
    }
    values = mergeValues(values, doc ?? {});
  }
  return values;
};

interface Scanned {
  readonly reference: string;
  readonly digest: string | null;
  readonly result: ScanResult;
}

const existsOnDisk = async (path: string): Promise<'file' | 'directory' | undefined> => {
  try {
    const s = await stat(path);
    return s.isDirectory() ? 'directory' : s.isFile() ? 'file' : undefined;
  } catch {
    return undefined;
  }
};

const scanTarget = async (
  target: string,
  spec: ScanSpec,
  scanOptions: ScanOptions,
  values: Parameters<typeof createRegistryClient>[1],
  io: CommandIo,
): Promise<Scanned> => {
  const limits = scanLimits(scanOptions);
  const onDisk = await existsOnDisk(target);
  if (onDisk === 'directory') {
    const chart = await loadChartDirectory(target, limits);
    return { reference: target, digest: null, result: await scanChartFiles(chart, spec, scanOptions) };
  }
  if (onDisk === 'file') {
    const { size } = await stat(target);
    if (size > limits.maxCompressedBytes) {
      throw new ScanError(
        'ArchiveTooLarge',
        `${target}: ${size} bytes is larger than the limit of ${limits.maxCompressedBytes}`,
      );
    }
    const archive = await readFile(target);
    const digest = `sha256:${createHash('sha256').update(archive).digest('hex')}`;
    const chart = await loadChartArchive(archive, limits);
    return { reference: target, digest, result: await scanChartFiles(chart, spec, scanOptions) };
  }
  assertRegistryTarget(target, existsSync);
  const reference = parseReference(target);
  const client = createRegistryClient(reference.registry, values, io.environment);
  try {
    io.stderr(`resolving ${formatReference(reference)}\n`);
    const { digest } = await client.resolve(reference);
    io.stderr(`scanning ${digest}\n`);
    const result = await scanArtifact(
      client,
      { registry: reference.registry, repository: reference.repository, digest },
      spec,
      scanOptions,
    );
    return { reference: formatReference(reference), digest, result };
  } finally {
    await client.close();
  }
};

/** `--repo URL <chart>`: the archive, re-hashed against the index digest, scanned as a local archive is. */
const scanRepositoryChart = async (
  request: HelmRepositoryRequest,
  spec: ScanSpec,
  scanOptions: ScanOptions,
  io: CommandIo,
): Promise<Scanned> => {
  const client = await createHelmRepositoryClient(request, 'scan', io);
  try {
    const target = await fetchHelmChart(client, request, (line) => io.stderr(line));
    io.stderr(`scanning ${target.reference} at ${target.digest}\n`);
    const result = await scanChartArchive(target.archive.bytes, spec, scanOptions);
    return { reference: target.reference, digest: target.digest, result };
  } finally {
    await client.close();
  }
};

const table = (scanned: Scanned): string => {
  const { result } = scanned;
  const rows = result.findings.map((f) => [f.severity, f.rule, f.resource, f.path]);
  const widths = [8, 24, 32].map((min, i) => Math.max(min, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i < widths.length ? c.padEnd(widths[i] ?? 0) : c)).join('  ');
  const lines = rows.length > 0 ? [line(['SEVERITY', 'RULE', 'RESOURCE', 'PATH']), ...rows.map(line)] : [];
  const what = result.chart
    ? `${result.chart.name} ${result.chart.version}`
    : (result.artifactKind ?? 'artifact');
  const extras = [
    result.rendered ? 'rendered with helm' : 'static scan (not rendered)',
    result.suppressed > 0 ? `${result.suppressed} suppressed by exceptions` : '',
    result.sbom
      ? result.sbom.found
        ? `SBOM: ${result.sbom.format}`
        : `SBOM: none (${result.sbom.reason})`
      : '',
    ...(result.wasm?.modules ?? []).map((m) =>
      m.valid
        ? `WASM ${m.digest}: ${m.disallowed.length > 0 ? `disallowed imports ${m.disallowed.join(', ')}` : 'imports allowed'}`
        : `WASM ${m.digest}: ${m.reason}`,
    ),
  ].filter((s) => s !== '');
  const verdict = result.failed ? `FAILED (${result.reasons.join(', ')})` : 'passed';
  return `${[...lines, `${scanned.reference} (${what}): ${result.findings.length} findings, ${verdict}; ${extras.join('; ')}`].join('\n')}\n`;
};

const json = (scanned: Scanned): string => {
  const { result } = scanned;
  return `${JSON.stringify({
    reference: scanned.reference,
    digest: scanned.digest,
    verdict: result.failed ? 'Untrusted' : 'Trusted',
    reasons: result.reasons,
    signatures: [],
    findings: result.findings,
    rendered: result.rendered,
    suppressed: result.suppressed,
    ...(result.artifactKind ? { artifactKind: result.artifactKind } : {}),
    ...(result.chart ? { chart: result.chart } : {}),
    ...(result.sbom ? { sbom: result.sbom } : {}),
    ...(result.wasm ? { wasm: result.wasm } : {}),
  })}\n`;
};

const errorExit = (error: unknown): { exit: ExitCode; code: string } | undefined => {
  if (error instanceof RegistryError) {
    return { exit: error.code === 'InvalidReference' ? EXIT.usage : EXIT.registry, code: error.code };
  }
  if (error instanceof ScanError || error instanceof PolicyError || error instanceof ScanTargetError)
    return { exit: EXIT.usage, code: error.code };
  return helmChartErrorExit(error);
};

export const scanCommand = async (argv: readonly string[], io: CommandIo): Promise<ExitCode> => {
  const parsed = parseCommandArgs('scan', scanUsage, argv, options, io);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const timeoutMs = values['timeout-ms'] === undefined ? undefined : Number(values['timeout-ms']);
  if (
    positionals.length !== 1 ||
    (values.output !== undefined && values.output !== 'json') ||
    (timeoutMs !== undefined && !(Number.isSafeInteger(timeoutMs) && timeoutMs > 0))
  ) {
    io.stderr(
      `tagguard scan: expected exactly one <chart.tgz | dir | ref>, --output json or nothing, a positive --timeout-ms\n\n${scanUsage}`,
    );
    return EXIT.usage;
  }
  const target = positionals[0] ?? '';
  // A SIGTERM/SIGINT during a render kills helm's process group and removes its directory before we die.
  const liveRenders = new LiveRenders();
  const uninstall = killRendersOnExit(liveRenders);
  let shown = redactUserinfo(target);
  try {
    const request = parseHelmRepositoryArgs(values, positionals);
    if (request !== undefined) shown = helmChartReference(request);
    const spec = values.policy !== undefined ? ((await loadPolicyFile(values.policy)).scan ?? {}) : {};
    const scanOptions: ScanOptions = {
      helmBinary: values.helm === 'none' ? undefined : (values.helm ?? io.environment.helmOnPath),
      kubeVersion: values['kube-version'],
      releaseName: values['release-name'],
      namespace: values.namespace,
      timeoutMs,
      values: await readValues(values.values ?? []),
      liveRenders,
    };
    const scanned =
      request !== undefined
        ? await scanRepositoryChart(request, spec, scanOptions, io)
        : await scanTarget(target, spec, scanOptions, values, io);
    io.stdout(values.output === 'json' ? json(scanned) : table(scanned));
    return scanned.result.failed ? EXIT.untrusted : EXIT.ok;
  } catch (error) {
    const known = errorExit(error);
    if (!known) throw error;
    const message = (error as Error).message;
    io.stderr(`tagguard scan: ${known.code}: ${message}\n`);
    if (values.output === 'json') {
      io.stdout(
        `${JSON.stringify({ reference: shown, digest: null, verdict: 'Error', reasons: [known.code], message, signatures: [], findings: [] })}\n`,
      );
    }
    return known.exit;
  } finally {
    uninstall();
  }
};
