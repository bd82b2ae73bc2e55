#!/usr/bin/env node
// Entry point of the `tagguard` binary: dispatches to a subcommand. Exit codes follow
// docs/design.md#command-line (0 trusted, 1 untrusted, 2 usage or policy error, 3 registry or network error).
import { readFileSync } from 'node:fs';
import { readCliEnvironment } from '../config/cli-environment.ts';
import { resolveCommand } from './resolve-command.ts';
import { verifyCommand } from './verify-command.ts';
import { scanCommand } from './scan-command.ts';
import { EXIT } from './exit-codes.ts';
import { BaseError } from '../errors.ts';
import type { CommandIo } from './command-io.ts';

const USAGE = `Usage: tagguard <command> [options]

Commands:
  resolve   resolve an OCI reference to its digest
  run       run the operator
  verify    verify an artifact's signatures against a policy (tagguard verify <ref> --policy <file>;
            a chart of an HTTP(S) Helm repository: tagguard verify --repo <url> <chart> [--version V] --policy <file>)
  scan      scan a chart, chart directory or OCI artifact (tagguard scan <chart.tgz | dir | ref> [--policy <file>];
            a chart of an HTTP(S) Helm repository: tagguard scan --repo <url> <chart> [--version V])

Options:
  --version  print the version
  --help     print this help
`;

const version = (): string => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
};

export const main = async (argv: readonly string[], io: CommandIo): Promise<number> => {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
      io.stderr(USAGE);
      return EXIT.usage;
    case '--help':
    case 'help':
      io.stdout(USAGE);
      return EXIT.ok;
    case '--version':
      io.stdout(`${version()}\n`);
      return EXIT.ok;
    case 'run': {
      // Loaded on demand: the operator's dependencies (Kubernetes client, informers) are not needed by
      // the CI-side commands.
      const { runCommand } = await import('./run-command.ts');
      return runCommand(rest, io);
    }
    case 'resolve':
      return resolveCommand(rest, io);
    case 'verify':
      return verifyCommand(rest, io);
    case 'scan':
      return scanCommand(rest, io);
    default:
      io.stderr(`tagguard: unknown command "${command}"\n\n${USAGE}`);
      return EXIT.usage;
  }
};

/** Standard input up to `maxBytes` (--password-stdin); more is refused rather than read on. */
const readStdin = async (maxBytes: number): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += bytes.length;
    if (size > maxBytes) {
      process.stdin.destroy();
      throw new BaseError('StdinTooLarge', `standard input is larger than ${maxBytes} bytes`);
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
};

const io: CommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  environment: readCliEnvironment(),
  readStdin,
};

main(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // A bug, not an answer: one coded line and a non-zero exit (never "trusted"), no stack trace for
    // attacker bytes to shape. The commands turn every expected failure into their own coded message.
    const code = error instanceof BaseError ? String(error.code) : 'InternalError';
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`tagguard: ${code}: ${message.split('\n')[0]?.slice(0, 2000) ?? ''}\n`);
    process.exitCode = EXIT.usage;
  },
);
