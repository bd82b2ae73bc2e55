// The operator's configuration: `tagguard run` flags and the few environment variables a Deployment sets
// (POD_NAMESPACE, POD_NAME), parsed once and validated here, then passed down as a frozen object.
import { parseArgs } from 'node:util';
import { hostname } from 'node:os';
import { findOnPath } from './find-on-path.ts';
import { parseDuration } from './duration.ts';
import { BaseError } from '../errors.ts';
import { LabelSelectorError, parseLabelSelector, type LabelSelector } from './label-selector.ts';

export class ConfigError extends BaseError<'InvalidFlag' | 'InvalidValue'> {}

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export interface OperatorConfig {
  readonly kubeconfig?: string;
  /** Only this namespace's ArtifactVerifications (default: all). */
  readonly watchNamespace?: string;
  /** Only the ArtifactVerifications these labels select (sharding, as Flux's --watch-label-selector). */
  readonly watchLabelSelector?: LabelSelector;
  readonly argocdNamespace: string;
  readonly metricsAddr: ListenAddress;
  readonly healthAddr: ListenAddress;
  readonly leaderElect: boolean;
  readonly leaderElectionNamespace: string;
  readonly leaderElectionId: string;
  /** Who this instance is: the Lease holder identity and the Events' reportingInstance. */
  readonly identity: string;
  readonly allowCrossNamespaceRefs: boolean;
  /** Reconciles running at once. */
  readonly concurrency: number;
  /** Requests per second to one registry host, across all credentials (0: unlimited). */
  readonly registryQps: number;
  /** Overall deadline of one registry request (each attempt, body included). */
  readonly registryRequestTimeoutMs: number;
  /** Overall deadline of one registry operation (a resolve, a fetch, a listing; retries included). */
  readonly registryOperationTimeoutMs: number;
  /** helm binary for rendering charts; absent = static template scan. */
  readonly helmBinary?: string;
  readonly kubeVersion?: string;
  readonly logLevel: LogLevel;
  readonly logPretty: boolean;
  /** Seconds to finish in-flight work on SIGTERM before exiting anyway. */
  readonly shutdownTimeoutMs: number;
  /** The push-notification receiver (--webhook-addr), off when absent. */
  readonly webhook?: WebhookConfig;
  /** Which CRs get metric series of their own: all, or only unhealthy ones (--object-metrics). */
  readonly objectMetrics: 'all' | 'unhealthy';
}

export interface WebhookConfig {
  readonly addr: ListenAddress;
  /** The Secret holding token / hmacKey / urlToken (--webhook-secret). */
  readonly secretNamespace: string;
  readonly secretName: string;
}

export const operatorOptions = {
  kubeconfig: { type: 'string' },
  'watch-namespace': { type: 'string' },
  'watch-label-selector': { type: 'string' },
  'argocd-namespace': { type: 'string', default: 'argocd' },
  'metrics-addr': { type: 'string', default: ':8080' },
  'health-addr': { type: 'string', default: ':8081' },
  'leader-elect': { type: 'boolean', default: false },
  'leader-election-namespace': { type: 'string' },
  'leader-election-id': { type: 'string', default: 'tagguard-leader' },
  'allow-cross-namespace-refs': { type: 'boolean', default: false },
  concurrency: { type: 'string', default: '4' },
  'object-metrics': { type: 'string', default: 'all' },
  'registry-qps': { type: 'string', default: '20' },
  'registry-request-timeout': { type: 'string', default: '30s' },
  'registry-operation-timeout': { type: 'string', default: '2m' },
  helm: { type: 'string' },
  'kube-version': { type: 'string' },
  'log-level': { type: 'string', default: 'info' },
  'log-format': { type: 'string' },
  'webhook-addr': { type: 'string' },
  'webhook-secret': { type: 'string' },
  help: { type: 'boolean', default: false },
} as const;

