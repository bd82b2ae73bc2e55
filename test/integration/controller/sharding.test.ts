// Sharding (issue 17): two `tagguard run` processes on one API server, each with its own
// --watch-label-selector and Lease, own disjoint sets of ArtifactVerifications. Both shards' CRs hold the
// same OCIRepository; one shard is SIGKILLed and restarted. The operators run as their ServiceAccount under
// config/rbac, on a control plane of this file's own.
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { CoordinationV1Api, type KubernetesObject } from '@kubernetes/client-node';
import { packageChart } from '../../env/charts.ts';
import { pushChart, type PushedArtifact } from '../../env/oci.ts';
import { OPERATOR_NAMESPACE } from '../../env/operator.ts';
import {
  startOperatorCluster,
  startOperatorProcess,
  type OperatorCluster,
  type OperatorProcess,
} from '../../env/operator-process.ts';
import { waitFor } from '../../env/processes.ts';
import { generateCosignKeyPair, signCosignLegacy, type CosignKeyPair } from '../../env/sign.ts';
import { createToolHome, type ToolHome } from '../../env/tool-home.ts';
import { ANNOTATIONS, type ArtifactVerification } from '../../../src/api/artifact-verification.ts';
import { parseHolders } from '../../../src/enforce/hold-record.ts';

const env = inject('testEnv');
const SHARD_LABEL = 'sharding.tagguard.dev/key';
const SOURCE_API = 'source.toolkit.fluxcd.io/v1';

let cluster: OperatorCluster;
let home: ToolHome;
let key: CosignKeyPair;
let ns: string;
let dir: string;
const running: OperatorProcess[] = [];

const startShard = async (shard: string): Promise<OperatorProcess> => {
  const operator = await startOperatorProcess(cluster.supervisor, {
    name: shard,
    kubeconfig: cluster.operatorKubeconfig,
    watchNamespace: ns,
    leaderElect: true,
    extraArgs: [
      '--watch-label-selector',
      `${SHARD_LABEL}=${shard}`,
      '--leader-election-id',
      `tagguard-${shard}`,
    ],
  });
  running.push(operator);
  return operator;
};

const av = (name: string, shard: string): KubernetesObject =>
  ({
    apiVersion: 'tagguard.dev/v1alpha1',
    kind: 'ArtifactVerification',
    metadata: { name, namespace: ns, labels: { [SHARD_LABEL]: shard } },
    spec: {
      sourceRef: { kind: 'OCIRepository', name: 'payment' },
      action: 'Suspend',
      interval: '10m',
      verify: { cosign: [{ name: 'release', publicKey: key.publicKeyPem }] },
    },
  }) as KubernetesObject;

const readAv = (name: string): Promise<ArtifactVerification> =>
  cluster.kube.read<ArtifactVerification & KubernetesObject>(
    'tagguard.dev/v1alpha1',
    'ArtifactVerification',
    name,
    ns,
  );

const readSource = (): Promise<KubernetesObject & { spec?: { suspend?: boolean } }> =>
  cluster.kube.read(SOURCE_API, 'OCIRepository', 'payment', ns);

const holders = async (): Promise<string[]> =>
  parseHolders((await readSource()).metadata?.annotations?.[ANNOTATIONS.heldBy]);

const requestCheck = (name: string) =>
  cluster.kube.mergePatch(
    { apiVersion: 'tagguard.dev/v1alpha1', kind: 'ArtifactVerification', metadata: { name, namespace: ns } },
    {
      metadata: { name, namespace: ns, annotations: { [ANNOTATIONS.requestedAt]: new Date().toISOString() } },
    },
  );

const waitForVerdict = (
  name: string,
  digest: string,
  ready: 'True' | 'False',
): Promise<ArtifactVerification> =>
  waitFor(
    `${name} ${ready === 'True' ? 'trusted' : 'untrusted'} at ${digest.slice(0, 19)}`,
    async () => {
      const o = await readAv(name);
      const readyCondition = o.status?.conditions?.find((c) => c.type === 'Ready');
      return o.status?.artifact?.digest === digest && readyCondition?.status === ready ? o : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );

/** The ArtifactVerifications a process exports series for: the ones it reconciled. */
const reconciledBy = async (operator: OperatorProcess): Promise<string[]> => {
  const body = await operator.metrics();
  const names = [...body.matchAll(/^tagguard_artifact_trusted\{[^}]*name="([^"]+)"[^}]*\}/gm)].map(
    (m) => m[1] ?? '',
  );
  return [...new Set(names)].sort();
};

