// A real Kubernetes control plane for tests: etcd + kube-apiserver on loopback ports with RBAC
// authorization and client-certificate authentication, as controller-runtime's envtest sets it up.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createCA, createRsaKey, issueCertificate, type KeyPair } from './pki.ts';
import { freePort } from './ports.ts';
import { probe } from './https-get.ts';
import { toolPath } from './paths.ts';
import { waitFor, type ProcessSupervisor, type ServiceHandle } from './processes.ts';

export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  server: string;
  /** Kubeconfig of a cluster-admin (group system:masters). */
  kubeconfig: string;
  ca: KeyPair;
  admin: KeyPair;
  etcdUrl: string;
  etcd: ServiceHandle;
  apiserver: ServiceHandle;
  /**
   * Stops kube-apiserver (SIGTERM, as a rolling restart does) and starts it again on the same port with the
   * same flags and etcd data; resolves when /readyz answers. `apiserver` then names the new process.
   */
  restartApiServer(): Promise<ServiceHandle>;
}

const startEtcd = async (
  supervisor: ProcessSupervisor,
  dir: string,
): Promise<{ url: string; handle: ServiceHandle }> => {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const handle = supervisor.start('etcd', toolPath('etcd'), [
    '--name=test',
    `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=${url}`,
    `--advertise-client-urls=${url}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=test=${peer}`,
    '--unsafe-no-fsync=true',
    '--log-level=warn',
  ]);
  await waitFor(
    'etcd health',
    async () => ((await probe(`${url}/health`)).body.includes('"health":"true"') ? true : undefined),
    { timeoutMs: 30_000, process: handle },
  );
  return { url, handle };
};

const kubeconfigYaml = (server: string, ca: KeyPair, user: KeyPair, userName: string): string =>
  [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: test`,
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority: ${ca.certFile}`,
    'users:',
    `- name: ${userName}`,
    '  user:',
    `    client-certificate: ${user.certFile}`,
    `    client-key: ${user.keyFile}`,
    'contexts:',
    `- name: test`,
    '  context:',
    '    cluster: test',
    `    user: ${userName}`,
    'current-context: test',
    '',
  ].join('\n');

/** Writes a kubeconfig for a client certificate issued by the control plane's CA. */
export const writeKubeconfig = async (
  plane: Pick<ControlPlane, 'server' | 'ca'>,
  user: KeyPair,
  file: string,
  userName = 'user',
): Promise<string> => {
  await writeFile(file, kubeconfigYaml(plane.server, plane.ca, user, userName), { mode: 0o600 });
  return file;
};

export const startControlPlane = async (
  supervisor: ProcessSupervisor,
  dir: string,
): Promise<ControlPlane> => {
  const pki = join(dir, 'pki');
  await mkdir(pki, { recursive: true });
  const ca = await createCA(pki, 'kube-ca');
  const [serving, admin, sa] = await Promise.all([
    issueCertificate(ca, pki, 'apiserver', {
      subject: '/CN=kube-apiserver',
      usage: 'server',
      dnsNames: ['localhost', 'kubernetes', 'kubernetes.default.svc'],
      ipAddresses: ['127.0.0.1'],
    }),
    issueCertificate(ca, pki, 'admin', {
      subject: '/O=system:masters/CN=tagguard-test-admin',
      usage: 'client',
    }),
    createRsaKey(pki, 'service-account'),
  ]);

  const etcd = await startEtcd(supervisor, dir);
  const port = await freePort();
  const server = `https://127.0.0.1:${port}`;
  const apiserverArgs = [
    `--etcd-servers=${etcd.url}`,
    `--cert-dir=${join(dir, 'apiserver')}`,
    `--tls-cert-file=${serving.certFile}`,
    `--tls-private-key-file=${serving.keyFile}`,
    `--client-ca-file=${ca.certFile}`,
    `--secure-port=${port}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    '--service-cluster-ip-range=10.0.0.0/24',
    '--service-account-issuer=https://kubernetes.default.svc',
    `--service-account-key-file=${sa.pubFile}`,
    `--service-account-signing-key-file=${sa.keyFile}`,
    '--authorization-mode=RBAC',
    '--allow-privileged=true',
    '--disable-admission-plugins=ServiceAccount',
    // No kubelet or Service network here: the default endpoint reconciler only logs loopback errors.
    '--endpoint-reconciler-type=none',
    '--v=1',
  ];
  const startApiServer = async (): Promise<ServiceHandle> => {
    const handle = supervisor.start('kube-apiserver', toolPath('kube-apiserver'), apiserverArgs);
    await waitFor(
      'kube-apiserver /readyz',
      async () => {
        const res = await probe(`${server}/readyz`, {
          caFile: ca.certFile,
          certFile: admin.certFile,
          keyFile: admin.keyFile,
        });
        return res.status === 200 ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250, process: handle },
    );
    return handle;
  };
  const apiserver = await startApiServer();
  const plane = { server, ca, admin, etcdUrl: etcd.url, etcd: etcd.handle, apiserver };
  const kubeconfig = await writeKubeconfig(plane, admin, join(dir, 'kubeconfig'), 'admin');
  const controlPlane: ControlPlane = {
    ...plane,
    kubeconfig,
    restartApiServer: async () => {
      await controlPlane.apiserver.stop();
      controlPlane.apiserver = await startApiServer();
      return controlPlane.apiserver;
    },
  };
  return controlPlane;
};
