// The real Argo CD application-controller and repo-server (one `argocd` binary built by scripts/testbin.sh,
// run under each component's name) with a private redis, against the test API server, for end-to-end tests.
// No kubelet runs here: synced objects are stored, not run, so health may stay Progressing. The in-cluster
// destination https://kubernetes.default.svc is the test API server (Argo CD's ARGOCD_FAKE_IN_CLUSTER reads
// KUBECONFIG instead of a pod's service account). Not started by startTestEnv: tests that need it call this.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { freePort } from './ports.ts';
import { probe } from './https-get.ts';
import { crdDir, testbinDir } from './paths.ts';
import { KubeTestClient } from './kube.ts';
import { waitFor, type ProcessSupervisor, type ServiceHandle } from './processes.ts';
import type { RegistryEndpoint } from './registries.ts';

export const ARGOCD_API = 'argoproj.io/v1alpha1';
/** Redis from the Debian package redis-server (README "Prerequisites"). */
const REDIS = 'redis-server';

export interface ArgoCd {
  /** Where Argo CD keeps its settings, AppProject and repository Secrets (what tagguard's --argocd-namespace names). */
  readonly namespace: string;
  readonly redis: ServiceHandle;
  readonly repoServer: ServiceHandle;
  readonly controller: ServiceHandle;
  /** Seconds from start to all three ready. */
  readonly startSeconds: number;
  stop(): Promise<void>;
}

export interface ArgoCdOptions {
  /** Argo CD's own namespace (default "argocd"). Test files running at once each take their own. */
  namespace?: string;
  /** Further namespaces whose Applications the controller reconciles (its --application-namespaces). */
  applicationNamespaces?: readonly string[];
  /** The controller's --app-resync: how often every Application is compared again (default 10 s). */
  resyncSeconds?: number;
  /** Ready timeout per component (default 60 s). */
  readyTimeoutMs?: number;
}

/** redis-server from Debian (README "Prerequisites"): a missing one is named with its install command. */
const requireRedis = (): void => {
  if (spawnSync(REDIS, ['--version'], { stdio: 'ignore' }).status !== 0)
    throw new Error(`${REDIS} is missing: apt-get install redis-server (README "Prerequisites")`);
};

const argoTool = (name: 'argocd-application-controller' | 'argocd-repo-server'): string => {
  const path = join(testbinDir, name);
  if (!existsSync(path))
    throw new Error(`test tool ${name} is missing at ${path}: run 'scripts/testbin.sh argocd'`);
  return path;
};

/** PING over redis' wire protocol: ready once it answers +PONG. */
const redisPing = (port: number): Promise<true | undefined> =>
  new Promise((resolvePing) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (value: true | undefined): void => {
      socket.destroy();
      resolvePing(value);
    };
    socket.setTimeout(1000, () => done(undefined));
    socket.on('error', () => done(undefined));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG') ? true : undefined);
    });
  });

const waitHealthz = (handle: ServiceHandle, port: number, timeoutMs: number): Promise<true> =>
  waitFor(
    `${handle.name} /healthz`,
    async () => ((await probe(`http://127.0.0.1:${port}/healthz`)).status === 200 ? true : undefined),
    { timeoutMs, intervalMs: 250, process: handle },
  );

/**
 * Argo CD 3.2 runs `helm pull oci://…` for a Helm-OCI source without --plain-http, whatever the repository
 * Secret says (3.5 adds the flag for insecureOCIForceHttp: util/helm/cmd.go PullOCI). The test registries
 * speak plain HTTP, so the repo-server finds this `helm` first on its PATH: it adds exactly that flag to
 * `helm pull oci://` and runs the pinned helm for everything.
 */
const writeHelmShim = async (dir: string): Promise<void> => {
  const helm = join(testbinDir, 'helm');
  if (!existsSync(helm)) throw new Error(`test tool helm is missing at ${helm}: run 'make testbin' first`);
  const script = `#!/bin/sh
if [ "$1" = pull ]; then
  case "$2" in oci://*) exec '${helm}' "$@" --plain-http ;; esac
fi
exec '${helm}' "$@"
`;
  await writeFile(join(dir, 'helm'), script);
  await chmod(join(dir, 'helm'), 0o755);
};

/**
 * The settings objects the controller reads at start, and the project every test Application names. Empty
 * argocd-cm: its timeout.reconciliation reaches the controller only as ARGOCD_RECONCILIATION_TIMEOUT through
 * the install manifests, so the harness passes --app-resync instead; argocd-cmd-params-cm is read the same way
 * (environment of the official Deployments) and is not needed when the flags are given.
 */
const settingsObjects = (namespace: string, applicationNamespaces: readonly string[]): KubernetesObject[] =>
  [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'argocd-cm', namespace, labels: { 'app.kubernetes.io/part-of': 'argocd' } },
      data: {},
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'argocd-rbac-cm', namespace, labels: { 'app.kubernetes.io/part-of': 'argocd' } },
      data: {},
    },
    {
      // The controller refuses incomplete settings without the server's signing key.
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'argocd-secret', namespace, labels: { 'app.kubernetes.io/part-of': 'argocd' } },
      stringData: { 'server.secretkey': randomBytes(32).toString('base64') },
    },
    {
      // argocd-server creates the default project; it does not run here.
      apiVersion: ARGOCD_API,
      kind: 'AppProject',
      metadata: { name: 'default', namespace },
      spec: {
        sourceRepos: ['*'],
        sourceNamespaces: [...applicationNamespaces],
        destinations: [{ server: '*', namespace: '*' }],
        clusterResourceWhitelist: [{ group: '*', kind: '*' }],
      },
    },
  ] as unknown as KubernetesObject[];

