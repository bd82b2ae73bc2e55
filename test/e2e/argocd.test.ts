// Issue 7 flow 4 and issue 18 with the real Argo CD application-controller and repo-server: an Application
// with a Helm-OCI source (`chart` + repoURL without scheme) or a native `oci://` source syncs a signed chart
// into the test API server; the tag is re-pushed with a privileged init container; tagguard holds the
// Application (its default settings and each suspend method) and the attacker's Deployment never reaches the
// API server, also after a hard refresh; the good digest comes back, tagguard restores the Application byte
// for byte and Argo CD syncs it again. Argo CD's own resync is long here so that every refresh in a case is
// one the test asks for: the race between the two polls is what bench/attack-race-argocd.ts measures. A
// Helm-OCI release after Argo CD cached the attacker's chart is covered by the hard refresh the release asks.
// The last case: an Application synced before tagguard watches it, pinned, then attacked; judged by the poll alone.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import { KubeTestClient } from '../env/kube.ts';
import { exclusive } from '../env/exclusive.ts';
import { createToolHome, type ToolHome } from '../env/tool-home.ts';
import { packageChart } from '../env/charts.ts';
import { pushChart, retagArtifact, type PushedArtifact } from '../env/oci.ts';
import { generateCosignKeyPair, signCosignLegacy, type CosignKeyPair } from '../env/sign.ts';
import { startInProcessOperator } from '../env/operator.ts';
import { avObject, condition, eventReasons, judged, requestCheck, until, waitForAv } from '../env/av.ts';
import { e2eNamespace } from '../env/flux-e2e.ts';
import { ProcessSupervisor } from '../env/processes.ts';
import {
  ARGOCD_API,
  ociRepositorySecret,
  requestHardRefresh,
  startArgoCd,
  type ArgoCd,
} from '../env/argocd.ts';
import { isPrivileged, watchDeployments } from '../env/deployment-watch.ts';
import type { RunningOperator } from '../../src/cli/run-command.ts';

const env = inject('testEnv');
const registry = env.registries.referrers;
// Argo CD's own namespace: its settings, repository Secrets, the Applications and their ArtifactVerifications.
const ns = e2eNamespace('argo');
const charts = `${ns}-charts`;
const VERSION = '1.4.0';
let kube: KubeTestClient;
let home: ToolHome;
let key: CosignKeyPair;
let supervisor: ProcessSupervisor;
let argocd: ArgoCd;
let operator: RunningOperator;

type Application = KubernetesObject & {
  spec: { syncPolicy?: Record<string, unknown>; source?: Record<string, unknown> };
  status?: {
    sync?: { status?: string; revision?: string };
    operationState?: { phase?: string; syncResult?: { revision?: string } };
  };
};

// Without false fields: Argo CD writes the Application back with Go's omitempty, which drops them.
const automated = { prune: true, selfHeal: true };

const readApp = (name: string): Promise<Application> =>
  kube.read<Application>(ARGOCD_API, 'Application', name, ns);

const waitApp = async (
  name: string,
  what: string,
  predicate: (app: Application) => boolean,
): Promise<Application> => {
  let last: Application | undefined;
  await until(`Application ${name}: ${what}`, 90_000, async () => {
    last = await readApp(name);
    return predicate(last);
  }).catch((error: unknown) => {
    throw new Error(`${String(error)}\nlast status: ${JSON.stringify(last?.status, null, 2)}`);
  });
  return last as Application;
};

const readDeployment = (namespace: string, name: string): Promise<V1Deployment> =>
  kube.read<V1Deployment & KubernetesObject>('apps/v1', 'Deployment', name, namespace);

const push = async (name: string, malicious: boolean): Promise<PushedArtifact> => {
  const dir = await mkdtemp(join(tmpdir(), 'tagguard-argo-'));
  const chart = await packageChart(home, dir, { name, version: VERSION, maliciousInitContainer: malicious });
  return pushChart(home, registry, charts, chart);
};

type Form = 'helm-oci' | 'native-oci';

