// Measurement (issue 18): with the real Argo CD application-controller and repo-server and tagguard both
// polling every 10 s (Argo CD's --app-resync = tagguard's interval), how often does the attacker's Deployment
// (the chart re-pushed under the same tag with a privileged init container) reach the API server — for an
// Application with a native `oci://` source and one with a Helm-OCI `chart:` source, with tagguard's default
// settings and with Argo CD alone. N trials per mode run side by side, each with its own chart, Application,
// destination namespace and (with tagguard) ArtifactVerification; the attack lands at a random moment of both
// poll cycles. A Deployment watch started before the push sees every version the API server stores. After
// the observation window a hard refresh stands for the repo-server's next cache miss (Helm-OCI charts are
// cached by name and version), and the watch goes on. No asserts.
// With --push, two more modes: tagguard's defaults with push notifications (the registry posts every push
// to `tagguard run --webhook-addr`). Only CNCF distribution sends them, so then every mode pushes to
// distribution: the push modes to an instance notifying tagguard, the others to one that does not.
// Usage: node bench/attack-race-argocd.ts [trials per mode = 20] [--push]
import { mkdir, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import type { KubernetesObject } from '@kubernetes/client-node';
import { startTestEnv } from '../test/env/test-env.ts';
import { KubeTestClient } from '../test/env/kube.ts';
import { ProcessSupervisor } from '../test/env/processes.ts';
import { ARGOCD_API, ociRepositorySecret, requestHardRefresh, startArgoCd } from '../test/env/argocd.ts';
import { watchDeployments } from '../test/env/deployment-watch.ts';
import { createToolHome } from '../test/env/tool-home.ts';
import { packageChart } from '../test/env/charts.ts';
import { pushChart } from '../test/env/oci.ts';
import { generateCosignKeyPair, signCosignLegacy } from '../test/env/sign.ts';
import { startInProcessOperator } from '../test/env/operator.ts';
import { avObject, condition, readAv, until } from '../test/env/av.ts';
import type { RegistryEndpoint } from '../test/env/registries.ts';
import { startNotifyingRegistry } from './notifying-registry.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { push: { type: 'boolean', default: false } },
});
const TRIALS = Number(positionals[0] ?? 20);
const PUSH = values.push;
const INTERVAL_S = 10;
const OBSERVE_MS = 3 * INTERVAL_S * 1000;
const AFTER_REFRESH_MS = 15_000;
const VERSION = '1.0.0';
const ns = 'argocd';

type Form = 'native-oci' | 'helm-oci';
/** push: the registry notifies tagguard of every push (only with tagguard). */
type Mode = { form: Form; tagguard: boolean; push: boolean };
const MODES: readonly Mode[] = [
  { form: 'native-oci', tagguard: true, push: false },
  { form: 'helm-oci', tagguard: true, push: false },
  ...(PUSH
    ? [
        { form: 'native-oci', tagguard: true, push: true } as const,
        { form: 'helm-oci', tagguard: true, push: true } as const,
      ]
    : []),
  { form: 'native-oci', tagguard: false, push: false },
  { form: 'helm-oci', tagguard: false, push: false },
];
const label = (mode: Mode): string =>
  `${mode.form}, ${mode.push ? 'tagguard defaults + push notifications' : mode.tagguard ? 'tagguard defaults' : 'Argo CD alone'}`;

type Application = KubernetesObject & {
  status?: { sync?: { status?: string; revision?: string }; operationState?: { phase?: string } };
};

