// Issue 16 with the real Argo CD application-controller and repo-server: an Application whose source is a
// chart of an HTTP Helm repository (real nginx serving charts packaged and signed by the real helm with a real
// GnuPG key, indexed by `helm repo index`) syncs the signed chart; the same version is re-published with a
// privileged init container (no provenance); tagguard holds the Application (auto-sync off: an exact version
// has nothing to pin to) and the attacker's Deployment never reaches the API server, also after a hard
// refresh. Then a range: Argo CD and tagguard pick the same version, whose re-publish is held too. Own
// namespaces and --watch-namespace, so that it runs beside test/e2e/argocd.test.ts.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import { KubeTestClient } from '../env/kube.ts';
import { createToolHome, type ToolHome } from '../env/tool-home.ts';
import { packageChart } from '../env/charts.ts';
import { execFileSync } from 'node:child_process';
import { startNginx, type NginxServer } from '../env/nginx.ts';
import { startInProcessOperator } from '../env/operator.ts';
import { avObject, condition, eventReasons, judged, requestCheck, until, waitForAv } from '../env/av.ts';
import { e2eNamespace } from '../env/flux-e2e.ts';
import { ProcessSupervisor } from '../env/processes.ts';
import { ARGOCD_API, requestHardRefresh, startArgoCd, type ArgoCd } from '../env/argocd.ts';
import { isPrivileged, watchDeployments } from '../env/deployment-watch.ts';
import {
  createHelmWorkspace,
  SIGNER,
  type HelmWorkspace,
} from '../integration/registry/helm-repository/helm-repo-fixture.ts';
import type { RunningOperator } from '../../src/cli/run-command.ts';

const env = inject('testEnv');
const ns = e2eNamespace('argo-http');
const NAME = 'payment';
const VERSION = '1.4.0';
const destination = `${ns}-${NAME}`;
let kube: KubeTestClient;
let home: ToolHome;
let ws: HelmWorkspace;
let repoDir: string;
let nginx: NginxServer;
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

const automated = { prune: true, selfHeal: true };

const readApp = (name: string = NAME): Promise<Application> =>
  kube.read<Application>(ARGOCD_API, 'Application', name, ns);

const waitApp = async (what: string, predicate: (app: Application) => boolean): Promise<Application> => {
  let last: Application | undefined;
  await until(`Application ${NAME}: ${what}`, 120_000, async () => {
    last = await readApp();
    return predicate(last);
  }).catch((error: unknown) => {
    throw new Error(`${String(error)}\nlast status: ${JSON.stringify(last?.status, null, 2)}`);
  });
  return last as Application;
};

const readDeployment = (): Promise<V1Deployment> =>
  kube.read<V1Deployment & KubernetesObject>('apps/v1', 'Deployment', NAME, destination);

/**
 * Publishes chart `name` at `version` (default payment VERSION) into the repository directory (replacing what was there) and re-indexes
 * it with `helm repo index`: signed by `helm package --sign` (a .prov beside it), or unsigned (no .prov).
 */
const publish = async (malicious: boolean, sign: boolean, name = NAME, version = VERSION): Promise<void> => {
  const dir = await mkdtemp(join(tmpdir(), 'tagguard-argo-http-'));
  const built = await packageChart(home, dir, { name, version, maliciousInitContainer: malicious });
  // helm signs while it packages: unpack the chart and package it again with the GnuPG key.
  const src = join(dir, 'src');
  await mkdir(src);
  execFileSync('tar', ['-xzmf', built, '-C', src]);
  await rm(join(repoDir, `${name}-${version}.tgz.prov`), { force: true });
  const signing = sign ? ['--sign', '--key', SIGNER, '--keyring', join(ws.dir, 'secring.gpg')] : [];
  await ws.helm(['package', join(src, name), '--destination', repoDir, ...signing]);
  await ws.index(repoDir);
  await rm(dir, { recursive: true, force: true });
};