const application = (name: string, form: Form, destination: string): Application =>
  ({
    apiVersion: ARGOCD_API,
    kind: 'Application',
    metadata: { name, namespace: ns },
    spec: {
      project: 'default',
      source:
        form === 'helm-oci'
          ? {
              repoURL: `${registry.host}/${charts}`,
              chart: name,
              targetRevision: VERSION,
              helm: { valuesObject: { replicas: 3 } },
            }
          : {
              repoURL: `oci://${registry.host}/${charts}/${name}`,
              targetRevision: VERSION,
              path: '.',
              helm: { valuesObject: { replicas: 3 } },
            },
      destination: { server: 'https://kubernetes.default.svc', namespace: destination },
      syncPolicy: { automated, syncOptions: ['CreateNamespace=true'] },
    },
  }) as unknown as Application;

/** Argo CD applied what it synced: the operation finished and the revision it names is the tag's. */
const syncedTo = (app: Application, revision: string): boolean =>
  app.status?.sync?.status === 'Synced' &&
  app.status.sync.revision === revision &&
  app.status.operationState?.phase === 'Succeeded';

let releaseLock: (() => Promise<void>) | undefined;

beforeAll(async () => {
  // One Argo CD e2e file at a time (test/env/exclusive.ts).
  releaseLock = await exclusive(env.runDir, 'argocd');
  kube = KubeTestClient.fromFile(env.kubeconfig);
  home = await createToolHome(env);
  key = await generateCosignKeyPair(home, 'argo');
  const dir = join(env.runDir, ns);
  await mkdir(dir, { recursive: true });
  supervisor = new ProcessSupervisor(dir);
  // A resync of 10 min: every refresh within a case is one that the case asks for (see the top).
  [argocd, operator] = await Promise.all([
    startArgoCd(supervisor, dir, env.kubeconfig, { namespace: ns, resyncSeconds: 600 }),
    startInProcessOperator(env, ['--argocd-namespace', ns, '--watch-namespace', ns]),
  ]);
  console.log(`Argo CD ready in ${argocd.startSeconds} s`);
  await kube.apply(ociRepositorySecret(ns, 'helm-oci', registry, { helmOci: charts }));
}, 1_200_000);

afterAll(async () => {
  await operator?.shutdown('test done');
  await argocd?.stop();
  await supervisor?.stopAll();
  await releaseLock?.();
});

