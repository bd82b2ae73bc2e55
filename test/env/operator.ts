// Running the operator in tests: an identity for it (a client certificate for the ServiceAccount user
// tagguard-system:tagguard, bound only by config/rbac, so real RBAC decides what it may do) and an
// in-process `tagguard run` with ephemeral ports.
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { loadAllYaml, type KubernetesObject } from '@kubernetes/client-node';
import { writeKubeconfig } from './control-plane.ts';
import { issueCertificate } from './pki.ts';
import { KubeTestClient } from './kube.ts';
import { projectRoot, toolPath } from './paths.ts';
import type { TestEnvInfo } from './test-env.ts';
import { runTool } from './run-tool.ts';
import { parseOperatorConfig } from '../../src/config/operator-config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { startRun, type RunningOperator } from '../../src/cli/run-command.ts';

export const OPERATOR_NAMESPACE = 'tagguard-system';
export const OPERATOR_USER = `system:serviceaccount:${OPERATOR_NAMESPACE}:tagguard`;

/** Applies config/rbac (kustomize build) and returns a kubeconfig authenticating as the operator's ServiceAccount. */
export const operatorKubeconfig = async (env: TestEnvInfo): Promise<string> => {
  const admin = KubeTestClient.fromFile(env.kubeconfig);
  const { stdout } = await runTool('kubectl', ['kustomize', join(projectRoot, 'config', 'rbac')]);
  const objects = (loadAllYaml(stdout) as KubernetesObject[]).filter((o) => o && o.kind);
  await admin.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: OPERATOR_NAMESPACE } });
  await admin.applyAll(objects);
  const dir = await mkdtemp(join(tmpdir(), 'tagguard-operator-'));
  const cert = await issueCertificate({ ...env.kubeCa, certPem: '' }, dir, 'operator', {
    subject: `/O=system:serviceaccounts/O=system:serviceaccounts:${OPERATOR_NAMESPACE}/CN=${OPERATOR_USER}`,
    usage: 'client',
  });
  return writeKubeconfig(
    { server: env.apiServer, ca: { ...env.kubeCa, certPem: '' } },
    cert,
    join(dir, 'kubeconfig'),
  );
};

export const helmBinary = (): string => toolPath('helm');

/**
 * `tagguard run` in this process, under the operator's RBAC, on ephemeral ports. Test files run at the
 * same time against one API server: pass `--watch-namespace <the test's namespace>` so operators do not
 * reconcile each other's ArtifactVerifications.
 */
export const startInProcessOperator = async (
  env: TestEnvInfo,
  extraArgs: readonly string[] = [],
): Promise<RunningOperator> => {
  const kubeconfig = await operatorKubeconfig(env);
  const config = parseOperatorConfig(
    [
      '--kubeconfig',
      kubeconfig,
      '--metrics-addr',
      '127.0.0.1:0',
      '--health-addr',
      '127.0.0.1:0',
      '--helm',
      helmBinary(),
      '--log-level',
      'warn',
      ...extraArgs,
    ],
    { isTty: false },
  );
  return startRun(config, createLogger({ level: 'warn', pretty: false }));
};
