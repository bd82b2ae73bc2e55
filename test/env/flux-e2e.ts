// What every end-to-end test against real Flux needs: a namespace, the Flux controllers and tagguard's
// operator watching that namespace, a release and an attacker signing key, and ways to read and wait for
// Flux objects there. One start and one stop per test file.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { RunningOperator } from '../../src/cli/run-command.ts';
import { startFluxControllers, type FluxControllers } from './flux.ts';
import { KubeTestClient } from './kube.ts';
import { startInProcessOperator } from './operator.ts';
import { ProcessSupervisor, waitFor } from './processes.ts';
import { generateCosignKeyPair, type CosignKeyPair } from './sign.ts';
import type { TestEnvInfo } from './test-env.ts';
import { createToolHome, type ToolHome } from './tool-home.ts';

export type FluxObject = KubernetesObject & {
  spec: { suspend?: boolean; ref?: { tag?: string; digest?: string } };
  status?: {
    conditions?: { type: string; status: string }[];
    artifact?: { revision?: string };
    lastAppliedRevision?: string;
  };
};

export interface FluxE2e {
  readonly ns: string;
  readonly kube: KubeTestClient;
  readonly home: ToolHome;
  readonly release: CosignKeyPair;
  readonly attacker: CosignKeyPair;
  readonly flux: FluxControllers;
  readonly operator: RunningOperator;
  read(apiVersion: string, kind: string, name: string): Promise<FluxObject>;
  /** Polls a Flux object in the namespace until `predicate` holds; the error shows its last status. */
  waitFlux(
    apiVersion: string,
    kind: string,
    name: string,
    what: string,
    predicate: (o: FluxObject) => boolean,
  ): Promise<FluxObject>;
  stop(): Promise<void>;
}

export const fluxReady = (o: FluxObject): boolean =>
  o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** A fresh namespace name for one test file. */
export const e2eNamespace = (prefix: string): string => `${prefix}-${Math.random().toString(36).slice(2, 7)}`;

/** Starts Flux and the operator for namespace `ns`, with its own run directory for logs. */
export const startFluxE2e = async (env: TestEnvInfo, ns: string): Promise<FluxE2e> => {
  const kube = KubeTestClient.fromFile(env.kubeconfig);
  const dir = join(env.runDir, ns);
  await mkdir(dir, { recursive: true });
  const supervisor = new ProcessSupervisor(dir);
  const home = await createToolHome(env);
  const [release, attacker] = await Promise.all([
    generateCosignKeyPair(home, 'release'),
    generateCosignKeyPair(home, 'attacker'),
  ]);
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const [flux, operator] = await Promise.all([
    startFluxControllers(supervisor, dir, env.kubeconfig, { namespace: ns }),
    startInProcessOperator(env, ['--watch-namespace', ns]),
  ]);
  const read = (apiVersion: string, kind: string, name: string): Promise<FluxObject> =>
    kube.read<FluxObject>(apiVersion, kind, name, ns);
  return {
    ns,
    kube,
    home,
    release,
    attacker,
    flux,
    operator,
    read,
    waitFlux: (apiVersion, kind, name, what, predicate) => {
      let last: FluxObject | undefined;
      return waitFor(
        `${kind} ${name}: ${what}`,
        async () => {
          last = await read(apiVersion, kind, name);
          return predicate(last) ? last : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 500 },
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}\nlast status: ${JSON.stringify(last?.status)}`, { cause: error });
      });
    },
    stop: async () => {
      await operator.shutdown('test done');
      await flux.stop();
      await supervisor.stopAll();
    },
  };
};
