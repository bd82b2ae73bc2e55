#!/usr/bin/env node
// Entry point of the `tagguard` binary: dispatches to a subcommand. Exit codes follow DESIGN §6
// (0 trusted, 1 untrusted, 2 usage or policy error, 3 registry or network error).
import { readFileSync } from 'node:fs';

const USAGE = `Usage: tagguard <command> [options]

Commands:
  run       run the operator (in a cluster or against a kubeconfig)
  resolve   resolve an OCI reference to its digest
  verify    verify an artifact's signatures against a policy
  scan      scan a chart or artifact for dangerous content

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

export const main = (argv: readonly string[]): number => {
  const [command] = argv;
  if (command === undefined || command === '--help' || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  process.stderr.write(`tagguard: unknown or not yet available command "${command}"\n\n${USAGE}`);
  return 2;
};

process.exitCode = main(process.argv.slice(2));
