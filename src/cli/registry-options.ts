// The registry options shared by resolve, verify and scan (--insecure, --docker-config, --ca-file, the
// request and operation deadlines), declared once with their help text, and the client they configure.
import { existsSync, readFileSync } from 'node:fs';
import { RegistryClient } from '../registry/client.ts';
import { parseDockerConfig, type CredentialStore } from '../registry/credentials.ts';
import { RegistryTransport } from '../registry/transport.ts';
import { RegistryError } from '../registry/errors.ts';
import type { CliEnvironment } from '../config/cli-environment.ts';
import { parseDuration } from '../config/duration.ts';

/** node:util parseArgs declarations, spread into each command's options. */
export const registryOptions = {
  insecure: { type: 'boolean', default: false },
  'docker-config': { type: 'string' },
  'ca-file': { type: 'string' },
  'registry-request-timeout': { type: 'string', default: '30s' },
  'registry-operation-timeout': { type: 'string', default: '2m' },
} as const;

export const registryOptionHelp: Record<keyof typeof registryOptions, string> = {
  insecure: 'talk plain HTTP to the registry (lab and test registries)',
  'docker-config': 'Docker config.json with credentials (default: $DOCKER_CONFIG or ~/.docker)',
  'ca-file': 'PEM CA bundle that signs the registry certificate',
  'registry-request-timeout': 'deadline of one registry request, body included (default 30s)',
  'registry-operation-timeout': 'deadline of one registry operation, retries included (default 2m)',
};

export interface RegistryOptionValues {
  insecure?: boolean | undefined;
  'docker-config'?: string | undefined;
  'ca-file'?: string | undefined;
  'registry-request-timeout'?: string | undefined;
  'registry-operation-timeout'?: string | undefined;
}

const timeout = (flag: keyof RegistryOptionValues, value: string | undefined, fallback: number): number => {
  if (value === undefined) return fallback;
  const ms = parseDuration(value);
  if (ms === undefined || ms < 1 || ms > 3_600_000) {
    throw new RegistryError(
      'InvalidReference',
      `--${flag} "${value}" must be a duration from 1ms to 1h, e.g. 30s or 2m`,
    );
  }
  return ms;
};

const readFileOrFail = (path: string, what: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch (cause) {
    throw new RegistryError('InvalidReference', `cannot read ${what} ${path}`, { cause });
  }
};

/** Builds a client for one registry from the options; credentials come from the Docker config if present. */
export const createRegistryClient = (
  registry: string,
  values: RegistryOptionValues,
  environment: CliEnvironment,
): RegistryClient => {
  const configFile = values['docker-config'] ?? environment.dockerConfigFile;
  const explicit = values['docker-config'] !== undefined;
  const credentials: CredentialStore =
    explicit || existsSync(configFile)
      ? parseDockerConfig(readFileOrFail(configFile, 'Docker config'), configFile)
      : new Map();
  const caPem = values['ca-file'] !== undefined ? readFileOrFail(values['ca-file'], 'CA file') : undefined;
  const transport = new RegistryTransport({
    credentials,
    requestTimeoutMs: timeout('registry-request-timeout', values['registry-request-timeout'], 30_000),
    operationTimeoutMs: timeout('registry-operation-timeout', values['registry-operation-timeout'], 120_000),
    hostOptions: (host) =>
      host === registry
        ? { plainHttp: values.insecure ?? false, ...(caPem !== undefined ? { caPem } : {}) }
        : {},
  });
  return new RegistryClient(transport);
};