// Default settings: action Pin. A native OCI source is pinned (targetRevision = the verified digest, automated
// sync stays on); a Helm-OCI `chart:` source cannot take a digest, so Pin falls back to DisableAutoSync.
describe.concurrent.each([
  { form: 'helm-oci', method: undefined, name: 'helm-default' },
  { form: 'helm-oci', method: 'DisableAutoSync', name: 'helm-disable' },
  { form: 'helm-oci', method: 'SkipReconcile', name: 'helm-skip' },
  { form: 'native-oci', method: undefined, name: 'oci-default' },
  { form: 'native-oci', method: 'SkipReconcile', name: 'oci-skip' },
] as const)('Argo CD Application, $form, suspend method $method', ({ form, method, name }) => {
  // Pinned: the default action on a native OCI source. The others are held by their suspend method (with
  // the default action that is Pin's fallback; SkipReconcile cases name action Suspend).
  const pinned = form === 'native-oci' && method === undefined;
  it('syncs the signed chart, never applies the re-pushed one, and syncs again once the tag is restored', async () => {
    const destination = `${ns}-${name}`;
    const good = await push(name, false);
    await signCosignLegacy(home, registry, good, key);
    if (form === 'native-oci')
      await kube.apply(ociRepositorySecret(ns, `repo-${name}`, registry, { native: `${charts}/${name}` }));
    await kube.apply(
      avObject(ns, name, {
        sourceRef: { kind: 'Application', name },
        ...(method ? { action: 'Suspend', argocd: { suspendMethod: method } } : {}),
        verify: { cosign: [{ name: 'release', publicKey: key.publicKeyPem }] },
      }),
    );
    await kube.apply(application(name, form, destination));

    // Argo CD syncs the signed chart: Helm-OCI names the version, native OCI the digest the tag resolved to.
    const revision = form === 'helm-oci' ? VERSION : good.digest;
    const synced = await waitApp(name, `synced to ${revision}`, (app) => syncedTo(app, revision));
    expect(synced.status?.operationState?.syncResult?.revision).toBe(revision);
    const deployed = await readDeployment(destination, name);
    expect(deployed.spec?.replicas).toBe(3);
    expect(isPrivileged(deployed)).toBe(false);
    const trusted = await waitForAv(
      kube,
      ns,
      name,
      'Ready=True',
      (o) => condition(o, 'Ready')?.status === 'True',
    );
    expect(trusted.status?.artifact).toMatchObject({ tag: VERSION, digest: good.digest });
    if (pinned) {
      const gated = await waitForAv(
        kube,
        ns,
        name,
        'Gated=True',
        (o) => condition(o, 'Gated')?.status === 'True',
      );
      expect(condition(gated, 'Held')?.reason).toBe('PinnedToVerified');
      expect((await readApp(name)).spec.source?.['targetRevision']).toBe(good.digest);
    } else if (method === undefined) {
      const ungated = await waitForAv(
        kube,
        ns,
        name,
        'Gated=False',
        (o) => condition(o, 'Gated')?.reason === 'PinUnavailable',
      );
      expect(condition(ungated, 'Gated')?.message).toContain(`Application/${ns}/${name}`);
      expect(await eventReasons(kube, ns, name)).toContain('PinUnavailable');
    }
    const before = await readApp(name);

    // Every version of the Deployment the API server stores from here on.
    const history = await watchDeployments(kube, destination);
    try {
      const evil = await push(name, true);
      await requestCheck(kube, ns, name);
      const held = await waitForAv(
        kube,
        ns,
        name,
        'Held=True',
        (o) => condition(o, 'Held')?.status === 'True' && judged(o),
      );
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
      } else if (method === 'SkipReconcile') {
        expect(annotations['argocd.argoproj.io/skip-reconcile']).toBe('true');
        expect(app.spec.syncPolicy?.automated).toEqual(automated);
      } else if (pinned) {
        // Still at the verified digest, still syncing automatically: nothing else was needed.
        expect(app.spec.source?.['targetRevision']).toBe(good.digest);
        expect(app.spec.syncPolicy?.automated).toEqual(automated);
      }
      await until(`${pinned ? 'Pinned' : 'Held'} Event on the Application`, 10_000, async () =>
        (await eventReasons(kube, ns, name, 'Application')).includes(pinned ? 'Pinned' : 'Held'),
      );

      // A hard refresh makes Argo CD fetch the chart again, past its caches: it sees the attacker's chart
      // (OutOfSync) but does not apply it while held. A skipped Application is not refreshed at all.
      await requestHardRefresh(kube, ns, name);
      if (method === 'SkipReconcile') {
        await new Promise((r) => setTimeout(r, 5000));
        const skipped = await readApp(name);
        expect(skipped.metadata?.annotations?.['argocd.argoproj.io/refresh']).toBe('hard');
      } else {
        await waitApp(
          name,
          'hard refresh done',
          (a) => a.metadata?.annotations?.['argocd.argoproj.io/refresh'] === undefined,
        );
      }
      const during = await readDeployment(destination, name);
      expect(isPrivileged(during)).toBe(false);
      expect(during.metadata?.resourceVersion).toBe(deployed.metadata?.resourceVersion);
      expect(history.privileged()).toEqual([]);

      // The good digest returns: tagguard restores exactly what it changed and Argo CD syncs again.
      await retagArtifact(home, registry, good, VERSION);
      await requestCheck(kube, ns, name);
      await waitForAv(
        kube,
        ns,
        name,
        'released',
        (o) => condition(o, 'Held')?.status === 'False' && condition(o, 'Ready')?.status === 'True',
      );
      if (!pinned)
        await until('Released Event on the Application', 10_000, async () =>
          (await eventReasons(kube, ns, name, 'Application')).includes('Released'),
        );
      const after = await readApp(name);
      expect(JSON.stringify(after.spec)).toBe(JSON.stringify(before.spec));
      const { 'argocd.argoproj.io/refresh': _refresh, ...afterAnnotations } =
        after.metadata?.annotations ?? {};
      expect(afterAnnotations).toEqual(before.metadata?.annotations ?? {});
      // The release asked Argo CD for a hard refresh in the same write: a chart version whose manifests the
      // repo-server cached from the attacker's chart during the hold (the hard refresh above did that) is
      // rendered afresh before automated sync applies anything.
      await new Promise((r) => setTimeout(r, 5000));
      expect(history.privileged()).toEqual([]);
      await requestHardRefresh(kube, ns, name);
      await waitApp(
        name,
        `synced to ${revision} again`,
        (a) => a.metadata?.annotations?.['argocd.argoproj.io/refresh'] === undefined && syncedTo(a, revision),
      );
      expect(isPrivileged(await readDeployment(destination, name))).toBe(false);
      expect(history.privileged()).toEqual([]);
    } finally {
      history.stop();
    }
  });
});