interface Trial {
  mode: string;
  /** The attacker's Deployment was stored by the API server within the observation window. */
  applied: boolean;
  /** ... or after the hard refresh that stands for the next cache miss. */
  appliedAfterRefresh: boolean;
  /** From the push to the ArtifactVerification's Held=True (a hold, or a pin keeping the attack back). */
  holdMs: number;
  /** From the push to the ArtifactVerification's Verified=False. */
  detectMs: number;
  /** From the push to the first privileged Deployment version; NaN when none. */
  appliedMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const env = await startTestEnv();
const dir = join(env.info.runDir, 'attack-race-argocd');
await mkdir(dir, { recursive: true });
// Its own supervisor (and process-group file) in a subdirectory: the environment's belongs to startTestEnv.
const supervisor = new ProcessSupervisor(dir);
try {
  const kube = KubeTestClient.fromFile(env.info.kubeconfig);
  // Without --push the referrers registry (olareg) as before; with it, distribution for every mode.
  const plain = PUSH ? env.info.registries.tagSchema : env.info.registries.referrers;
  let notifying: RegistryEndpoint | undefined;
  const webhookArgs: string[] = [];
  if (PUSH) {
    const push = await startNotifyingRegistry(kube, supervisor, dir, {
      namespace: ns,
      name: 'tagguard-webhook',
    });
    notifying = push.registry;
    webhookArgs.push(...push.operatorArgs);
  }
  const registryOf = (mode: Mode): RegistryEndpoint => (mode.push && notifying ? notifying : plain);
  const helmOciSecret = (mode: Mode): string => (mode.push ? 'helm-oci-push' : 'helm-oci');
  const home = await createToolHome(env.info);
  const key = await generateCosignKeyPair(home, 'release');
  const argocd = await startArgoCd(supervisor, dir, env.info.kubeconfig, {
    namespace: ns,
    resyncSeconds: INTERVAL_S,
  });
  const operator = await startInProcessOperator(env.info, [
    '--argocd-namespace',
    ns,
    '--watch-namespace',
    ns,
    ...webhookArgs,
  ]);
  for (const mode of MODES.filter((m) => m.form === 'helm-oci'))
    await kube.apply(
      ociRepositorySecret(ns, helmOciSecret(mode), registryOf(mode), { helmOci: 'race-helm' }),
    );

  const chart = async (registry: RegistryEndpoint, repo: string, name: string, malicious: boolean) =>
    pushChart(
      home,
      registry,
      repo,
      await packageChart(home, await mkdtemp(join(tmpdir(), 'tagguard-race-')), {
        name,
        version: VERSION,
        maliciousInitContainer: malicious,
      }),
    );

  const trial = async (mode: Mode, index: number): Promise<Trial> => {
    const name = `${mode.form === 'native-oci' ? 'oci' : 'helm'}-${mode.push ? 'push' : mode.tagguard ? 'tg' : 'alone'}-${index}`;
    const repo = mode.form === 'native-oci' ? 'race-oci' : 'race-helm';
    const destination = `race-${name}`;
    const registry = registryOf(mode);
    const good = await chart(registry, repo, name, false);
    await signCosignLegacy(home, registry, good, key);
    if (mode.form === 'native-oci')
      await kube.apply(ociRepositorySecret(ns, `repo-${name}`, registry, { native: `${repo}/${name}` }));
    await kube.apply({
      apiVersion: ARGOCD_API,
      kind: 'Application',
      metadata: { name, namespace: ns },
      spec: {
        project: 'default',
        source:
          mode.form === 'native-oci'
            ? { repoURL: `oci://${registry.host}/${repo}/${name}`, targetRevision: VERSION, path: '.' }
            : { repoURL: `${registry.host}/${repo}`, chart: name, targetRevision: VERSION },
        destination: { server: 'https://kubernetes.default.svc', namespace: destination },
        syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ['CreateNamespace=true'] },
      },
    } as KubernetesObject);
    if (mode.tagguard) {
      // Argo CD's and tagguard's poll cycles start at independent moments, as in a real cluster.
      await sleep(Math.random() * INTERVAL_S * 1000);
      await kube.apply(
        avObject(ns, name, {
          sourceRef: { kind: 'Application', name },
          interval: `${INTERVAL_S}s`,
          verify: { cosign: [{ name: 'release', publicKey: key.publicKeyPem }] },
        }),
      );
    }
    const revision = mode.form === 'native-oci' ? good.digest : VERSION;
    await until(`${name} synced${mode.tagguard ? ' and trusted' : ''}`, 180_000, async () => {
      const app = await kube.read<Application>(ARGOCD_API, 'Application', name, ns);
      const synced =
        app.status?.sync?.status === 'Synced' &&
        app.status.sync.revision === revision &&
        app.status.operationState?.phase === 'Succeeded';
      return (
        synced && (!mode.tagguard || condition(await readAv(kube, ns, name), 'Ready')?.status === 'True')
      );
    });

    const history = await watchDeployments(kube, destination);
    try {
      // The attack lands at a random moment of both poll cycles; time runs from the moment the push is done.
      await sleep(Math.random() * INTERVAL_S * 1000);
      await chart(registry, repo, name, true);
      const attackAt = performance.now();
      let holdMs = Number.NaN;
      let detectMs = Number.NaN;
      let appliedMs = Number.NaN;
      const observe = async (untilMs: number): Promise<void> => {
        while (performance.now() - attackAt < untilMs) {
          if (Number.isNaN(appliedMs) && history.privileged().length > 0)
            appliedMs = performance.now() - attackAt;
          // Held: the ArtifactVerification says a target is held back (a suspend method, or a pin while the
          // tag points at something untrusted: a pin is on the Application before the attack already).
          if (mode.tagguard && (Number.isNaN(holdMs) || Number.isNaN(detectMs))) {
            const av = await readAv(kube, ns, name);
            const now = performance.now() - attackAt;
            if (Number.isNaN(holdMs) && condition(av, 'Held')?.status === 'True') holdMs = now;
            if (Number.isNaN(detectMs) && condition(av, 'Verified')?.status === 'False') detectMs = now;
          }
          await sleep(200);
        }
      };
      await observe(OBSERVE_MS);
      const applied = history.privileged().length > 0;
      await requestHardRefresh(kube, ns, name);
      await observe(OBSERVE_MS + AFTER_REFRESH_MS);
      return {
        mode: label(mode),
        applied,
        appliedAfterRefresh: history.privileged().length > 0,
        holdMs,
        detectMs,
        appliedMs,
      };
    } finally {
      history.stop();
    }
  };

