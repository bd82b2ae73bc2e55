// `tagguard run` as a child process, the way it runs in a Pod: its own process group under a
// ProcessSupervisor, logs in a file, ready when /readyz answers 200, and killed by a signal (SIGTERM as a
// rollout does, SIGKILL as an OOM kill or a node loss does) with its exit status and time to exit measured.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startControlPlane, type ControlPlane } from './control-plane.ts';
import { KubeTestClient } from './kube.ts';
import { operatorKubeconfig, helmBinary, OPERATOR_NAMESPACE } from './operator.ts';
import { allCrdDirs, projectRoot } from './paths.ts';
import { freePort } from './ports.ts';
import { logTail, waitFor, ProcessSupervisor, type ServiceHandle } from './processes.ts';
import type { TestEnvInfo } from './test-env.ts';

export interface OperatorProcessOptions {
  /** Log file name and Lease identity prefix (POD_NAME): the identity is `<name>_<pid>`. */
  readonly name: string;
  readonly kubeconfig: string;
  readonly leaderElect?: boolean;
  readonly watchNamespace?: string;
  readonly logLevel?: 'info' | 'debug';
  /** How long to wait for /readyz (default 60 s). */
  readonly readyTimeoutMs?: number;
  /** Further `tagguard run` flags. */
  readonly extraArgs?: readonly string[];
  /** Further environment variables, e.g. the Deployment's NODE_OPTIONS. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface ExitReport {
  /** The exit code as a string ("0"), or the signal that ended it ("SIGKILL"). */
  readonly status: string;
  /** From sending the signal to the process having exited. */
  readonly exitMs: number;
}

export interface OperatorProcess {
  readonly name: string;
  readonly pid: number;
  /** The Lease holderIdentity and Events reportingInstance of this instance. */
  readonly identity: string;
  readonly logFile: string;
  readonly healthPort: number;
  readonly metricsPort: number;
  readonly handle: ServiceHandle;
  /** The /metrics text. */
  metrics(): Promise<string>;
  /** Signals the process (SIGKILL: its whole process group, helm children included) and waits for the exit. */
  kill(signal: 'SIGTERM' | 'SIGKILL', timeoutMs?: number): Promise<ExitReport>;
  /** The last lines of its log, for failure messages. */
  logTail(lines?: number): string;
}

const NODE = join(projectRoot, 'node_modules', '.bin', 'node');
const MAIN = join(projectRoot, 'src', 'cli', 'main.ts');

const status = async (port: number, path: string): Promise<number | undefined> => {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return undefined;
  }
};

const waitForExit = (handle: ServiceHandle, timeoutMs: number): Promise<string> =>
  Promise.race([
    handle.exited,
    new Promise<string>((_, reject) =>
      setTimeout(
        () => reject(new Error(`${handle.name} (pid ${handle.pid}) did not exit within ${timeoutMs} ms`)),
        timeoutMs,
      ).unref(),
    ),
  ]);

