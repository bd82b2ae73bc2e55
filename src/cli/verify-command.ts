// `tagguard verify <ref> --policy <file> [--output json]`: resolves the reference once, verifies that
// digest's signatures against the policy's spec.verify and prints the verdict; `--repo URL <chart>` does the
// same for a chart of an HTTP(S) Helm repository (its .prov judged on the bytes fetched). Exit codes
// (docs/design.md#command-line): 0 trusted, 1 untrusted, 2 usage or policy error, 3 registry or network
// error.
import { createRevocationHttp } from '../registry/revocation-http.ts';
import { RevocationChecker } from '../verify/notation/revocation/revocation.ts';
import { readFileSync } from 'node:fs';
import { formatReference, parseReference, type OciReference } from '../registry/reference.ts';
import { RegistryError } from '../registry/errors.ts';
import { verifyArtifact, verifyHelmChart } from '../controller/signature-check.ts';
import { trustPolicyFromSpec, TRUSTED_ROOT_KEY } from '../verify/trust-policy.ts';
import { TrustPolicyError } from '../verify/errors.ts';
import type { TrustPolicy, VerificationResult } from '../verify/types.ts';
import { loadPolicyFile, PolicyError } from './policy-file.ts';
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

export const verifyUsage = `Usage: tagguard verify <ref> --policy <file> [--output json] [--trusted-root NAME=FILE] [--keyring NAME=FILE] [registry options]
       tagguard verify --repo <url> <chart> [--version V] --policy <file> [--output json] [--keyring NAME=FILE] [repository options]

Verifies the signatures of <ref> (resolved to its digest once) against spec.verify of an
ArtifactVerification manifest. Inline publicKey and trustStore.pem are used; secretRefs are not resolved
outside a cluster. Exit codes: 0 trusted, 1 untrusted, 2 usage or policy error, 3 registry error.

  --policy F        the ArtifactVerification manifest (YAML)
  --trusted-root N=F  use file F as the ${TRUSTED_ROOT_KEY} of the ConfigMap N named by trustedRoot.configMapRef
  --keyring N=F     use file F (OpenPGP public keys, armored or binary, e.g. helm's --keyring) as the Secret N
                    named by provenance[].keyring.secretRef
${Object.entries(registryOptionHelp)
  .map(([name, help]) => `  --${name.padEnd(15)} ${help}`)
  .join('\n')}
  --output json     print one JSON object

Repository options (an HTTP(S) Helm repository, helm pull --repo's flags; --ca-file and the timeouts as above):
${Object.entries(helmRepositoryOptionHelp)
  .map(([name, help]) => `  --${name.padEnd(15)} ${help}`)
  .join('\n')}
`;

type Failure = { exit: ExitCode; message: string };

/** Keyring files larger than this are not read whole (the keyring reader refuses above 1 MiB anyway). */
const MAX_KEYRING_FILE_BYTES = 1024 * 1024 + 1;

/** `NAME=FILE` entries of `option` → name → the file's bytes (at most `cap`). */
const namedFiles = (entries: readonly string[], option: string, cap = Infinity): Map<string, Buffer> => {
  const files = new Map<string, Buffer>();
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new PolicyError('InvalidField', `expected NAME=FILE, got "${entry}"`, option);
    const file = entry.slice(eq + 1);
    try {
      const bytes = readFileSync(file);
      files.set(entry.slice(0, eq), bytes.length > cap ? bytes.subarray(0, cap) : bytes);
    } catch (cause) {
      throw new PolicyError('Unreadable', `cannot read ${file}`, option, { cause });
    }
  }
  return files;
};

const policyFrom = async (
  policyFile: string,
  trustedRoots: readonly string[],
  keyrings: readonly string[],
): Promise<TrustPolicy> => {
  const spec = await loadPolicyFile(policyFile);
  if (spec.verify === undefined)
    throw new PolicyError('InvalidField', 'is required for tagguard verify', 'spec.verify');
  const configMaps: Record<string, Record<string, string>> = {};
  for (const [name, bytes] of namedFiles(trustedRoots, '--trusted-root'))
    configMaps[name] = { [TRUSTED_ROOT_KEY]: bytes.toString('utf8') };
  const keyringSecrets: Record<string, Record<string, Uint8Array>> = {};
  for (const [name, bytes] of namedFiles(keyrings, '--keyring', MAX_KEYRING_FILE_BYTES))
    keyringSecrets[name] = { keyring: bytes };
  return trustPolicyFromSpec(spec.verify, { configMaps, keyringSecrets });
};

const jsonReport = (
  reference: string,
  digest: string | null,
  result: VerificationResult | undefined,
): string =>
  `${JSON.stringify({
    reference,
    digest,
    verdict: result?.verdict ?? 'Error',
    reasons: result?.reasons ?? ['RegistryError'],
    signatures: (result?.signers ?? []).map((s) => ({
      name: s.name,
      type: s.type,
      format: s.format ?? null,
      identity: s.identity ?? null,
      verified: s.verified,
      reason: s.reason ?? null,
    })),
    findings: [],
  })}\n`;

const tableReport = (reference: string, result: VerificationResult): string => {
  const rows = result.signers.map((s) =>
    [
      s.name,
      s.type,
      s.format ?? '-',
      s.verified ? 'yes' : 'no',
      s.reason ?? '-',
      s.identity ?? '-',
      s.message,
    ].join('\t'),
  );
  const reasons = result.reasons.length > 0 ? ` (${result.reasons.join(', ')})` : '';
  return [
    `${reference}@${result.digest}: ${result.verdict}${reasons}`,
    ['SIGNER', 'TYPE', 'FORMAT', 'VERIFIED', 'REASON', 'IDENTITY', 'DETAIL'].join('\t'),
    ...rows,
    '',
  ].join('\n');
};

