// The options of `tagguard verify|scan --repo URL CHART`, spelled as `helm pull --repo` spells them
// (--version, --devel, --username/--password, --ca-file, --cert-file/--key-file, --pass-credentials) plus
// --password-stdin: their checks, and the HelmRepositoryClient they configure. Never echoes a credential.
import { readFileSync } from 'node:fs';
import {
  HelmRepositoryClient,
  type HelmRepositoryOptions,
} from '../registry/helm-repository/helm-repository-client.ts';
import { parseRepositoryUrl } from '../registry/helm-repository/repository-url.ts';
import { parseDuration } from '../config/duration.ts';
import { BaseError } from '../errors.ts';
import type { CommandIo } from './command-io.ts';

/** node:util parseArgs declarations, spread into verify's and scan's options (--ca-file is the registry one). */
export const helmRepositoryOptions = {
  repo: { type: 'string' },
  version: { type: 'string' },
  devel: { type: 'boolean', default: false },
  username: { type: 'string' },
  password: { type: 'string' },
  'password-stdin': { type: 'boolean', default: false },
  'cert-file': { type: 'string' },
  'key-file': { type: 'string' },
  'pass-credentials': { type: 'boolean', default: false },
} as const;

export const helmRepositoryOptionHelp: Record<keyof typeof helmRepositoryOptions, string> = {
  repo: 'HTTP(S) Helm repository URL; the positional argument is then a chart name (as helm pull --repo)',
  version: "chart version or constraint, helm's rule (default: the newest stable version)",
  devel: 'with no --version: prereleases too (helm\'s ">0.0.0-0")',
  username: "repository username (basic auth, only to the repository's own scheme, host and port)",
  password: 'repository password (visible to other users in ps and shell history: prefer --password-stdin)',
  'password-stdin': 'read the repository password from standard input',
  'cert-file': 'PEM TLS client certificate for the repository (with --key-file)',
  'key-file': 'PEM key of the TLS client certificate',
  'pass-credentials': "send the credentials to every host the index or a redirect leads to (helm's flag)",
};

export interface HelmRepositoryOptionValues {
  repo?: string | undefined;
  version?: string | undefined;
  devel?: boolean | undefined;
  username?: string | undefined;
  password?: string | undefined;
  'password-stdin'?: boolean | undefined;
  'cert-file'?: string | undefined;
  'key-file'?: string | undefined;
  'pass-credentials'?: boolean | undefined;
  'ca-file'?: string | undefined;
  insecure?: boolean | undefined;
  'docker-config'?: string | undefined;
  'registry-request-timeout'?: string | undefined;
  'registry-operation-timeout'?: string | undefined;
}

/** What the options ask for, checked; no file read and nothing fetched yet. */
export interface HelmRepositoryRequest {
  readonly repositoryUrl: string;
  readonly chart: string;
  /** helm's --version ("" = newest stable; --devel without --version: ">0.0.0-0"). */
  readonly version: string;
  readonly username: string | undefined;
  /** Where the password comes from (never the password itself, which is read later). */
  readonly password:
    { readonly from: 'flag'; readonly value: string } | { readonly from: 'stdin' } | undefined;
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
  readonly caFile: string | undefined;
  readonly passCredentials: boolean;
  readonly requestTimeoutMs: number;
  readonly operationTimeoutMs: number;
}

const HELM_ONLY = [
  'version',
  'devel',
  'username',
  'password',
  'password-stdin',
  'cert-file',
  'key-file',
  'pass-credentials',
] as const;

/** A password from stdin longer than this is refused (a password, not a file). */
export const MAX_STDIN_PASSWORD_BYTES = 64 * 1024;
const MAX_PEM_FILE_BYTES = 1024 * 1024;

/** Arguments that do not go together, or input the command cannot read: exit 2. */
export class ArgumentError extends BaseError<'InvalidArguments' | 'Unreadable'> {}

const usage = (message: string): never => {
  throw new ArgumentError('InvalidArguments', message);
};

const duration = (flag: string, value: string | undefined, fallback: number): number => {
  if (value === undefined) return fallback;
  const ms = parseDuration(value);
  if (ms === undefined || ms < 1 || ms > 3_600_000)
    usage(`--${flag} "${value}" must be a duration from 1ms to 1h, e.g. 30s or 2m`);
  return ms as number;
};

/**
 * The request of `values` and `positionals`, or undefined without --repo (the OCI form; then none of the
 * repository-only flags may be given). Throws ArgumentError (a usage error, exit 2).
 */