  const started = performance.now();
  // Batches of a few trials of each mode at a time: 2 cores, and each trial runs helm, cosign, Argo CD's
  // manifest generation and (with tagguard) a scan.
  // With --push six modes: 3 of each keeps about as many trials at a time as 5 of four modes.
  const BATCH = PUSH ? 3 : 5;
  const results: Trial[] = [];
  for (let first = 0; first < TRIALS; first += BATCH) {
    const indexes = Array.from({ length: Math.min(BATCH, TRIALS - first) }, (_, i) => first + i);
    results.push(...(await Promise.all(MODES.flatMap((mode) => indexes.map((i) => trial(mode, i))))));
  }
  const seconds = (values: number[]): { medianS: number | null; maxS: number | null } => {
    const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
    const s = (v: number | undefined): number | null =>
      v === undefined ? null : Number((v / 1000).toFixed(1));
    return { medianS: s(sorted[Math.floor(sorted.length / 2)]), maxS: s(sorted.at(-1)) };
  };
  const summary = (mode: Mode) => {
    const rows = results.filter((r) => r.mode === label(mode));
    return {
      mode: label(mode),
      trials: rows.length,
      attackerDeploymentApplied: rows.filter((r) => r.applied).length,
      appliedAfterHardRefresh: rows.filter((r) => r.appliedAfterRefresh).length,
      pushToApplied: seconds(rows.map((r) => r.appliedMs)),
      ...(mode.tagguard
        ? {
            held: rows.filter((r) => !Number.isNaN(r.holdMs)).length,
            pushToHold: seconds(rows.map((r) => r.holdMs)),
            pushToVerifiedFalse: seconds(rows.map((r) => r.detectMs)),
          }
        : {}),
    };
  };
  console.log(
    JSON.stringify(
      {
        benchmark: 'attack-race-argocd',
        argocdStartSeconds: argocd.startSeconds,
        intervalSeconds: INTERVAL_S,
        registries: Object.fromEntries(
          MODES.map((m) => [label(m), `${registryOf(m).kind}${m.push ? ' notifying tagguard' : ''}`]),
        ),
        observeSeconds: OBSERVE_MS / 1000,
        afterHardRefreshSeconds: AFTER_REFRESH_MS / 1000,
        wallSeconds: Math.round((performance.now() - started) / 1000),
        results: MODES.map(summary),
      },
      null,
      2,
    ),
  );
  await operator.shutdown('done');
  await argocd.stop();
} finally {
  await supervisor.stopAll();
  await env.stop();
}