const syncedTo = (app: Application, revision: string): boolean =>
  app.status?.sync?.status === 'Synced' &&
  app.status.sync.revision === revision &&
  app.status.operationState?.phase === 'Succeeded';

beforeAll(async () => {
  kube = KubeTestClient.fromFile(env.kubeconfig);
  home = await createToolHome(env);
  ws = await createHelmWorkspace();
  repoDir = join(ws.dir, 'repo');
  await mkdir(repoDir, { recursive: true });
  const dir = join(env.runDir, ns);
  await mkdir(dir, { recursive: true });
  supervisor = new ProcessSupervisor(dir);
  nginx = await startNginx(supervisor, dir, { name: 'charts', root: repoDir });
  [argocd, operator] = await Promise.all([
    startArgoCd(supervisor, dir, env.kubeconfig, { namespace: ns, resyncSeconds: 600 }),
    startInProcessOperator(env, ['--argocd-namespace', ns, '--watch-namespace', ns]),
  ]);
  console.log(`Argo CD ready in ${argocd.startSeconds} s`);
}, 240_000);

afterAll(async () => {
  await operator?.shutdown('test done');
  await argocd?.stop();
  await supervisor?.stopAll();
  await ws?.remove();
});

describe('Argo CD Application from an HTTP Helm repository', () => {
  it(
    'syncs the signed chart, holds on the re-published version and never applies it',
    { timeout: 600_000 },
    async () => {
      await publish(false, true);
      const publicKey = (await ws.gpg.run(['--armor', '--export', SIGNER])).toString('utf8');
      await kube.apply(
        avObject(ns, NAME, {
          sourceRef: { kind: 'Application', name: NAME },
          verify: { provenance: [{ name: 'release', publicKey }] },
        }),
      );
      await kube.apply({
        apiVersion: ARGOCD_API,
        kind: 'Application',
        metadata: { name: NAME, namespace: ns },
        spec: {
          project: 'default',
          source: {
            repoURL: nginx.url,
            chart: NAME,
            targetRevision: VERSION,
            helm: { valuesObject: { replicas: 3 } },
          },
          destination: { server: 'https://kubernetes.default.svc', namespace: destination },
          syncPolicy: { automated, syncOptions: ['CreateNamespace=true'] },
        },
      } as KubernetesObject);

      await waitApp(`synced to ${VERSION}`, (app) => syncedTo(app, VERSION));
      const deployed = await readDeployment();
      expect(deployed.spec?.replicas).toBe(3);
      expect(isPrivileged(deployed)).toBe(false);
      const trusted = await waitForAv(
        kube,
        ns,
        NAME,
        'Ready=True',
        (o) => condition(o, 'Ready')?.status === 'True',
      );
      expect(trusted.status?.artifact).toMatchObject({ tag: VERSION });
      const goodDigest = trusted.status?.artifact?.digest;
      expect(goodDigest).toMatch(/^sha256:[0-9a-f]{64}$/);

      const history = await watchDeployments(kube, destination);
      try {
        await publish(true, false);
        await requestCheck(kube, ns, NAME);
        const held = await waitForAv(
          kube,
          ns,
          NAME,
          'Held=True',
          (o) => condition(o, 'Held')?.status === 'True' && judged(o),
        );
        expect(condition(held, 'TagMutated')?.status).toBe('True');
        expect(held.status?.artifact?.digest).not.toBe(goodDigest);
        const app = await readApp();
        const annotations = app.metadata?.annotations ?? {};
        expect(annotations['tagguard.dev/held-by']).toBe(`${ns}/${NAME}`);
        // Action Pin (the default) has no field for an exact version: it falls back to auto-sync off.
        expect(app.spec.syncPolicy?.automated).toBeUndefined();
        expect(JSON.parse(annotations['tagguard.dev/pre-hold'] ?? '{}')).toEqual({
          'spec.syncPolicy.automated': automated,
        });
        await until('Held Event on the Application', 10_000, async () =>
          (await eventReasons(kube, ns, NAME, 'Application')).includes('Held'),
        );

        // A hard refresh makes Argo CD pull the chart again: it sees the attacker's chart but does not apply it.
        const pulls = async (): Promise<number> =>
          (await nginx.accessLog()).filter((e) => e.uri === `/${NAME}-${VERSION}.tgz` && e.status === 200)
            .length;
        const pullsBefore = await pulls();
        await requestHardRefresh(kube, ns, NAME);
        // Argo CD pulled the re-published archive and compared it: OutOfSync, and nothing applied.
        await waitApp(
          'hard refresh done, OutOfSync',
          (a) =>
            a.metadata?.annotations?.['argocd.argoproj.io/refresh'] === undefined &&
            a.status?.sync?.status === 'OutOfSync',
        );
        expect(await pulls()).toBeGreaterThan(pullsBefore);
        await new Promise((r) => setTimeout(r, 5000));
        const during = await readDeployment();
        expect(isPrivileged(during)).toBe(false);
        expect(during.metadata?.resourceVersion).toBe(deployed.metadata?.resourceVersion);
        expect(history.privileged()).toEqual([]);
        expect((await readApp()).spec.syncPolicy?.automated).toBeUndefined();
      } finally {
        history.stop();
      }
    },
  );

  // A range: Argo CD's MaxVersion (a prerelease is not admitted) and tagguard's argocd-helm rule pick the
  // same entry; a re-publish of that entry is held the same way (a range has no pin yet: auto-sync off).
  it(
    'judges the version Argo CD picks for a range and holds on its re-publish',
    { timeout: 600_000 },
    async () => {
      const name = 'billing';
      const target = `${ns}-${name}`;
      for (const version of ['1.3.0', '1.4.2', '1.5.0-rc.1', '2.0.0'])
        await publish(false, true, name, version);
      const publicKey = (await ws.gpg.run(['--armor', '--export', SIGNER])).toString('utf8');
      await kube.apply(
        avObject(ns, name, {
          sourceRef: { kind: 'Application', name },
          verify: { provenance: [{ name: 'release', publicKey }] },
        }),
      );
      await kube.apply({
        apiVersion: ARGOCD_API,
        kind: 'Application',
        metadata: { name, namespace: ns },
        spec: {
          project: 'default',
          source: { repoURL: nginx.url, chart: name, targetRevision: '>=1.0.0 <2' },
          destination: { server: 'https://kubernetes.default.svc', namespace: target },
          syncPolicy: { automated, syncOptions: ['CreateNamespace=true'] },
        },
      } as KubernetesObject);
      let last: Application | undefined;
      await until(`${name} synced to 1.4.2`, 120_000, async () => {
        last = await readApp(name);
        return syncedTo(last, '1.4.2');
      }).catch((error: unknown) => {
        throw new Error(`${String(error)}\nlast status: ${JSON.stringify(last?.status, null, 2)}`);
      });
      const trusted = await waitForAv(
        kube,
        ns,
        name,
        'Ready=True',
        (o) => condition(o, 'Ready')?.status === 'True',
      );
      expect(trusted.status?.artifact?.tag).toBe('1.4.2');
      const history = await watchDeployments(kube, target);
      try {
        await publish(true, false, name, '1.4.2');
        await requestCheck(kube, ns, name);
        await waitForAv(
          kube,
          ns,
          name,
          'Held=True',
          (o) => condition(o, 'Held')?.status === 'True' && judged(o),
        );
        expect((await readApp(name)).spec.syncPolicy?.automated).toBeUndefined();
        await requestHardRefresh(kube, ns, name);
        await until(`${name} hard refresh done`, 120_000, async () => {
          const app = await readApp(name);
          return app.metadata?.annotations?.['argocd.argoproj.io/refresh'] === undefined;
        });
        await new Promise((r) => setTimeout(r, 5000));
        expect(history.privileged()).toEqual([]);
      } finally {
        history.stop();
      }
    },
  );
});
