// Runs tagguard's container image with podman as config/manager's Deployment runs it: the podman flags are
// derived from the Deployment (args, NODE_OPTIONS, user, read-only root, emptyDir tmpfs, dropped capabilities,
// memory limit) and in-cluster configuration from a ServiceAccount token. Shared by the image test and the demo.
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Deployment } from '@kubernetes/client-node';
import { parseManifests } from './kube.ts';
import { projectRoot } from './paths.ts';
import { runTool } from './run-tool.ts';
import { OPERATOR_NAMESPACE } from './operator.ts';
import type { TestEnvInfo } from './test-env.ts';

// The machine's podman quirks (cgroup v1 in hybrid mode, no CAP_SYS_RESOURCE): test/env/containers.conf.
export const CONTAINERS_CONF = join(projectRoot, 'test', 'env', 'containers.conf');

export interface CommandRun {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

/** Runs a command (podman, scripts/image.sh) with CONTAINERS_CONF set; never rejects, the code says. */
export const runWithPodman = (
  command: string,
  args: readonly string[],
  timeoutMs = 120_000,
): Promise<CommandRun> =>
  new Promise((resolveRun) => {
    execFile(
      command,
      args,
      {
        cwd: projectRoot,
        env: { ...process.env, CONTAINERS_CONF },
        timeout: timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolveRun({ stdout, stderr, code });
      },
    );
  });

/** As runWithPodman, but a non-zero exit is an error naming the command and carrying its output. */
export const mustRunWithPodman = async (
  command: string,
  args: readonly string[],
  timeoutMs?: number,
): Promise<string> => {
  const result = await runWithPodman(command, args, timeoutMs);
  if (result.code !== 0)
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.code}):\n${result.stderr}${result.stdout}`,
    );
  return result.stdout;
};

/** The Deployment config/manager installs (kustomize output), whose args, env and security context are used. */
export const managerDeployment = async (): Promise<V1Deployment> => {
  const { stdout } = await runTool('kubectl', ['kustomize', join(projectRoot, 'config', 'manager')]);
  const deployment = parseManifests(stdout).find((o): o is V1Deployment => o.kind === 'Deployment');
  if (!deployment) throw new Error('config/manager has no Deployment');
  return deployment;
};

/** A ServiceAccount token (`kubectl create token`) and the API server's CA, mounted where a Pod has them. */
export const serviceAccountVolume = async (
  env: Pick<TestEnvInfo, 'kubeconfig' | 'kubeCa'>,
  serviceAccount = 'tagguard',
  namespace = OPERATOR_NAMESPACE,
): Promise<string> => {
  const token = (
    await runTool('kubectl', [
      '--kubeconfig',
      env.kubeconfig,
      'create',
      'token',
      serviceAccount,
      '-n',
      namespace,
      '--duration',
      '2h',
    ])
  ).stdout.trim();
  const dir = await mkdtemp(join(tmpdir(), 'tagguard-image-sa-'));
  await writeFile(join(dir, 'token'), token);
  await writeFile(join(dir, 'ca.crt'), await readFile(env.kubeCa.certFile));
  await writeFile(join(dir, 'namespace'), namespace);
  // The container's user (65532) reads them, as the kubelet's projected volume lets it.
  await chmod(dir, 0o755);
  for (const file of ['token', 'ca.crt', 'namespace']) await chmod(join(dir, file), 0o644);
  return dir;
};

/** A Kubernetes quantity in Mi/Gi as podman writes it (512Mi → 512m); anything else is refused. */
const podmanSize = (quantity: string): string => {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!match)
    throw new Error(`config/manager: cannot translate the quantity ${JSON.stringify(quantity)} for podman`);
  return `${match[1]}${match[2] === 'Mi' ? 'm' : 'g'}`;
};

export interface ImageRun {
  readonly image: string;
  /** The container's name, also its POD_NAME. */
  readonly name: string;
  /** The API server's URL: its host and port become KUBERNETES_SERVICE_HOST/PORT (the network is the host's). */
  readonly apiServer: string;
  /** What serviceAccountVolume returned. */
  readonly secretsDir: string;
  readonly metricsPort: number;
  readonly healthPort: number;
  /** Arguments after the Deployment's (a Lease of its own, a watched namespace). */
  readonly extraArgs?: readonly string[];
}

/**
 * `podman run --detach …` for the image, translated from the Deployment's first container and Pod security
 * context: every flag comes from a field of config/manager, so the run follows what the Deployment promises.
 */
export const imageRunArgs = (deployment: V1Deployment, run: ImageRun): string[] => {
  const podSpec = deployment.spec?.template.spec;
  const container = podSpec?.containers[0];
  if (!podSpec || !container) throw new Error('config/manager: the Deployment has no container');
  const security = container.securityContext;
  const pod = podSpec.securityContext;
  const user = security?.runAsUser ?? pod?.runAsUser;
  const group = security?.runAsGroup ?? pod?.runAsGroup;
  if (user === undefined || group === undefined) throw new Error('config/manager: no runAsUser/runAsGroup');
  const memory = container.resources?.limits?.memory;
  if (memory === undefined) throw new Error('config/manager: no memory limit');
  const nodeOptions = container.env?.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '';
  // Each emptyDir mounted by the container becomes a tmpfs of its sizeLimit; nothing else is writable.
  const tmpfs = (container.volumeMounts ?? []).flatMap((mount) => {
    const emptyDir = podSpec.volumes?.find((v) => v.name === mount.name)?.emptyDir;
    if (!emptyDir) return [];
    const size = emptyDir.sizeLimit === undefined ? '' : `size=${podmanSize(String(emptyDir.sizeLimit))},`;
    return ['--tmpfs', `${mount.mountPath}:rw,${size}mode=1777`];
  });
  const [command, ...args] = container.args ?? [];
  // Its own addresses on the host network, instead of the Deployment's :8080/:8081.
  const deploymentArgs = args.filter(
    (a) => !a.startsWith('--metrics-addr') && !a.startsWith('--health-addr'),
  );
  const apiServer = new URL(run.apiServer);
  return [
    'run',
    '--detach',
    '--name',
    run.name,
    '--network',
    'host',
    '--user',
    `${user}:${group}`,
    ...(security?.readOnlyRootFilesystem === true ? ['--read-only', '--read-only-tmpfs=false'] : []),
    ...tmpfs,
    ...(security?.capabilities?.drop ?? []).flatMap((capability) => ['--cap-drop', capability]),
    ...(security?.allowPrivilegeEscalation === false ? ['--security-opt', 'no-new-privileges'] : []),
    '--memory',
    podmanSize(memory),
    '--volume',
    `${run.secretsDir}:/var/run/secrets/kubernetes.io/serviceaccount:ro`,
    '--env',
    `KUBERNETES_SERVICE_HOST=${apiServer.hostname}`,
    '--env',
    `KUBERNETES_SERVICE_PORT=${apiServer.port}`,
    // The Deployment's fieldRefs: the Pod's namespace (the ServiceAccount's) and name.
    '--env',
    `POD_NAMESPACE=${OPERATOR_NAMESPACE}`,
    '--env',
    `POD_NAME=${run.name}`,
    '--env',
    `NODE_OPTIONS=${nodeOptions}`,
    run.image,
    command ?? 'run',
    ...deploymentArgs,
    `--metrics-addr=127.0.0.1:${run.metricsPort}`,
    `--health-addr=127.0.0.1:${run.healthPort}`,
    ...(run.extraArgs ?? []),
  ];
};

/** The host pid of the container's process (the operator: the image's entrypoint is node itself). */
export const containerPid = async (name: string): Promise<number> => {
  const pid = Number(
    (await mustRunWithPodman('podman', ['inspect', '--format', '{{.State.Pid}}', name])).trim(),
  );
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`podman inspect ${name}: no running process`);
  return pid;
};

/** A field of /proc/<pid>/status (VmRSS, VmHWM: "123456 kB"; Uid: four uids), '' when absent. */
export const processStatus = async (pid: number, field: 'VmRSS' | 'VmHWM' | 'Uid'): Promise<string> => {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return new RegExp(`^${field}:\\s*(.+)$`, 'm').exec(status)?.[1]?.trim() ?? '';
};

/** VmRSS or VmHWM of a process in KiB. */
export const processKiB = async (pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> =>
  Number.parseInt(await processStatus(pid, field), 10);
