// `tagguard resolve <ref> [--output json]`: prints the digest a tag points at now.
import { parseReference, formatReference } from '../registry/reference.ts';
import { RegistryError } from '../registry/errors.ts';
import { createRegistryClient, registryOptionHelp, registryOptions } from './registry-options.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';
import { parseCommandArgs } from './command-args.ts';
import type { CommandIo } from './command-io.ts';

export const resolveUsage = `Usage: tagguard resolve <ref> [--output json] [--insecure] [--docker-config F] [--ca-file F]
                        [--registry-request-timeout 30s] [--registry-operation-timeout 2m]

<ref> is oci://host[:port]/repo:tag, host/repo:tag or …@sha256:<hex> (no credentials in it: use --docker-config).
${Object.entries(registryOptionHelp)
  .map(([name, help]) => `  --${name.padEnd(26)} ${help}`)
  .join('\n')}
  --output json                print one JSON object
`;

export const resolveCommand = async (argv: readonly string[], io: CommandIo): Promise<ExitCode> => {
  const parsed = parseCommandArgs(
    'resolve',
    resolveUsage,
    argv,
    { ...registryOptions, output: { type: 'string' }, help: { type: 'boolean', default: false } },
    io,
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1 || (values.output !== undefined && values.output !== 'json')) {
    io.stderr(`tagguard resolve: expected exactly one <ref> and --output json or nothing\n\n${resolveUsage}`);
    return EXIT.usage;
  }
  let client;
  try {
    const reference = parseReference(positionals[0] ?? '');
    client = createRegistryClient(reference.registry, values, io.environment);
    const resolved = await client.resolve(reference);
    if (values.output === 'json') {
      io.stdout(
        `${JSON.stringify({
          reference: formatReference(reference),
          digest: resolved.digest,
          mediaType: resolved.mediaType,
          size: resolved.size ?? null,
        })}\n`,
      );
    } else {
      io.stdout(`${formatReference(reference)}\t${resolved.digest}\t${resolved.mediaType}\n`);
    }
    return EXIT.ok;
  } catch (error) {
    if (error instanceof RegistryError) {
      io.stderr(`tagguard resolve: ${error.code}: ${error.message}\n`);
      return error.code === 'InvalidReference' ? EXIT.usage : EXIT.registry;
    }
    throw error;
  } finally {
    await client?.close();
  }
};