export const operatorOptionHelp: Record<keyof typeof operatorOptions, string> = {
  kubeconfig: 'kubeconfig file (default: in-cluster, then $KUBECONFIG, then ~/.kube/config)',
  'watch-namespace': 'watch ArtifactVerifications of this namespace only (default: all namespaces)',
  'watch-label-selector':
    'watch only the ArtifactVerifications these labels select, e.g. sharding.tagguard.dev/key=shard1 (docs/sharding.md)',
  'argocd-namespace': 'namespace of Argo CD repository Secrets (default argocd)',
  'metrics-addr': 'listen address of /metrics (default :8080)',
  'health-addr': 'listen address of /healthz and /readyz (default :8081)',
  'leader-elect': 'elect a leader with a Lease so several replicas can run',
  'leader-election-namespace': 'namespace of the Lease (default: $POD_NAMESPACE, else default)',
  'leader-election-id': 'name of the Lease (default tagguard-leader)',
  'allow-cross-namespace-refs': 'let sourceRef name objects in other namespaces',
  concurrency: 'reconciles at once (default 4)',
  'object-metrics':
    'per-ArtifactVerification metric series: all (default), or unhealthy (only CRs not trusted, holding or with findings)',
  'registry-qps': 'requests per second to one registry, bursts of twice that (default 20; 0 = unlimited)',
  'registry-request-timeout':
    'deadline of one registry request, body included, besides the idle timeouts (default 30s)',
  'registry-operation-timeout':
    'deadline of one registry operation (resolve, fetch, listing), retries included (default 2m)',
  helm: 'helm binary used to render charts (default: helm on PATH; none = static template scan)',
  'kube-version': 'Kubernetes version charts are rendered for (default: helm\'s)',
  'log-level': 'fatal|error|warn|info|debug|trace (default info)',
  'log-format': 'json|pretty (default: pretty on a TTY, else json)',
  'webhook-addr': 'listen address of the registry push-notification receiver (default: off)',
  'webhook-secret':
    'Secret [namespace/]name with token, hmacKey and/or urlToken authenticating push notifications (required with --webhook-addr; namespace default $POD_NAMESPACE)',
  help: 'print this help',
};

/** pino's levels; the setting is parsed here, observability/logger.ts takes it. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

const LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** ":8080", "127.0.0.1:8080", "[::1]:8080" (port 0: any free port, for tests). */
export const parseListenAddress = (flag: string, value: string): ListenAddress => {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  if (!match || port > 65535) throw new ConfigError('InvalidValue', `--${flag} "${value}" is not host:port or :port`);
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
};

/** A registry deadline flag: a duration from 1ms to 1h. */
export const timeoutFlag = (flag: string, value: string): number => {
  const ms = parseDuration(value);
  if (ms === undefined || ms < 1 || ms > 3_600_000)
    throw new ConfigError('InvalidValue', `--${flag} "${value}" must be a duration from 1ms to 1h, e.g. 30s or 2m`);
  return ms;
};

export interface OperatorEnvironment {
  readonly podNamespace?: string;
  readonly podName?: string;
  readonly isTty: boolean;
  readonly helmOnPath?: string;
}

export const readOperatorEnvironment = (
  env: NodeJS.ProcessEnv = process.env,
  isTty: boolean = process.stdout.isTTY,
): OperatorEnvironment => {
  const helmOnPath = findOnPath('helm', env.PATH);
  return {
    ...(env.POD_NAMESPACE ? { podNamespace: env.POD_NAMESPACE } : {}),
    ...(env.POD_NAME ? { podName: env.POD_NAME } : {}),
    ...(helmOnPath ? { helmOnPath } : {}),
    isTty,
  };
};

