// `tagguard run`: the operator process. Parses the configuration once, serves /healthz /readyz /metrics,
// optionally elects a leader, runs the controller, and on SIGTERM/SIGINT stops the informers, lets
// in-flight reconciles finish, releases the Lease and exits within the shutdown budget (10 s in total).
import { KubeConfig } from '@kubernetes/client-node';
import { reuseConnections } from '../runtime/kube-connections.ts';
import {
  ConfigError,
  operatorOptionHelp,
  parseOperatorConfig,
  readOperatorEnvironment,
  type OperatorConfig,
} from '../config/operator-config.ts';
import { createLogger, type Logger } from '../observability/logger.ts';
import { createMetrics } from '../observability/metrics.ts';
import { startEndpoints } from '../observability/http-endpoints.ts';
import { LeaderElector } from '../runtime/leader-election.ts';
import { startOperator, type Operator } from '../controller/operator.ts';
import { KubeClusterAccess } from '../controller/cluster-access.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../webhook/receiver.ts';
import { WebhookSecretSource } from '../webhook/webhook-secret.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';
import type { CommandIo } from './command-io.ts';

export const runUsage = `Usage: tagguard run [options]

Runs the operator against the cluster of the kubeconfig (in-cluster configuration inside a Pod).

${Object.entries(operatorOptionHelp)
  .map(([name, help]) => `  --${name.padEnd(28)} ${help}`)
  .join('\n')}
`;

const loadKubeConfig = (config: OperatorConfig): KubeConfig => {
  const kc = new KubeConfig();
  if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
  else kc.loadFromDefault();
  // One connection pool per API server identity for the elector, the operator and every API class.
  reuseConnections(kc);
  return kc;
};

export interface RunningOperator {
  readonly endpoints: { health: number; metrics: number; webhook?: number };
  /** Resolves with the exit code once the process should exit. */
  readonly done: Promise<ExitCode>;
  shutdown(reason: string): Promise<void>;
  /** Kills helm renders still running (for the process's 'exit' handler, past the shutdown budget). */
  killRenders(): void;
}

/** Starts everything; exported for tests that run the operator in-process. */
export const startRun = async (config: OperatorConfig, logger: Logger): Promise<RunningOperator> => {
  const kubeConfig = loadKubeConfig(config);
  const metrics = createMetrics({ objectMetrics: config.objectMetrics });
  let operator: Operator | undefined;
  let elector: LeaderElector | undefined;
  let stopping = false;
  let resolveDone: (code: ExitCode) => void = () => undefined;
  const done = new Promise<ExitCode>((resolve) => (resolveDone = resolve));

  const endpoints = await startEndpoints({
    health: config.healthAddr,
    metrics: config.metricsAddr,
    registry: metrics.registry,
    checks: {
      live: () => true,
      // A standby replica is ready (it serves its purpose by waiting); a leader once its caches are synced.
      ready: () => (operator ? operator.ready() : elector !== undefined && !elector.isLeader),
    },
  });

  let webhook: WebhookReceiver | undefined;
  try {
    webhook = await startWebhook(config, kubeConfig, logger, metrics, () => operator);
  } catch (error) {
    // The webhook address is taken (or invalid): nothing may stay listening behind the error.
    await endpoints.close();
    throw error;
  }

  let starting: Promise<void> | undefined;

  const shutdown = async (reason: string, code: ExitCode = EXIT.ok): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'shutting down');
    const budget = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      resolveDone(EXIT.registry);
    }, config.shutdownTimeoutMs);
    budget.unref();
    try {
      // A start still under way (informers syncing) finishes first, so what it started is stopped too.
      await starting;
      await operator?.stop();
      await elector?.stop();
      await webhook?.close();
      await endpoints.close();
    } finally {
      clearTimeout(budget);
      resolveDone(code);
    }
  };

  const begin = (): Promise<void> => {
    starting = (async () => {
      try {
        operator = await startOperator({ config, kubeConfig, logger, metrics });
      } catch (error) {
        logger.error(
          { err: error instanceof Error ? error.message : String(error) },
          'operator could not start',
        );
        startFailed = true;
      }
    })();
    return starting.then(() => (startFailed ? shutdown('start failed', EXIT.usage) : undefined));
  };
  let startFailed = false;

  if (config.leaderElect) {
    elector = new LeaderElector(kubeConfig, {
      namespace: config.leaderElectionNamespace,
      name: config.leaderElectionId,
      identity: config.identity,
      logger: logger.child({ component: 'leader-election' }),
    });
    void elector.run({
      onStartedLeading: () => {
        logger.info({ identity: config.identity }, 'became leader');
        if (!stopping) void begin();
      },
      onStoppedLeading: () => {
        // Also called by our own shutdown (elector.stop()): only an unexpected loss is news.
        if (stopping) return;
        // As controller-runtime: a leader that lost its Lease stops at once; a restart re-joins the election.
        logger.warn('lost leadership');
        void shutdown('lost leadership', EXIT.registry);
      },
    });
  } else await begin();

  return {
    endpoints: {
      health: endpoints.health.port,
      metrics: endpoints.metrics.port,
      ...(webhook ? { webhook: webhook.address.port } : {}),
    },
    done,
    shutdown,
    killRenders: () => operator?.killRenders(),
  };
};

/**
 * The push-notification receiver, when --webhook-addr asks for it. It answers on every replica; only a
 * running operator (the leader) acts on an event, a standby answers 503 so the sender retries.
 */
const startWebhook = async (
  config: OperatorConfig,
  kubeConfig: KubeConfig,
  logger: Logger,
  metrics: ReturnType<typeof createMetrics>,
  operator: () => Operator | undefined,
): Promise<WebhookReceiver | undefined> => {
  if (!config.webhook) return undefined;
  const { secretNamespace, secretName } = config.webhook;
  const cluster = new KubeClusterAccess(kubeConfig);
  const secrets = new WebhookSecretSource(() => cluster.readSecret(secretNamespace, secretName), {
    name: `${secretNamespace}/${secretName}`,
    logger: logger.child({ component: 'webhook' }),
  });
  void secrets.get();
  return startWebhookReceiver({
    address: config.webhook.addr,
    secret: () => secrets.get(),
    dispatch: (pushes) => operator()?.trigger(pushes),
    onRequest: (provider, result) => metrics.webhookRequests.inc({ provider, result }),
    logger: logger.child({ component: 'webhook' }),
  });
};

export const runCommand = async (argv: readonly string[], io: CommandIo): Promise<ExitCode> => {
  if (argv.includes('--help')) {
    io.stdout(runUsage);
    return EXIT.ok;
  }
  let config: OperatorConfig;
  try {
    config = parseOperatorConfig(argv, readOperatorEnvironment());
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(`tagguard run: ${error.message}\n\n${runUsage}`);
      return EXIT.usage;
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel, pretty: config.logPretty });
  const running = await startRun(config, logger);
  const onSignal = (signal: string) => () => void running.shutdown(signal);
  process.once('SIGTERM', onSignal('SIGTERM'));
  process.once('SIGINT', onSignal('SIGINT'));
  // Past the shutdown budget the process exits with renders possibly in flight: none may outlive it.
  process.once('exit', () => running.killRenders());
  logger.info(running.endpoints, 'tagguard running');
  const code = await running.done;
  // Whatever still holds the event loop open (a socket a library keeps) must not keep a stopped operator
  // alive: exit shortly after, unless the process has already ended on its own.
  setTimeout(() => process.exit(code), 500).unref();
  return code;
};