// Issue 18 regression: a native `oci://` Application that Argo CD already synced, then watched with default
// settings (Pin), is pinned to the verified digest; after a re-push of the tag tagguard's own poll (no check
// requested) must judge the attacker's digest. Before df88858 the Application's pre-hold record could end up
// holding the pinned digest instead of the tag: the poll then watched the digest and never saw the attack.
const POLL_S = 10;
it('judges the re-pushed tag of a pinned native oci:// Application by its own poll', async () => {
  const name = 'oci-adopted';
  const destination = `${ns}-${name}`;
  const good = await push(name, false);
  await signCosignLegacy(home, registry, good, key);
  await kube.apply(ociRepositorySecret(ns, `repo-${name}`, registry, { native: `${charts}/${name}` }));
  await kube.apply({
    apiVersion: ARGOCD_API,
    kind: 'Application',
    metadata: { name, namespace: ns },
    spec: {
      project: 'default',
      source: { repoURL: `oci://${registry.host}/${charts}/${name}`, targetRevision: VERSION, path: '.' },
      destination: { server: 'https://kubernetes.default.svc', namespace: destination },
      syncPolicy: { automated, syncOptions: ['CreateNamespace=true'] },
    },
  } as KubernetesObject);
  // As in a cluster adopting tagguard (and in bench/attack-race-argocd.ts): Argo CD synced the tag first.
  await until(`${name} synced to ${good.digest}`, 120_000, async () => {
    const app = await readApp(name);
    return (
      app.status?.sync?.status === 'Synced' &&
      app.status.sync.revision === good.digest &&
      app.status.operationState?.phase === 'Succeeded'
    );
  });
  await kube.apply(
    avObject(ns, name, {
      sourceRef: { kind: 'Application', name },
      interval: `${POLL_S}s`,
      verify: { cosign: [{ name: 'release', publicKey: key.publicKeyPem }] },
    }),
  );
  await waitForAv(
    kube,
    ns,
    name,
    'Ready=True and Gated=True',
    (o) => condition(o, 'Ready')?.status === 'True' && condition(o, 'Gated')?.status === 'True',
  );
  const pinned = await readApp(name);
  expect(pinned.spec.source?.['targetRevision']).toBe(good.digest);
  // The tag the user wrote, kept where the source adapter reads it back: what the poll watches.
  expect(JSON.parse(pinned.metadata?.annotations?.['tagguard.dev/pre-hold'] ?? '{}')).toEqual({
    'spec.source.targetRevision': VERSION,
  });
  // Argo CD's status writes and its resync go on while the pin stands; give them a cycle.
  await new Promise((r) => setTimeout(r, POLL_S * 1000));

  const evil = await push(name, true);
  // No check requested: tagguard's poll (every 10 s) must see the tag move, within three intervals.
  const judged = await waitForAv(
    kube,
    ns,
    name,
    'Verified=False on the attacker digest',
    (o) => condition(o, 'Verified')?.status === 'False' && o.status?.artifact?.digest === evil.digest,
    3 * POLL_S * 1000,
  );
  expect(condition(judged, 'TagMutated')?.status).toBe('True');
  expect(condition(judged, 'Held')?.status).toBe('True');
  expect((await readApp(name)).spec.source?.['targetRevision']).toBe(good.digest);
});
