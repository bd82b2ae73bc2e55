// The real Flux source-controller, helm-controller and kustomize-controller (built by scripts/testbin.sh)
// running against the test API server, for end-to-end tests. No kubelet runs here, so HelmReleases must
// disable waiting (install/upgrade disableWait) and Kustomizations must not wait for workloads (wait: false).
// Not started by startTestEnv: tests that need them call this.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { probe } from './https-get.ts';
import { crdDir, testbinDir } from './paths.ts';
import { KubeTestClient } from './kube.ts';
import { waitFor, type ProcessSupervisor, type ServiceHandle } from './processes.ts';

export interface FluxControllers {
  sourceController: ServiceHandle;
  helmController: ServiceHandle;
  kustomizeController: ServiceHandle;
  /** host:port where source-controller serves artifacts (what status.artifact.url points at). */
  storageAddress: string;
  stop(): Promise<void>;
}

export interface FluxOptions {
  /** Ready timeout per controller (default 60 s). */
  readyTimeoutMs?: number;
  /**
   * Reconcile only this namespace (default: every namespace). Test files that run at the same time against
   * the shared API server must each scope their controllers, or two source-controllers fight over objects.
   */
  namespace?: string;
  /** Extra arguments, e.g. ['--requeue-dependency=2s']. */
  sourceControllerArgs?: readonly string[];
  helmControllerArgs?: readonly string[];
  kustomizeControllerArgs?: readonly string[];
}

export const FLUX_CONTROLLERS = ['source-controller', 'helm-controller', 'kustomize-controller'] as const;
type FluxTool = (typeof FLUX_CONTROLLERS)[number];

const fluxTool = (name: FluxTool): string => {
  const path = join(testbinDir, name);
  if (!existsSync(path))
    throw new Error(`test tool ${name} is missing at ${path}: run 'scripts/testbin.sh ${name}' first`);
  return path;
};

/** True when every controller is built, so end-to-end tests can say why they skip. */
export const fluxControllersAvailable = (): boolean =>
  FLUX_CONTROLLERS.every((name) => existsSync(join(testbinDir, name)));

const waitReady = (handle: ServiceHandle, healthPort: number, timeoutMs: number): Promise<true> =>
  waitFor(
    `${handle.name} /readyz`,
    async () => ((await probe(`http://127.0.0.1:${healthPort}/readyz`)).status === 200 ? true : undefined),
    { timeoutMs, intervalMs: 250, process: handle },
  );

export const startFluxControllers = async (
  supervisor: ProcessSupervisor,
  runDir: string,
  kubeconfig: string,
  options: FluxOptions = {},
): Promise<FluxControllers> => {
  const timeoutMs = options.readyTimeoutMs ?? 60_000;
  // Each controller's own CRDs (scripts/testbin.sh takes them from the module it builds the controller from),
  // as startTestEnv installs them; again here for a control plane of the caller's own.
  await KubeTestClient.fromFile(kubeconfig).installCrds(FLUX_CONTROLLERS.map(crdDir));
  const storage = join(runDir, 'flux-storage');
  await mkdir(storage, { recursive: true });
  const [storagePort, scMetrics, scHealth, hcMetrics, hcHealth, kcMetrics, kcHealth] = await Promise.all(
    Array.from({ length: 7 }, () => freePort()),
  );
  const storageAddress = `127.0.0.1:${storagePort}`;
  // controller-runtime reads KUBECONFIG; Flux's flags are pflag and do not include --kubeconfig.
  const env = { KUBECONFIG: kubeconfig, RUNTIME_NAMESPACE: options.namespace ?? 'flux-system' };
  const common = [
    '--enable-leader-election=false',
    `--watch-all-namespaces=${options.namespace === undefined}`,
    '--events-addr=',
    '--log-encoding=json',
  ];

  const sourceController = supervisor.start(
    'source-controller',
    fluxTool('source-controller'),
    [
      `--storage-path=${storage}`,
      `--storage-addr=${storageAddress}`,
      `--storage-adv-addr=${storageAddress}`,
      `--metrics-addr=127.0.0.1:${scMetrics}`,
      `--health-addr=127.0.0.1:${scHealth}`,
      ...common,
      ...(options.sourceControllerArgs ?? []),
    ],
    { env, cwd: runDir },
  );
  const helmController = supervisor.start(
    'helm-controller',
    fluxTool('helm-controller'),
    [
      `--metrics-addr=127.0.0.1:${hcMetrics}`,
      `--health-addr=127.0.0.1:${hcHealth}`,
      ...common,
      ...(options.helmControllerArgs ?? []),
    ],
    { env, cwd: runDir },
  );
  // Applies as the kubeconfig's identity (no --default-service-account): the tests' Kustomizations name none.
  const kustomizeController = supervisor.start(
    'kustomize-controller',
    fluxTool('kustomize-controller'),
    [
      `--metrics-addr=127.0.0.1:${kcMetrics}`,
      `--health-addr=127.0.0.1:${kcHealth}`,
      ...common,
      ...(options.kustomizeControllerArgs ?? []),
    ],
    { env, cwd: runDir },
  );
  await Promise.all([
    waitReady(sourceController, scHealth ?? 0, timeoutMs),
    waitReady(helmController, hcHealth ?? 0, timeoutMs),
    waitReady(kustomizeController, kcHealth ?? 0, timeoutMs),
  ]);
  return {
    sourceController,
    helmController,
    kustomizeController,
    storageAddress,
    stop: async () => {
      await Promise.all([sourceController.stop(), helmController.stop(), kustomizeController.stop()]);
    },
  };
};
