// The whole integration test environment: a control plane with the Flux, Argo CD and tagguard CRDs,
// and the registries (referrers API and tag-schema only; plain HTTP, TLS, authenticated). Used as the
// integration tests' global setup and by the demo.
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startControlPlane } from './control-plane.ts';
import { createCA, issueCertificate } from './pki.ts';
import { ProcessSupervisor } from './processes.ts';
import { allCrdDirs, runsDir } from './paths.ts';
import { startDistribution, startOlareg, type RegistryEndpoint } from './registries.ts';
import { KubeTestClient } from './kube.ts';

export interface TestEnvInfo {
  /** Directory of this run: logs, certificates, kubeconfig. */
  runDir: string;
  kubeconfig: string;
  apiServer: string;
  /** The control plane's CA, to issue further client certificates (other identities). */
  kubeCa: { certFile: string; keyFile: string };
  installedCrds: string[];
  /** The CA that signed every registry's TLS serving certificate. */
  registryCaFile: string;
  registries: {
    /** OCI 1.1 referrers API, plain HTTP. */
    referrers: RegistryEndpoint;
    /** OCI 1.1 referrers API, TLS. */
    referrersTls: RegistryEndpoint;
    /** No referrers API (tag schema), plain HTTP. */
    tagSchema: RegistryEndpoint;
    /** No referrers API, TLS. */
    tagSchemaTls: RegistryEndpoint;
    /** No referrers API, TLS and htpasswd authentication. */
    authenticated: RegistryEndpoint;
  };
}

export interface TestEnv {
  info: TestEnvInfo;
  /** Owns every process of the environment; more services (Flux controllers, the operator) may join it. */
  supervisor: ProcessSupervisor;
  stop(): Promise<void>;
}

const KEEP_RUNS = 5;

const newRunDir = async (): Promise<string> => {
  await mkdir(runsDir, { recursive: true });
  // Beyond the newest few, only runs older than an hour go: a run dir may belong to a suite still running.
  const cutoff = Date.now() - 60 * 60 * 1000;
  const old = (await readdir(runsDir)).sort().slice(0, -KEEP_RUNS + 1);
  for (const d of old) {
    const modified = (await stat(join(runsDir, d)).catch(() => undefined))?.mtimeMs ?? 0;
    if (modified < cutoff) await rm(join(runsDir, d), { recursive: true, force: true });
  }
  const dir = join(runsDir, new Date().toISOString().replace(/[:.]/g, '-'));
  await mkdir(dir, { recursive: true });
  return dir;
};

export const startTestEnv = async (): Promise<TestEnv> => {
  const runDir = await newRunDir();
  const supervisor = new ProcessSupervisor(runDir);
  try {
    const pki = join(runDir, 'registry-pki');
    await mkdir(pki, { recursive: true });
    const registryCa = await createCA(pki, 'registry-ca');
    const serving = await issueCertificate(registryCa, pki, 'registry', {
      subject: '/CN=registry',
      usage: 'server',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
    });
    const tls = { serving, caFile: registryCa.certFile };
    const data = join(runDir, 'registries');

    const [plane, referrers, referrersTls, tagSchema, tagSchemaTls, authenticated] = await Promise.all([
      startControlPlane(supervisor, runDir),
      startOlareg(supervisor, data, { name: 'olareg' }),
      startOlareg(supervisor, data, { name: 'olareg-tls', tls }),
      startDistribution(supervisor, data, { name: 'distribution' }),
      startDistribution(supervisor, data, { name: 'distribution-tls', tls }),
      startDistribution(supervisor, data, {
        name: 'distribution-auth',
        tls,
        auth: { username: 'tagguard', password: `pw-${Math.random().toString(36).slice(2)}` },
      }),
    ]);

    const kube = KubeTestClient.fromFile(plane.kubeconfig);
    const installedCrds = await kube.installCrds(allCrdDirs());

    const info: TestEnvInfo = {
      runDir,
      kubeconfig: plane.kubeconfig,
      apiServer: plane.server,
      kubeCa: { certFile: plane.ca.certFile, keyFile: plane.ca.keyFile },
      installedCrds,
      registryCaFile: registryCa.certFile,
      registries: { referrers, referrersTls, tagSchema, tagSchemaTls, authenticated },
    };
    await writeFile(join(runDir, 'env.json'), JSON.stringify(info, null, 2));
    return { info, supervisor, stop: () => supervisor.stopAll() };
  } catch (error) {
    await supervisor.stopAll();
    throw error;
  }
};