export const parseOperatorConfig = (argv: readonly string[], environment: OperatorEnvironment): OperatorConfig => {
  let values;
  try {
    ({ values } = parseArgs({ args: [...argv], options: operatorOptions, allowPositionals: false, strict: true }));
  } catch (error) {
    throw new ConfigError('InvalidFlag', (error as Error).message, { cause: error });
  }
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
    throw new ConfigError('InvalidValue', `--concurrency "${values.concurrency}" must be an integer from 1 to 64`);
  const registryQps = Number(values['registry-qps']);
  if (!Number.isFinite(registryQps) || registryQps < 0 || registryQps > 10_000)
    throw new ConfigError('InvalidValue', `--registry-qps "${values['registry-qps']}" must be a number from 0 to 10000`);
  const registryRequestTimeoutMs = timeoutFlag('registry-request-timeout', values['registry-request-timeout']);
  const registryOperationTimeoutMs = timeoutFlag(
    'registry-operation-timeout',
    values['registry-operation-timeout'],
  );
  const level = values['log-level'] as LogLevel;
  if (!LEVELS.includes(level))
    throw new ConfigError('InvalidValue', `--log-level "${values['log-level']}" must be one of ${LEVELS.join(', ')}`);
  const format = values['log-format'];
  if (format !== undefined && format !== 'json' && format !== 'pretty')
    throw new ConfigError('InvalidValue', `--log-format "${format}" must be json or pretty`);
  const helm = values.helm ?? environment.helmOnPath;
  const webhook = parseWebhookFlags(values['webhook-addr'], values['webhook-secret'], environment);
  const watchLabelSelector = parseSelectorFlag(values['watch-label-selector']);
  const objectMetrics = values['object-metrics'];
  if (objectMetrics !== 'all' && objectMetrics !== 'unhealthy')
    throw new ConfigError('InvalidValue', `--object-metrics "${objectMetrics}" must be all or unhealthy`);
  return Object.freeze({
    ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
    ...(values['watch-namespace'] ? { watchNamespace: values['watch-namespace'] } : {}),
    ...(watchLabelSelector ? { watchLabelSelector } : {}),
    argocdNamespace: values['argocd-namespace'],
    metricsAddr: parseListenAddress('metrics-addr', values['metrics-addr']),
    healthAddr: parseListenAddress('health-addr', values['health-addr']),
    leaderElect: values['leader-elect'],
    leaderElectionNamespace: values['leader-election-namespace'] ?? environment.podNamespace ?? 'default',
    leaderElectionId: values['leader-election-id'],
    identity: `${environment.podName ?? hostname()}_${process.pid}`,
    allowCrossNamespaceRefs: values['allow-cross-namespace-refs'],
    concurrency,
    registryQps,
    registryRequestTimeoutMs,
    registryOperationTimeoutMs,
    ...(helm && helm !== 'none' ? { helmBinary: helm } : {}),
    ...(values['kube-version'] ? { kubeVersion: values['kube-version'] } : {}),
    logLevel: level,
    logPretty: format === undefined ? environment.isTty : format === 'pretty',
    shutdownTimeoutMs: 8_000,
    ...(webhook ? { webhook } : {}),
    objectMetrics,
  });
};

/** --watch-label-selector: checked here with the API server's grammar; empty is no selector. */
const parseSelectorFlag = (text: string | undefined): LabelSelector | undefined => {
  if (text === undefined || text.trim() === '') return undefined;
  try {
    return parseLabelSelector(text);
  } catch (error) {
    if (error instanceof LabelSelectorError)
      throw new ConfigError('InvalidValue', `--watch-label-selector: ${error.message}`, { cause: error });
    throw error;
  }
};

const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$/;

/** --webhook-addr and --webhook-secret: both or neither (a receiver without credentials is refused). */
const parseWebhookFlags = (
  addr: string | undefined,
  secret: string | undefined,
  environment: OperatorEnvironment,
): WebhookConfig | undefined => {
  if (addr === undefined) {
    if (secret !== undefined) throw new ConfigError('InvalidValue', '--webhook-secret needs --webhook-addr');
    return undefined;
  }
  if (secret === undefined)
    throw new ConfigError('InvalidValue', '--webhook-addr needs --webhook-secret <namespace>/<name>');
  const [first = '', second] = secret.split('/', 3);
  const namespace = second === undefined ? (environment.podNamespace ?? 'default') : first;
  const name = second ?? first;
  if (secret.split('/').length > 2 || !DNS_LABEL.test(namespace) || !DNS_SUBDOMAIN.test(name))
    throw new ConfigError('InvalidValue', `--webhook-secret "${secret}" is not [namespace/]name`);
  return { addr: parseListenAddress('webhook-addr', addr), secretNamespace: namespace, secretName: name };
};