export const parseHelmRepositoryArgs = (
  values: HelmRepositoryOptionValues,
  positionals: readonly string[],
): HelmRepositoryRequest | undefined => {
  if (values.repo === undefined) {
    const stray = HELM_ONLY.filter((flag) => values[flag] !== undefined && values[flag] !== false);
    if (stray.length > 0) usage(`--${stray.join(', --')} only go with --repo <url>`);
    return undefined;
  }
  if (positionals.length !== 1 || (positionals[0] ?? '') === '')
    usage('with --repo, expected exactly one <chart> name');
  const chart = positionals[0] as string;
  // Refused here, before any file or stdin is read, as helm's repo.ResolveReferenceURL would read it.
  parseRepositoryUrl(values.repo);
  // The chart is a key of the index, not a path or a reference: anything that could name another place is a
  // typo of the OCI form (oci://…) or a path, refused before any request.
  if (chart.length > 250 || /[/\\\s?#:@]/.test(chart) || chart === '.' || chart === '..')
    usage(`with --repo, <chart> must be a chart name of the repository's index, not "${chart.slice(0, 80)}"`);
  if (values.insecure === true)
    usage("--insecure is for OCI registries; with --repo the URL's scheme (http:// or https://) says it");
  if (values['docker-config'] !== undefined)
    usage('--docker-config is for OCI registries; helm reads no Docker config for an HTTP repository');
  const stdin = values['password-stdin'] === true;
  if (stdin && values.password !== undefined) usage('--password and --password-stdin exclude each other');
  if ((stdin || values.password !== undefined) && (values.username ?? '') === '')
    usage('--password and --password-stdin need --username');
  if (values.username !== undefined && !stdin && values.password === undefined)
    usage('--username needs --password or --password-stdin');
  if ((values['cert-file'] === undefined) !== (values['key-file'] === undefined))
    usage('--cert-file and --key-file go together');
  const requestTimeoutMs = duration('registry-request-timeout', values['registry-request-timeout'], 30_000);
  const operationTimeoutMs = duration(
    'registry-operation-timeout',
    values['registry-operation-timeout'],
    120_000,
  );
  const version = values.version ?? (values.devel === true ? '>0.0.0-0' : '');
  return {
    repositoryUrl: values.repo,
    chart,
    version,
    username: values.username,
    password: stdin
      ? { from: 'stdin' }
      : values.password !== undefined
        ? { from: 'flag', value: values.password }
        : undefined,
    certFile: values['cert-file'],
    keyFile: values['key-file'],
    caFile: values['ca-file'],
    passCredentials: values['pass-credentials'] === true,
    requestTimeoutMs,
    operationTimeoutMs,
  };
};

/** helm repo add --password-stdin: all of stdin, one trailing "\n" then one "\r" removed. */
export const passwordFromStdin = (bytes: Buffer): string => {
  const text = bytes.toString('utf8');
  const noLf = text.endsWith('\n') ? text.slice(0, -1) : text;
  return noLf.endsWith('\r') ? noLf.slice(0, -1) : noLf;
};

const readPem = (path: string, what: string): string => {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (cause) {
    throw new ArgumentError('Unreadable', `cannot read ${what} ${path}`, { cause });
  }
  if (bytes.length > MAX_PEM_FILE_BYTES)
    throw new ArgumentError('InvalidArguments', `${what} ${path} is larger than ${MAX_PEM_FILE_BYTES} bytes`);
  return bytes.toString('utf8');
};

/**
 * The client for the request: reads the PEM files and the password (stdin when asked), and warns on stderr
 * about a password given as a flag. Throws ArgumentError (usage) for unreadable input.
 */
export const createHelmRepositoryClient = async (
  request: HelmRepositoryRequest,
  command: string,
  io: CommandIo,
): Promise<HelmRepositoryClient> => {
  let password: string | undefined;
  if (request.password?.from === 'flag') {
    io.stderr(
      `tagguard ${command}: warning: --password is visible to other users of this machine (ps, shell history); prefer --password-stdin\n`,
    );
    password = request.password.value;
  } else if (request.password?.from === 'stdin') {
    const read = io.readStdin ?? usage('--password-stdin: no standard input');
    let bytes: Buffer;
    try {
      bytes = await read(MAX_STDIN_PASSWORD_BYTES);
    } catch (cause) {
      throw new ArgumentError('Unreadable', `--password-stdin: ${(cause as Error).message}`, { cause });
    }
    password = passwordFromStdin(bytes);
    if (password === '') usage('--password-stdin: standard input held no password');
  }
  const options: HelmRepositoryOptions = {
    credentials: {
      ...(request.username !== undefined ? { username: request.username } : {}),
      ...(password !== undefined ? { password } : {}),
      ...(request.certFile !== undefined ? { certPem: readPem(request.certFile, 'certificate file') } : {}),
      ...(request.keyFile !== undefined ? { keyPem: readPem(request.keyFile, 'key file') } : {}),
    },
    ...(request.caFile !== undefined ? { caPem: readPem(request.caFile, 'CA file') } : {}),
    passCredentials: request.passCredentials,
    timeoutMs: Math.min(30_000, request.requestTimeoutMs),
    requestTimeoutMs: request.requestTimeoutMs,
  };
  return new HelmRepositoryClient(request.repositoryUrl, options);
};