const errorReport = (reference: string, code: string): string =>
  `${JSON.stringify({ reference, digest: null, verdict: 'Error', reasons: [code], signatures: [], findings: [] })}\n`;

/**
 * `--repo URL <chart>`: the archive is always fetched and re-hashed against the index digest (bytes the
 * index does not name are an error, whatever the policy); the .prov beside it only for provenance entries.
 */
const verifyRepositoryChart = async (
  request: HelmRepositoryRequest,
  policy: TrustPolicy,
  json: boolean,
  io: CommandIo,
): Promise<ExitCode> => {
  const client = await createHelmRepositoryClient(request, 'verify', io);
  let shown = helmChartReference(request);
  try {
    const target = await fetchHelmChart(client, request, (line) => io.stderr(line));
    shown = target.reference;
    io.stderr(`verifying ${shown} at ${target.digest}\n`);
    const { entry } = target;
    const result = await verifyHelmChart(
      async () => {
        const provenance = await client.fetchProvenance(entry);
        return {
          name: entry.name,
          version: entry.version,
          archiveSha256: target.archive.digest,
          provenance: provenance.found ? new Uint8Array(provenance.bytes) : undefined,
        };
      },
      { repository: shown, digest: target.digest },
      policy,
      { now: () => new Date(), tag: entry.version },
    );
    io.stdout(json ? jsonReport(shown, target.digest, result) : tableReport(shown, result));
    return exitFor(result);
  } catch (error) {
    const known = helmChartErrorExit(error);
    if (!known) throw error;
    io.stderr(`tagguard verify: ${known.code}: ${(error as Error).message}\n`);
    if (json && known.exit === EXIT.registry) io.stdout(errorReport(shown, known.code));
    return known.exit;
  } finally {
    await client.close();
  }
};

const exitFor = (result: VerificationResult): ExitCode =>
  result.verdict === 'Trusted' ? EXIT.ok : result.verdict === 'Untrusted' ? EXIT.untrusted : EXIT.registry;

export const verifyCommand = async (argv: readonly string[], io: CommandIo): Promise<ExitCode> => {
  const parsed = parseCommandArgs(
    'verify',
    verifyUsage,
    argv,
    {
      ...registryOptions,
      ...helmRepositoryOptions,
      policy: { type: 'string' },
      'trusted-root': { type: 'string', multiple: true },
      keyring: { type: 'string', multiple: true },
      output: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    io,
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (
    positionals.length !== 1 ||
    values.policy === undefined ||
    (values.output !== undefined && values.output !== 'json')
  ) {
    io.stderr(
      `tagguard verify: expected exactly one <ref>, --policy <file>, and --output json or nothing\n\n${verifyUsage}`,
    );
    return EXIT.usage;
  }
  const json = values.output === 'json';
  const fail = ({ exit, message }: Failure, reference = positionals[0] ?? ''): ExitCode => {
    io.stderr(`tagguard verify: ${message}\n`);
    if (json && exit === EXIT.registry) io.stdout(jsonReport(reference, null, undefined));
    return exit;
  };

  let policy: TrustPolicy;
  let reference: OciReference;
  let repositoryChart: HelmRepositoryRequest | undefined;
  try {
    repositoryChart = parseHelmRepositoryArgs(values, positionals);
    policy = await policyFrom(values.policy, values['trusted-root'] ?? [], values.keyring ?? []);
    if (repositoryChart !== undefined) return await verifyRepositoryChart(repositoryChart, policy, json, io);
    reference = parseReference(positionals[0] ?? '');
  } catch (error) {
    if (error instanceof PolicyError || error instanceof TrustPolicyError || error instanceof RegistryError)
      return fail({ exit: EXIT.usage, message: `${error.code}: ${error.message}` });
    const known = helmChartErrorExit(error);
    if (known) return fail({ exit: known.exit, message: `${known.code}: ${(error as Error).message}` });
    throw error;
  }
  const shown = formatReference(reference);
  let client;
  const revocationHttp = createRevocationHttp({ timeoutMs: 5_000, userAgent: 'tagguard' });
  try {
    client = createRegistryClient(reference.registry, values, io.environment);
    const resolved = await client.resolve(reference);
    io.stderr(`verifying ${shown} at ${resolved.digest}\n`);
    const at = { registry: reference.registry, repository: reference.repository, digest: resolved.digest };
    const result = await verifyArtifact(client, at, policy, {
      now: () => new Date(),
      tag: reference.tag,
      revocation: new RevocationChecker(revocationHttp),
    });
    io.stdout(json ? jsonReport(shown, resolved.digest, result) : tableReport(shown, result));
    return exitFor(result);
  } catch (error) {
    if (error instanceof RegistryError)
      return fail(
        {
          exit: error.code === 'InvalidReference' ? EXIT.usage : EXIT.registry,
          message: `${error.code}: ${error.message}`,
        },
        shown,
      );
    if (error instanceof TrustPolicyError)
      return fail({ exit: EXIT.usage, message: `${error.code}: ${error.message}` });
    throw error;
  } finally {
    await client?.close();
    await revocationHttp.close();
  }
};