/**
 * The repository Secret through which Argo CD (and tagguard) reach an OCI repository of a test registry:
 * `helm` with enableOCI for the Helm-OCI form (`repoURL` host/path without scheme, plus `chart`), `oci` for
 * a native source (`repoURL` oci://host/path). insecureOCIForceHttp is plain HTTP.
 */
export const ociRepositorySecret = (
  namespace: string,
  name: string,
  registry: RegistryEndpoint,
  form: { helmOci: string } | { native: string },
): KubernetesObject =>
  ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, labels: { 'argocd.argoproj.io/secret-type': 'repository' } },
    stringData: {
      ...('helmOci' in form
        ? { type: 'helm', url: `${registry.host}/${form.helmOci}`, enableOCI: 'true' }
        : { type: 'oci', url: `oci://${registry.host}/${form.native}` }),
      ...(registry.plainHttp ? { insecureOCIForceHttp: 'true' } : {}),
    },
  }) as KubernetesObject;

/** What `argocd app get --hard-refresh` does: the controller regenerates manifests without the repo-server's cache. */
export const requestHardRefresh = (
  kube: KubeTestClient,
  namespace: string,
  name: string,
): Promise<KubernetesObject> =>
  kube.mergePatch(
    { apiVersion: ARGOCD_API, kind: 'Application', metadata: { name, namespace } },
    { metadata: { name, namespace, annotations: { 'argocd.argoproj.io/refresh': 'hard' } } },
  );

export const startArgoCd = async (
  supervisor: ProcessSupervisor,
  runDir: string,
  kubeconfig: string,
  options: ArgoCdOptions = {},
): Promise<ArgoCd> => {
  const started = performance.now();
  requireRedis();
  const namespace = options.namespace ?? 'argocd';
  const applicationNamespaces = options.applicationNamespaces ?? [];
  const timeoutMs = options.readyTimeoutMs ?? 60_000;
  const kube = KubeTestClient.fromFile(kubeconfig);
  await kube.installCrds([crdDir('argocd')]);
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  await kube.applyAll(settingsObjects(namespace, applicationNamespaces));

  const dir = join(runDir, `argocd-${namespace}`);
  const paths = {
    home: join(dir, 'home'),
    temp: join(dir, 'tmp'),
    shim: join(dir, 'shim'),
    tls: join(dir, 'tls'),
    ssh: join(dir, 'ssh'),
  };
  for (const path of Object.values(paths)) await mkdir(path, { recursive: true });
  await writeHelmShim(paths.shim);
  // A unix socket path must stay under 108 bytes; the run directory may be deeper than that allows.
  const socketDir = await mkdtemp(join(tmpdir(), 'tagguard-argocd-'));
  const [redisPort, repoPort, repoMetrics, controllerMetrics] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const redisAddress = `127.0.0.1:${redisPort}`;
  const repoAddress = `127.0.0.1:${repoPort}`;

  // Cache only: no snapshot, no append-only file, loopback only.
  const redis = supervisor.start(
    `redis-${namespace}`,
    REDIS,
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { cwd: dir },
  );
  await waitFor(`redis on ${redisAddress}`, () => redisPing(redisPort), {
    timeoutMs,
    intervalMs: 100,
    process: redis,
  });

  const common = { HOME: paths.home, TMPDIR: paths.temp, ARGOCD_TLS_DATA_PATH: paths.tls };
  const repoServer = supervisor.start(
    `argocd-repo-server-${namespace}`,
    argoTool('argocd-repo-server'),
    [
      '--address=127.0.0.1',
      `--port=${repoPort}`,
      '--metrics-address=127.0.0.1',
      `--metrics-port=${repoMetrics}`,
      '--disable-tls',
      `--redis=${redisAddress}`,
      '--logformat=json',
    ],
    {
      cwd: dir,
      env: {
        ...common,
        PATH: `${paths.shim}:${testbinDir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
        ARGOCD_SSH_DATA_PATH: paths.ssh,
        ARGOCD_GPG_ENABLED: 'false',
        ARGOCD_ASK_PASS_SOCK: join(socketDir, 'askpass.sock'),
      },
    },
  );
  const controller = supervisor.start(
    `argocd-application-controller-${namespace}`,
    argoTool('argocd-application-controller'),
    [
      `--kubeconfig=${kubeconfig}`,
      `--namespace=${namespace}`,
      `--repo-server=${repoAddress}`,
      '--repo-server-plaintext',
      `--redis=${redisAddress}`,
      `--metrics-port=${controllerMetrics}`,
      `--app-resync=${options.resyncSeconds ?? 10}`,
      '--app-resync-jitter=0',
      ...(applicationNamespaces.length > 0
        ? [`--application-namespaces=${applicationNamespaces.join(',')}`]
        : []),
      '--logformat=json',
    ],
    { cwd: dir, env: { ...common, KUBECONFIG: kubeconfig, ARGOCD_FAKE_IN_CLUSTER: 'true' } },
  );
  await Promise.all([
    waitHealthz(repoServer, repoMetrics, timeoutMs),
    waitHealthz(controller, controllerMetrics, timeoutMs),
  ]);
  return {
    namespace,
    redis,
    repoServer,
    controller,
    startSeconds: Number(((performance.now() - started) / 1000).toFixed(1)),
    stop: async () => {
      await Promise.all([controller.stop(), repoServer.stop()]);
      await redis.stop();
      await rm(socketDir, { recursive: true, force: true });
    },
  };
};