const leaseHolder = async (name: string): Promise<string | undefined> => {
  const leases = cluster.kube.kubeConfig.makeApiClient(CoordinationV1Api);
  try {
    return (await leases.readNamespacedLease({ namespace: OPERATOR_NAMESPACE, name })).spec?.holderIdentity;
  } catch {
    return undefined;
  }
};

const push = async (name: string, signed: boolean): Promise<PushedArtifact> => {
  // Another chart under the same name and version: a re-push of payment:1.0.0 with other content.
  const chart = await packageChart(home, await mkdtemp(join(dir, 'chart-')), {
    name: 'payment',
    version: '1.0.0',
    extraValues: `marker: ${name}`,
  });
  const artifact = await pushChart(home, env.registries.referrers, ns, chart);
  if (signed) await signCosignLegacy(home, env.registries.referrers, artifact, key);
  return artifact;
};

beforeAll(async () => {
  [cluster, home] = await Promise.all([startOperatorCluster(env, 'sharding'), createToolHome(env)]);
  key = await generateCosignKeyPair(home, 'release');
  dir = await mkdtemp(join(tmpdir(), 'tagguard-sharding-'));
  ns = `shard-${Date.now().toString(36)}`;
  await cluster.kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
});

afterEach(async () => {
  await Promise.all(
    running
      .splice(0)
      .filter((o) => !o.handle.hasExited())
      .map((o) => o.kill('SIGKILL')),
  );
});

afterAll(async () => {
  await cluster?.stop();
});

describe('sharding with --watch-label-selector', () => {
  it('two shards own disjoint CRs, hold one target together, and a killed shard picks up where it left off', async () => {
    const trusted = await push('trusted', true);
    await cluster.kube.apply({
      apiVersion: SOURCE_API,
      kind: 'OCIRepository',
      metadata: { name: 'payment', namespace: ns },
      spec: {
        url: `oci://${trusted.repository}`,
        ref: { tag: trusted.tag },
        interval: '10m',
        insecure: true,
      },
    } as KubernetesObject);
    const [shard1, shard2] = await Promise.all([startShard('shard1'), startShard('shard2')]);
    await cluster.kube.apply(av('one', 'shard1'));
    await cluster.kube.apply(av('two', 'shard2'));
    await cluster.kube.apply(av('unsharded', 'shard3'));
    await Promise.all([
      waitForVerdict('one', trusted.digest, 'True'),
      waitForVerdict('two', trusted.digest, 'True'),
    ]);

    // Each shard reconciled its own CRs only, under its own Lease; nobody took the third shard's.
    expect(await reconciledBy(shard1)).toEqual(['one']);
    expect(await reconciledBy(shard2)).toEqual(['two']);
    expect(await leaseHolder('tagguard-shard1')).toBe(shard1.identity);
    expect(await leaseHolder('tagguard-shard2')).toBe(shard2.identity);
    expect((await readAv('unsharded')).status).toBeUndefined();

    // Shard 1 dies; the tag is re-pushed unsigned. Shard 2's CR holds the source; shard 1's waits.
    await shard1.kill('SIGKILL');
    const attack = await push('attack', false);
    await requestCheck('one');
    await requestCheck('two');
    await waitForVerdict('two', attack.digest, 'False');
    expect((await readSource()).spec?.suspend).toBe(true);
    expect(await holders()).toEqual([`${ns}/two`]);
    expect((await readAv('one')).status?.artifact?.digest).toBe(trusted.digest);

    // Shard 1 comes back and judges its CR: both hold the same target.
    const restarted = await startShard('shard1');
    await waitForVerdict('one', attack.digest, 'False');
    await waitFor('held by both shards', async () => ((await holders()).length === 2 ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    expect(await holders()).toEqual([`${ns}/one`, `${ns}/two`]);
    expect(await reconciledBy(restarted)).toEqual(['one']);

    // The trusted content comes back. Shard 2 releases first: the target stays held by shard 1's CR.
    const restored = await push('restored', true);
    await requestCheck('two');
    await waitForVerdict('two', restored.digest, 'True');
    await waitFor('only one holds', async () => ((await holders()).length === 1 ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    expect(await holders()).toEqual([`${ns}/one`]);
    expect((await readSource()).spec?.suspend).toBe(true);
    await requestCheck('one');
    await waitForVerdict('one', restored.digest, 'True');
    await waitFor('released', async () => ((await holders()).length === 0 ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    // Released exactly as it was: the OCIRepository had no spec.suspend before the hold.
    expect((await readSource()).spec?.suspend).toBeUndefined();
  });
});
