// The argument parsing every subcommand shares: node:util parseArgs with positionals, a parse error
// printed with the usage (exit 2), --help printed (exit 0). Commands then check their own positionals.
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { EXIT, type ExitCode } from './exit-codes.ts';
import type { CommandIo } from './command-io.ts';

type Parsed<O extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; allowPositionals: true }>
>;

/** The parsed arguments, or the exit code when the command is already answered (error or --help). */
export const parseCommandArgs = <const O extends ParseArgsOptionsConfig>(
  command: string,
  usage: string,
  argv: readonly string[],
  options: O,
  io: CommandIo,
): Parsed<O> | ExitCode => {
  let parsed: Parsed<O>;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, options });
  } catch (error) {
    io.stderr(`tagguard ${command}: ${(error as Error).message}\n\n${usage}`);
    return EXIT.usage;
  }
  if ((parsed.values as { help?: unknown }).help === true) {
    io.stdout(usage);
    return EXIT.ok;
  }
  return parsed;
};