const startOnce = async (
  supervisor: ProcessSupervisor,
  options: OperatorProcessOptions,
): Promise<OperatorProcess> => {
  const [healthPort, metricsPort] = [await freePort(), await freePort()];
  const args = [
    MAIN,
    'run',
    '--kubeconfig',
    options.kubeconfig,
    '--metrics-addr',
    `127.0.0.1:${metricsPort}`,
    '--health-addr',
    `127.0.0.1:${healthPort}`,
    '--helm',
    helmBinary(),
    '--log-level',
    options.logLevel ?? 'info',
    '--log-format',
    'json',
    ...(options.leaderElect ? ['--leader-elect', '--leader-election-namespace', OPERATOR_NAMESPACE] : []),
    ...(options.watchNamespace ? ['--watch-namespace', options.watchNamespace] : []),
    ...(options.extraArgs ?? []),
  ];
  const handle = supervisor.start(options.name, NODE, args, {
    cwd: projectRoot,
    env: { ...options.env, POD_NAME: options.name, POD_NAMESPACE: OPERATOR_NAMESPACE },
  });
  const operator: OperatorProcess = {
    name: options.name,
    pid: handle.pid,
    identity: `${options.name}_${handle.pid}`,
    logFile: handle.logFile,
    healthPort,
    metricsPort,
    handle,
    metrics: async () => {
      const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, {
        signal: AbortSignal.timeout(5_000),
      });
      return res.text();
    },
    kill: async (signal, timeoutMs = 20_000) => {
      const sentAt = performance.now();
      try {
        if (signal === 'SIGKILL') process.kill(-handle.pid, signal);
        else process.kill(handle.pid, signal);
      } catch {
        // already gone: the exit below reports how it ended
      }
      const exitStatus = await waitForExit(handle, timeoutMs);
      const exitMs = performance.now() - sentAt;
      // Nothing of its group (a helm render) may outlive it.
      try {
        process.kill(-handle.pid, 'SIGKILL');
      } catch {
        // the group is gone
      }
      return { status: exitStatus, exitMs };
    },
    logTail: (lines = 40) => logTail(handle.logFile, lines),
  };
  await waitFor(
    'tagguard run /readyz 200',
    async () => ((await status(healthPort, '/readyz')) === 200 ? true : undefined),
    {
      timeoutMs: options.readyTimeoutMs ?? 60_000,
      intervalMs: 100,
      process: handle,
    },
  );
  return operator;
};

/**
 * Starts `tagguard run` and waits until it is ready. A port taken between choosing it and the child
 * binding it (freePort's race) is retried with new ports.
 */
export const startOperatorProcess = async (
  supervisor: ProcessSupervisor,
  options: OperatorProcessOptions,
): Promise<OperatorProcess> => {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startOnce(supervisor, options);
    } catch (error) {
      const portTaken = error instanceof Error && /EADDRINUSE/.test(error.message);
      if (!portTaken || attempt >= 3) throw error;
    }
  }
};

export interface OperatorCluster {
  readonly supervisor: ProcessSupervisor;
  readonly plane: ControlPlane;
  /** cluster-admin */
  readonly kube: KubeTestClient;
  /** The operator's own identity, bound only by config/rbac. */
  readonly operatorKubeconfig: string;
  readonly dir: string;
  stop(): Promise<void>;
}

/**
 * A control plane of the caller's own (its API server can be restarted and its etcd compacted without
 * disturbing other test files, and no other test's operator reconciles its objects), with the tagguard,
 * Flux and Argo CD CRDs and the operator's RBAC installed.
 */
export const startOperatorCluster = async (env: TestEnvInfo, prefix: string): Promise<OperatorCluster> => {
  // A second attempt in a fresh directory: two certificates issued by one CA at the same time with
  // `openssl -CAcreateserial` now and then leave an empty certificate (seen by the runtime tests too).
  for (let attempt = 1; ; attempt += 1) {
    const dir = join(env.runDir, `${prefix}-${Date.now().toString(36)}-${attempt}`);
    await mkdir(dir, { recursive: true });
    const supervisor = new ProcessSupervisor(dir);
    try {
      const plane = await startControlPlane(supervisor, dir);
      const kube = KubeTestClient.fromFile(plane.kubeconfig);
      await kube.installCrds(allCrdDirs());
      const kubeconfig = await operatorKubeconfig({
        ...env,
        kubeconfig: plane.kubeconfig,
        apiServer: plane.server,
        kubeCa: { certFile: plane.ca.certFile, keyFile: plane.ca.keyFile },
      });
      return {
        supervisor,
        plane,
        kube,
        operatorKubeconfig: kubeconfig,
        dir,
        stop: () => supervisor.stopAll(),
      };
    } catch (error) {
      await supervisor.stopAll();
      if (attempt === 2) throw error;
    }
  }
};
