// Issue 7, flow 4: an Argo CD Application deploying a Helm-OCI chart with automated sync. There is no
// Argo CD controller here: the test asserts that tagguard changes the Application exactly as specified
// when the tag is re-pushed (automated sync off, or skip-reconcile) and restores the fields it touched
// byte for byte when the good digest returns.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { KubernetesObject } from '@kubernetes/client-node';
import { KubeTestClient } from '../env/kube.ts';
import { createToolHome, type ToolHome } from '../env/tool-home.ts';
import { packageChart } from '../env/charts.ts';
import { pushChart, retagArtifact, type PushedArtifact } from '../env/oci.ts';
import { generateCosignKeyPair, signCosignLegacy, type CosignKeyPair } from '../env/sign.ts';
import { startInProcessOperator } from '../env/operator.ts';
import { avObject, condition, eventReasons, requestCheck, until, waitForAv } from '../env/av.ts';
import type { RunningOperator } from '../../src/cli/run-command.ts';

const env = inject('testEnv');
const registry = env.registries.referrers;
const ns = `argo-${Math.random().toString(36).slice(2, 7)}`;
const argocdNamespace = 'argocd';
let kube: KubeTestClient;
let home: ToolHome;
let key: CosignKeyPair;
let operator: RunningOperator;

type Application = KubernetesObject & {
  spec: { syncPolicy?: Record<string, unknown>; source?: Record<string, unknown> };
};

const automated = { prune: true, selfHeal: true, allowEmpty: false };

const readApp = (name: string): Promise<Application> =>
  kube.read<Application>('argoproj.io/v1alpha1', 'Application', name, ns);

const pushSigned = async (name: string, version: string): Promise<PushedArtifact> => {
  const dir = await mkdtemp(join(tmpdir(), 'tagguard-argo-'));
  const pushed = await pushChart(
    home,
    registry,
    `${ns}-charts`,
    await packageChart(home, dir, { name, version }),
  );
  await signCosignLegacy(home, registry, pushed, key);
  return pushed;
};

const pushEvil = async (name: string, version: string): Promise<PushedArtifact> => {
  const dir = await mkdtemp(join(tmpdir(), 'tagguard-argo-'));
  return pushChart(
    home,
    registry,
    `${ns}-charts`,
    await packageChart(home, dir, { name, version, maliciousInitContainer: true }),
  );
};

const application = (name: string, chart: string, version: string): Application =>
  ({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: ns },
    spec: {
      project: 'default',
      source: {
        repoURL: `${registry.host}/${ns}-charts`,
        chart,
        targetRevision: version,
        helm: { valuesObject: { replicas: 3 } },
      },
      destination: { server: 'https://kubernetes.default.svc', namespace: 'payments' },
      syncPolicy: { automated, syncOptions: ['CreateNamespace=true'] },
    },
  }) as unknown as Application;

beforeAll(async () => {
  kube = KubeTestClient.fromFile(env.kubeconfig);
  home = await createToolHome(env);
  key = await generateCosignKeyPair(home, 'argo');
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: argocdNamespace } });
  // How Argo CD reaches a plain-HTTP OCI registry: a repository Secret for the Helm-OCI repoURL.
  await kube.apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: `${ns}-repo`,
      namespace: argocdNamespace,
      labels: { 'argocd.argoproj.io/secret-type': 'repository' },
    },
    stringData: {
      type: 'helm',
      url: `${registry.host}/${ns}-charts`,
      enableOCI: 'true',
      insecureOCIForceHttp: 'true',
    },
  } as KubernetesObject);
  operator = await startInProcessOperator(env, [
    '--argocd-namespace',
    argocdNamespace,
    '--watch-namespace',
    ns,
  ]);
});

afterAll(async () => {
  await operator?.shutdown('test done');
});

describe.each([
  { method: 'DisableAutoSync', name: 'payment' },
  { method: 'SkipReconcile', name: 'billing' },
] as const)('Argo CD Application, $method', ({ method, name }) => {
  it('holds the Application when the chart tag is re-pushed and restores exactly what it changed', async () => {
    const good = await pushSigned(name, '1.4.0');
    await kube.apply(application(name, name, '1.4.0'));
    const before = await readApp(name);
    await kube.apply(
      avObject(ns, name, {
        sourceRef: { kind: 'Application', name },
        argocd: { suspendMethod: method },
        verify: { cosign: [{ name: 'release', publicKey: key.publicKeyPem }] },
      }),
    );
    const trusted = await waitForAv(
      kube,
      ns,
      name,
      'Ready=True',
      (o) => condition(o, 'Ready')?.status === 'True',
    );
    expect(trusted.status?.artifact).toMatchObject({ tag: '1.4.0', digest: good.digest });

    const evil = await pushEvil(name, '1.4.0');
    await requestCheck(kube, ns, name);
    const held = await waitForAv(kube, ns, name, 'Held=True', (o) => condition(o, 'Held')?.status === 'True');
    expect(condition(held, 'TagMutated')?.status).toBe('True');
    expect(held.status?.artifact?.digest).toBe(evil.digest);
    expect(held.status?.findings?.map((f) => f.rule)).toContain('privileged-container');
    const app = await readApp(name);
    const annotations = app.metadata?.annotations ?? {};
    expect(annotations['tagguard.dev/held-by']).toBe(`${ns}/${name}`);
    if (method === 'DisableAutoSync') {
      expect(app.spec.syncPolicy?.automated).toBeUndefined();
      expect(app.spec.syncPolicy?.syncOptions).toEqual(['CreateNamespace=true']);
      expect(JSON.parse(annotations['tagguard.dev/pre-hold'] ?? '{}')).toEqual({
        'spec.syncPolicy.automated': automated,
      });
    } else {
      expect(annotations['argocd.argoproj.io/skip-reconcile']).toBe('true');
      expect(app.spec.syncPolicy?.automated).toEqual(automated);
    }
    await until('Held Event on the Application', 10_000, async () =>
      (await eventReasons(kube, ns, name, 'Application')).includes('Held'),
    );

    await retagArtifact(home, registry, good, '1.4.0');
    await requestCheck(kube, ns, name);
    await waitForAv(
      kube,
      ns,
      name,
      'released',
      (o) => condition(o, 'Held')?.status === 'False' && condition(o, 'Ready')?.status === 'True',
    );
    const after = await readApp(name);
    expect(JSON.stringify(after.spec)).toBe(JSON.stringify(before.spec));
    expect(after.metadata?.annotations ?? {}).toEqual(before.metadata?.annotations ?? {});
    await until('Released Event on the Application', 10_000, async () =>
      (await eventReasons(kube, ns, name, 'Application')).includes('Released'),
    );
  });
});
