// The real Flux source-controller and helm-controller (built by scripts/testbin.sh) running against the
// test API server, for end-to-end tests. No kubelet runs here, so HelmReleases must disable waiting
// (install/upgrade disableWait). Not started by startTestEnv: tests that need them call this.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { probe } from './https-get.ts';
import { projectRoot, testbinDir } from './paths.ts';
import { KubeTestClient } from './kube.ts';
import { waitFor, type ProcessSupervisor, type ServiceHandle } from './processes.ts';

export interface FluxControllers {
  sourceController: ServiceHandle;
  helmController: ServiceHandle;
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
}

type FluxTool = 'source-controller' | 'helm-controller';

const fluxTool = (name: FluxTool): string => {
  const path = join(testbinDir, name);
  if (!existsSync(path))
    throw new Error(`test tool ${name} is missing at ${path}: run 'scripts/testbin.sh ${name}' first`);
  return path;
};

// scripts/testbin.sh links each controller's own CRDs (config/crd/bases of its module) here.
const crdDir = (name: FluxTool): string => {
  const dir = join(projectRoot, '.testbin', 'crds', name);
  if (!existsSync(dir))
    throw new Error(`CRDs of ${name} are missing at ${dir}: run 'scripts/testbin.sh ${name}'`);
  return dir;
};

/** True when both controllers are built, so end-to-end tests can say why they skip. */
export const fluxControllersAvailable = (): boolean =>
  existsSync(join(testbinDir, 'source-controller')) && existsSync(join(testbinDir, 'helm-controller'));

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
  // source-controller watches every source kind (GitRepository, Bucket, …), not only the shared three.
  await KubeTestClient.fromFile(kubeconfig).installCrds([
    crdDir('source-controller'),
    crdDir('helm-controller'),
  ]);
  const storage = join(runDir, 'flux-storage');
  await mkdir(storage, { recursive: true });
  const [storagePort, scMetrics, scHealth, hcMetrics, hcHealth] = await Promise.all(
    Array.from({ length: 5 }, () => freePort()),
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
  await Promise.all([
    waitReady(sourceController, scHealth ?? 0, timeoutMs),
    waitReady(helmController, hcHealth ?? 0, timeoutMs),
  ]);
  return {
    sourceController,
    helmController,
    storageAddress,
    stop: async () => {
      await Promise.all([sourceController.stop(), helmController.stop()]);
    },
  };
};
