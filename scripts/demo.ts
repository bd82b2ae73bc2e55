// `make demo`: a narrated attack-and-recovery walkthrough on a local control plane. A signed Helm chart is
// deployed by Flux (OCIRepository + HelmRelease) and by an Argo CD Application; the tag is re-pushed with a
// privileged init container; tagguard detects it, holds both, and releases them when the good digest returns.
// Then the same attack on a classic HTTP Helm repository (nginx, a .prov signed by helm package --sign): the
// version is re-published, and tagguard holds the HelmRelease and its HelmChart. A real Prometheus scrapes
// the operator with the shipped alerts and fires them during the attack. Last, tagguard's own chart is
// published to the registry, signed with cosign, and verified by tagguard.
// Every expected state is awaited with a timeout, so the exit code says whether the story happened.
//
//   node scripts/demo.ts          run the demo, then stop everything (KEEP=1: leave it running)
//   node scripts/demo.ts stop     stop what a KEEP=1 run left running
//
// Environment: KEEP=1, NO_COLOR=1, DEMO_FLUX=auto|1|0 (the Flux controllers switch, below),
// DEMO_IMAGE=<image> (the operator runs from that container image, as config/manager's Deployment runs it:
// test/env/image-run.ts; e.g. localhost/tagguard:demo from scripts/image.sh --bases debian --tag …).
// At the end the operator's RSS (ready, peak, end; sampled every 500 ms) and the demo's duration are printed.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { startTestEnv, type TestEnv } from '../test/env/test-env.ts';
import { startFluxControllers, fluxControllersAvailable, type FluxControllers } from '../test/env/flux.ts';
import { operatorKubeconfig, helmBinary } from '../test/env/operator.ts';
import { KubeTestClient } from '../test/env/kube.ts';
import { logTail, waitFor, ProcessSupervisor, type ServiceHandle } from '../test/env/processes.ts';
import { createToolHome, type ToolHome } from '../test/env/tool-home.ts';
import { packageChart } from '../test/env/charts.ts';
import { pushChart, type PushedArtifact } from '../test/env/oci.ts';
import { generateCosignKeyPair, signCosignBundle, type CosignKeyPair } from '../test/env/sign.ts';
import { runTool } from '../test/env/run-tool.ts';
import {
  RELEASE_SIGNER,
  ATTACKER_SIGNER,
  startHttpChartRepository,
  type HttpChartRepository,
  type PublishedChart,
} from '../test/env/helm-http-repo.ts';
import { freePort } from '../test/env/ports.ts';
import {
  ruleFileText,
  shippedRuleGroups,
  startPrometheus,
  type FiringAlert,
  type PrometheusServer,
} from '../test/env/prometheus.ts';
import { probe } from '../test/env/https-get.ts';
import { projectRoot, testbinDir } from '../test/env/paths.ts';
import {
  CONTAINERS_CONF,
  containerPid,
  imageRunArgs,
  managerDeployment,
  mustRunWithPodman,
  runWithPodman,
  serviceAccountVolume,
} from '../test/env/image-run.ts';
import type { ArtifactVerification, Condition } from '../src/api/artifact-verification.ts';
import { Narrator } from './demo-narrator.ts';
import { DEMO_STEPS, type DemoStep } from './demo-steps.ts';
import { RssSampler, mib, type RssSummary } from './demo-rss.ts';
import {
  ARGOCD_NAMESPACE,
  CHART_VERSION,
  FLUX_NAMESPACE,
  HTTP_NAMESPACE,
  NAME,
  argoObjects,
  artifactVerifications,
  fluxObjects,
  httpRepositoryObjects,
  operatorChartVerification,
  OPERATOR_CHART,
  OPERATOR_NAMESPACE,
} from './demo-manifests.ts';

// ─── The Flux controllers switch ────────────────────────────────────────────────────────────────────────
// DEMO_FLUX=auto (default): start the real Flux source-controller and helm-controller when `make testbin`
// has built them (.testbin/bin/source-controller, .testbin/bin/helm-controller); if they are missing or do not
// become ready, say why and run without them. DEMO_FLUX=1: require them (fail if missing or not ready).
// DEMO_FLUX=0: never start them. Without the controllers the Flux objects still exist and tagguard still
// holds and releases them; only nothing deploys the chart.
type FluxSwitch = 'auto' | 'on' | 'off';

const KEEP_STATE = join(projectRoot, '.testbin', 'demo', 'keep.json');

interface KeepState {
  groups: number[];
  runDir: string;
  tempDirs: string[];
  /** DEMO_IMAGE: the operator's container (podman), removed by `make demo-stop`. */
  containers?: string[];
}

interface DemoSettings {
  keep: boolean;
  flux: FluxSwitch;
  colour: boolean;
  /** DEMO_IMAGE: run the operator from this container image instead of from source. */
  image: string | undefined;
}

const readSettings = (env: NodeJS.ProcessEnv): DemoSettings => {
  const flux = env.DEMO_FLUX ?? 'auto';
  if (!['auto', '1', '0', 'true', 'false'].includes(flux))
    throw new Error(`DEMO_FLUX must be auto, 1 or 0 (got ${JSON.stringify(flux)})`);
  const image = env.DEMO_IMAGE ?? '';
  // A podman image reference, never an option or anything a shell would read.
  if (image !== '' && !/^[a-z0-9][\w.\-/:@]*$/i.test(image))
    throw new Error(`DEMO_IMAGE must be an image reference (got ${JSON.stringify(image)})`);
  return {
    image: image === '' ? undefined : image,
    keep: env.KEEP === '1' || env.KEEP === 'true',
    flux: flux === 'auto' ? 'auto' : flux === '1' || flux === 'true' ? 'on' : 'off',
    colour: process.stdout.isTTY === true && (env.NO_COLOR ?? '') === '' && env.TERM !== 'dumb',
  };
};

/** A state the demo waits for was not reached: names it, what was seen last, and the operator's log. */
class DemoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DemoError';
  }
}

type Av = ArtifactVerification & KubernetesObject;
type FluxObject = KubernetesObject & {
  spec?: { suspend?: boolean };
  status?: { conditions?: Condition[]; artifact?: { revision?: string; digest?: string } };
};
type Deployment = KubernetesObject & {
  spec?: { template?: { spec?: { initContainers?: { name: string }[] } } };
};
type Application = KubernetesObject & { spec?: { syncPolicy?: { automated?: unknown } } };

const condition = (object: { status?: { conditions?: readonly Condition[] } }, type: string) =>
  object.status?.conditions?.find((c) => c.type === type);

const describeConditions = (object: { status?: { conditions?: readonly Condition[] } } | undefined): string =>
  object?.status?.conditions?.map((c) => `${c.type}=${c.status} (${c.reason})`).join(', ') ?? 'no status yet';

const HELD_BY = 'tagguard.dev/held-by';

/** The `for:` of every shipped alert in the demo: 15 minutes of a hold do not fit in it. */
const DEMO_ALERT_FOR = '3s';

class Demo {
  private readonly settings: DemoSettings;
  private readonly say: Narrator;
  private env: TestEnv | undefined;
  private kube: KubeTestClient | undefined;
  private home: ToolHome | undefined;
  private operator: ServiceHandle | undefined;
  /** DEMO_IMAGE: the operator's container; `operator` is then `podman logs --follow` of it. */
  private container: string | undefined;
  private rss: RssSampler | undefined;
  private metricsPort = 0;
  private prometheus: PrometheusServer | undefined;
  private fluxRunning = false;
  private fluxSupervisor: ProcessSupervisor | undefined;
  private good: PushedArtifact | undefined;
  private evil: PushedArtifact | undefined;
  private publicKeyPem = '';
  private releaseKey: CosignKeyPair | undefined;
  private httpRepo: HttpChartRepository | undefined;
  private httpGood: PublishedChart | undefined;
  private httpEvil: PublishedChart | undefined;
  private httpAttackAt = 0;
  private readonly tempDirs: string[] = [];
  private stepIndex = 0;

  constructor(settings: DemoSettings, narrator: Narrator) {
    this.settings = settings;
    this.say = narrator;
  }

  // ─── helpers ──────────────────────────────────────────────────────────────────────────────────────────

  private get k(): KubeTestClient {
    if (!this.kube) throw new Error('the control plane is not running');
    return this.kube;
  }

  private get info() {
    if (!this.env) throw new Error('the test environment is not running');
    return this.env.info;
  }

  private async step(title: DemoStep, body: () => Promise<void>): Promise<void> {
    if (DEMO_STEPS[this.stepIndex] !== title) throw new Error(`step out of order: ${title}`);
    this.stepIndex += 1;
    this.say.begin(title);
    await body();
    this.say.done();
  }

  /** Waits until `check` reports the state reached; `check` returns what it saw either way. */
  private async reach(
    what: string,
    timeoutMs: number,
    check: () => Promise<{ ok: boolean; seen: string }>,
  ): Promise<void> {
    let seen = '(nothing read yet)';
    try {
      await waitFor(
        what,
        async () => {
          const result = await check();
          seen = result.seen;
          return result.ok ? true : undefined;
        },
        { timeoutMs, intervalMs: 500 },
      );
    } catch (error) {
      const cause = error instanceof Error ? error.message.split('\n')[0] : String(error);
      const tail = this.operator
        ? `\n\noperator log (last 25 lines of ${this.operator.logFile}):\n${logTail(this.operator.logFile, 25)}`
        : '';
      throw new DemoError(`not reached: ${what}\n${cause}\nlast seen: ${seen}${tail}`);
    }
    this.say.check(what);
  }

  private async kubectl(args: readonly string[]): Promise<string> {
    // HOME: kubectl keeps its discovery cache under $HOME/.kube; without one it would write into the checkout.
    const { stdout, stderr } = await runTool('kubectl', ['--kubeconfig', this.info.kubeconfig, ...args], {
      env: { HOME: this.info.runDir },
    });
    return `${stdout}${stderr}`;
  }

  /** Runs kubectl and prints the command and its real output. */
  private async show(args: readonly string[]): Promise<string> {
    const output = await this.kubectl(args);
    this.say.command(`kubectl ${args.map(quote).join(' ')}`, output || '(no output)');
    return output;
  }

  private readAv(namespace: string): Promise<Av> {
    return this.k.read<Av>('tagguard.dev/v1alpha1', 'ArtifactVerification', NAME, namespace);
  }

  private readFlux(kind: 'OCIRepository' | 'HelmRelease'): Promise<FluxObject> {
    const apiVersion = kind === 'OCIRepository' ? 'source.toolkit.fluxcd.io/v1' : 'helm.toolkit.fluxcd.io/v2';
    return this.k.read<FluxObject>(apiVersion, kind, NAME, FLUX_NAMESPACE);
  }

  private readApplication(): Promise<Application> {
    return this.k.read<Application>('argoproj.io/v1alpha1', 'Application', NAME, ARGOCD_NAMESPACE);
  }

  private async avState(
    namespace: string,
    what: string,
    timeoutMs: number,
    predicate: (o: Av) => boolean,
  ): Promise<void> {
    await this.reach(`ArtifactVerification ${namespace}/${NAME}: ${what}`, timeoutMs, async () => {
      const object = await this.readAv(namespace);
      return { ok: predicate(object), seen: describeConditions(object) };
    });
  }

  private async pushChart(malicious: boolean): Promise<PushedArtifact> {
    const home = this.home as ToolHome;
    const dir = await mkdtemp(join(home.dir, 'chart-'));
    const tgz = await packageChart(home, dir, {
      name: NAME,
      version: CHART_VERSION,
      maliciousInitContainer: malicious,
    });
    return pushChart(home, this.info.registries.referrers, 'charts', tgz);
  }

  // ─── the steps ────────────────────────────────────────────────────────────────────────────────────────

  async run(): Promise<void> {
    this.say.title(
      'tagguard demo: a re-pushed chart tag is caught, Flux and Argo CD are held, then released; then a chart re-published in an HTTP repository',
    );
    this.say.say(
      [
        'Everything runs locally: etcd + kube-apiserver, an OCI registry, nginx, the Flux controllers and the',
        `operator ${this.settings.image === undefined ? 'from source' : `from the image ${this.settings.image}`}. Every state below is awaited; the demo exits 0 only if all of them were reached.`,
      ].join('\n'),
    );

    await this.step('Start a local control plane and registries', async () => {
      this.env = await startTestEnv();
      this.kube = KubeTestClient.fromFile(this.info.kubeconfig);
      const registry = this.info.registries.referrers;
      this.say.say(
        [
          `kube-apiserver ${this.info.apiServer} (RBAC on), etcd, and the registries; the demo uses`,
          `olareg at ${registry.host} (plain HTTP, OCI 1.1 referrers API).`,
          `CRDs installed: ${this.info.installedCrds.length} (tagguard, Flux, Argo CD).`,
          `kubectl below is ${relative(process.cwd(), join(testbinDir, 'kubectl'))} --kubeconfig ${this.info.kubeconfig}`,
        ].join('\n'),
      );
    });

    await this.step('Start the Flux controllers', () => this.startFlux());
    await this.step('Start the tagguard operator', () => this.startOperator());
    await this.step('Push and sign the chart payment:3.1.0', () => this.pushAndSign());
    await this.step('Create the GitOps objects and their ArtifactVerifications', () => this.createObjects());
    await this.step('tagguard trusts the signed chart', () => this.trusted());
    await this.step('The attack: re-push payment:3.1.0 with a privileged init container', () =>
      this.attack(),
    );
    await this.step('Detection: Verified=False, with the findings', () => this.detection());
    await this.step('Flux and Argo CD are held', () => this.held());
    await this.step('The Events', () => this.events());
    await this.step('The metrics', () => this.metrics());
    await this.step('Prometheus fires TagguardTagMutated and TagguardTargetsHeld', () => this.alerts());
    await this.step('Recovery: point the tag at the good digest again', () => this.recover());
    await this.step('Release: Flux and Argo CD are back as they were', () => this.released());
    await this.step(
      'An HTTP Helm repository: payment 3.1.0 signed by helm package --sign, served by nginx',
      () => this.httpTrusted(),
    );
    await this.step(
      'The attack on the HTTP repository: 3.1.0 re-published (archive, .prov, index.yaml)',
      () => this.httpAttack(),
    );
    await this.step('Detection: Verified=False, the HelmRelease and its HelmChart are held', () =>
      this.httpHeld(),
    );
    await this.step(
      "tagguard's own chart: packaged, pushed, signed with cosign, and verified by tagguard",
      () => this.ownChart(),
    );
  }

  private async startFlux(): Promise<void> {
    const available = fluxControllersAvailable();
    if (this.settings.flux === 'off' || (this.settings.flux === 'auto' && !available)) {
      this.say.warn(
        this.settings.flux === 'off'
          ? 'skipped (DEMO_FLUX=0): the Flux objects will be held and released, but nothing deploys the chart.'
          : 'skipped: source-controller / helm-controller are not in .testbin/bin (make testbin builds them).\n' +
              'The Flux objects will still be held and released; nothing deploys the chart.',
      );
      return;
    }
    // Their own supervisor (logs under <run>/flux/), so a failed start can be stopped on its own.
    const dir = join(this.info.runDir, 'flux');
    await mkdir(dir, { recursive: true });
    this.fluxSupervisor = new ProcessSupervisor(dir);
    let flux: FluxControllers;
    try {
      flux = await startFluxControllers(this.fluxSupervisor, dir, this.info.kubeconfig);
    } catch (error) {
      await this.fluxSupervisor.stopAll();
      if (this.settings.flux === 'on') throw error;
      const reason = (error instanceof Error ? error.message : String(error)).split('\n').slice(0, 3);
      this.say.warn(
        [
          'the Flux controllers did not start, so the demo goes on without them (DEMO_FLUX=1 makes this fatal):',
          ...reason.map((line) => `  ${line.length > 220 ? `${line.slice(0, 220)}…` : line}`),
          `  logs: ${dir}`,
          'The Flux objects will still be held and released; nothing deploys the chart.',
        ].join('\n'),
      );
      return;
    }
    this.fluxRunning = true;
    this.say.say(
      `source-controller (artifacts at ${flux.storageAddress}) and helm-controller, watching all namespaces.`,
    );
    this.say.check('both controllers report /readyz');
  }

  private async startOperator(): Promise<void> {
    // Applies config/rbac (the ServiceAccount tagguard-system:tagguard, ClusterRole tagguard-manager).
    const kubeconfig = await operatorKubeconfig(this.info);
    this.tempDirs.push(dirname(kubeconfig));
    const pid =
      this.settings.image === undefined
        ? await this.startOperatorProcess(kubeconfig)
        : await this.startOperatorImage(this.settings.image);
    this.rss = await RssSampler.start(pid);
    await this.startPrometheus();
  }

  /** The operator from source, as a local process authenticated as its ServiceAccount; returns its pid. */
  private async startOperatorProcess(kubeconfig: string): Promise<number> {
    const env = this.env as TestEnv;
    const [metricsPort, healthPort] = [await freePort(), await freePort()];
    this.metricsPort = metricsPort;
    const args = [
      join(projectRoot, 'src', 'cli', 'main.ts'),
      'run',
      '--kubeconfig',
      kubeconfig,
      '--metrics-addr',
      `127.0.0.1:${metricsPort}`,
      '--health-addr',
      `127.0.0.1:${healthPort}`,
      '--helm',
      helmBinary(),
      '--log-format',
      'json',
    ];
    this.operator = env.supervisor.start('tagguard', process.execPath, args, { cwd: projectRoot });
    this.say.say(
      [
        `node src/cli/main.ts run --kubeconfig <ServiceAccount tagguard-system:tagguard> --helm .testbin/bin/helm`,
        `Runs under the RBAC of config/rbac (ClusterRole tagguard-manager), not as cluster-admin.`,
        `Log: ${this.operator.logFile}`,
      ].join('\n'),
    );
    const operator = this.operator;
    await this.operatorReady(operator, healthPort, 60_000);
    this.say.check(`tagguard /readyz (informers synced); /metrics on 127.0.0.1:${metricsPort}`);
    return operator.pid;
  }

  /** Waits for the operator's /readyz; a failure names its last log lines. */
  private async operatorReady(operator: ServiceHandle, healthPort: number, timeoutMs: number): Promise<void> {
    await waitFor(
      'tagguard /readyz',
      async () => ((await probe(`http://127.0.0.1:${healthPort}/readyz`)).status === 200 ? true : undefined),
      { timeoutMs, intervalMs: 250, process: operator },
    ).catch((error: unknown) => {
      throw new DemoError(
        `not reached: tagguard /readyz\n${String(error)}\n${logTail(operator.logFile, 25)}`,
      );
    });
  }

  /**
   * DEMO_IMAGE: the operator runs from the image exactly as the image test runs it (test/env/image-run.ts):
   * config/manager's args, NODE_OPTIONS and security context as podman flags, in-cluster configuration from a
   * token of the same ServiceAccount. It watches all namespaces, as the Deployment does.
   */
  private async startOperatorImage(image: string): Promise<number> {
    const env = this.env as TestEnv;
    // Never pulled (a miss would try the image's registry): the demo runs what scripts/image.sh built.
    if ((await runWithPodman('podman', ['image', 'exists', image])).code !== 0)
      throw new DemoError(
        `not reached: the image ${image} in podman's storage\nBuild it first: scripts/image.sh --bases debian --tag ${image}`,
      );
    const [metricsPort, healthPort] = [await freePort(), await freePort()];
    this.metricsPort = metricsPort;
    const deployment = await managerDeployment();
    const secrets = await serviceAccountVolume(this.info);
    this.tempDirs.push(secrets);
    const name = `tagguard-demo-${randomBytes(3).toString('hex')}`;
    const args = imageRunArgs(deployment, {
      image,
      name,
      apiServer: this.info.apiServer,
      secretsDir: secrets,
      metricsPort,
      healthPort,
    });
    const started = Date.now();
    // Recorded before it runs: a failed start is removed with the rest.
    this.container = name;
    await mustRunWithPodman('podman', args).catch((error: unknown) => {
      throw new DemoError(`not reached: podman run ${image}\n${String(error)}`);
    });
    // Its output into <run>/tagguard.log like the local process's; it ends when the container does.
    this.operator = env.supervisor.start('tagguard', 'podman', ['logs', '--follow', name], {
      env: { CONTAINERS_CONF },
    });
    const operator = this.operator;
    const flags = args.slice(args.indexOf('--user'), args.indexOf('--volume'));
    this.say.say(
      [
        `podman run --network host ${flags.map(quote).join(' ')} \\`,
        `  --volume <token of ServiceAccount tagguard-system:tagguard>:/var/run/secrets/kubernetes.io/serviceaccount \\`,
        `  ${args
          .slice(args.indexOf('--volume') + 2, args.indexOf(image))
          .map(quote)
          .join(' ')} \\`,
        `  ${image} ${args
          .slice(args.indexOf(image) + 1)
          .map(quote)
          .join(' ')}`,
        `config/manager's Deployment as podman flags (test/env/image-run.ts, as the image test runs it); in-cluster`,
        `configuration from a ServiceAccount token (kubectl create token): the RBAC of config/rbac, all namespaces.`,
        `Container ${name}; log: ${operator.logFile}`,
      ].join('\n'),
    );
    await this.operatorReady(operator, healthPort, 90_000);
    const pid = await containerPid(name);
    this.say.check(
      `tagguard /readyz ${((Date.now() - started) / 1000).toFixed(1)} s after podman run (host pid ${pid}); /metrics on 127.0.0.1:${metricsPort}`,
    );
    return pid;
  }

  /** The operator's RSS through the demo; undefined when it never became ready. */
  async rssSummary(): Promise<RssSummary | undefined> {
    return this.rss?.summary();
  }

  operatorKind(): string {
    return this.settings.image === undefined
      ? 'the local process (node src/cli/main.ts)'
      : `the image ${this.settings.image}`;
  }

  /** The testbin Prometheus scraping the operator with the shipped alerts, only `for:` shortened. */
  private async startPrometheus(): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), 'tagguard-demo-prometheus-'));
    this.tempDirs.push(dir);
    const groups = shippedRuleGroups();
    const durations = [...new Set(groups.flatMap((g) => g.rules.flatMap((r) => (r.for ? [r.for] : []))))];
    this.prometheus = await startPrometheus((this.env as TestEnv).supervisor, {
      dir,
      target: `127.0.0.1:${this.metricsPort}`,
      rules: ruleFileText(groups, { forOverride: DEMO_ALERT_FOR }),
      interval: '1s',
    }).catch((error: unknown) => {
      throw new DemoError(`not reached: prometheus /-/ready\n${String(error)}`);
    });
    this.say.say(
      [
        `prometheus (.testbin/bin, 3.16) at ${this.prometheus.url}: scrapes /metrics every 1s and evaluates the`,
        `alerts of config/prometheus/prometheus-rule.yaml every 1s, expressions as shipped; only for: is shortened`,
        `from ${durations.join(' / ')} to ${DEMO_ALERT_FOR} here (promtool tests prove the real timing).`,
      ].join('\n'),
    );
    this.say.check('prometheus /-/ready');
  }

  private async pushAndSign(): Promise<void> {
    this.home = await createToolHome(this.info);
    this.tempDirs.push(this.home.dir);
    const key = await generateCosignKeyPair(this.home, 'release');
    this.releaseKey = key;
    this.publicKeyPem = key.publicKeyPem;
    this.good = await this.pushChart(false);
    await signCosignBundle(this.home, this.info.registries.referrers, this.good, key);
    this.say.say(
      [
        `helm push payment-3.1.0.tgz oci://${this.info.registries.referrers.host}/charts`,
        `  digest ${this.good.digest}`,
        `cosign sign --key release.key ${this.good.byDigest}`,
        '  (cosign v3: a Sigstore bundle stored as an OCI referrer; offline, no transparency log)',
      ].join('\n'),
    );
  }

  private async createObjects(): Promise<void> {
    const good = this.good as PushedArtifact;
    const chart = { registryHost: this.info.registries.referrers.host, repository: good.repository };
    await this.k.applyAll([...fluxObjects(chart), ...argoObjects(chart)]);
    await this.k.applyAll(artifactVerifications(this.publicKeyPem));
    this.say.say(
      [
        `${`${FLUX_NAMESPACE}/OCIRepository ${NAME}`.padEnd(28)} url oci://${good.repository}, ref.tag ${CHART_VERSION}`,
        `${`${FLUX_NAMESPACE}/HelmRelease ${NAME}`.padEnd(28)} chartRef OCIRepository/${NAME}`,
        `${`${ARGOCD_NAMESPACE}/Application ${NAME}`.padEnd(28)} Helm-OCI source ${chart.registryHost}/charts, chart ${NAME},`,
        `${''.padEnd(28)} targetRevision ${CHART_VERSION}, syncPolicy.automated {prune, selfHeal}`,
        `ArtifactVerifications ${FLUX_NAMESPACE}/${NAME} (sourceRef HelmRelease) and ${ARGOCD_NAMESPACE}/${NAME} (sourceRef Application):`,
        '  verify: one cosign signature by release-key; scan: fail on high; action: Suspend; poll every 10s',
      ].join('\n'),
    );
    if (!this.fluxRunning)
      this.say.warn('Argo CD itself does not run here; its Application is what tagguard holds.');
    else
      this.say.warn('Argo CD itself does not run here (Flux does); its Application is what tagguard holds.');
  }

  private async trusted(): Promise<void> {
    const good = this.good as PushedArtifact;
    for (const namespace of [FLUX_NAMESPACE, ARGOCD_NAMESPACE])
      await this.avState(
        namespace,
        `Ready=True, Verified=True, trusted digest ${good.digest.slice(0, 19)}…`,
        90_000,
        (o) =>
          condition(o, 'Ready')?.status === 'True' &&
          condition(o, 'Verified')?.status === 'True' &&
          o.status?.trustedDigest === good.digest,
      );
    await this.show(['get', 'av', '-A']);
    if (!this.fluxRunning) return;
    await this.reach(
      `Flux deployed ${CHART_VERSION}@${good.digest.slice(0, 19)}… (HelmRelease Ready)`,
      150_000,
      async () => {
        const [repo, release] = await Promise.all([
          this.readFlux('OCIRepository'),
          this.readFlux('HelmRelease'),
        ]);
        return {
          ok:
            repo.status?.artifact?.revision === `${CHART_VERSION}@${good.digest}` &&
            condition(release, 'Ready')?.status === 'True',
          seen: `OCIRepository ${describeConditions(repo)}; HelmRelease ${describeConditions(release)}`,
        };
      },
    );
    await this.show(['get', 'ocirepository,helmrelease', '-n', FLUX_NAMESPACE]);
  }

  private async attack(): Promise<void> {
    this.evil = await this.pushChart(true);
    const evil = this.evil;
    this.say.say(
      [
        'Someone with push access re-pushes the same version with an extra init container:',
        '    initContainers: [{name: setup, image: ghcr.io/attacker/miner:latest, securityContext: {privileged: true}}]',
        `helm push payment-3.1.0.tgz oci://${this.info.registries.referrers.host}/charts   (unsigned)`,
        `  ${CHART_VERSION} now points at ${evil.digest}`,
        `  (was ${(this.good as PushedArtifact).digest})`,
        'Nothing else is touched: tagguard notices on its next poll of the tag (spec.interval 10s).',
      ].join('\n'),
    );
    if (evil.digest === (this.good as PushedArtifact).digest)
      throw new DemoError('the malicious chart has the same digest as the good one');
  }

  private async detection(): Promise<void> {
    const evil = this.evil as PushedArtifact;
    for (const namespace of [FLUX_NAMESPACE, ARGOCD_NAMESPACE])
      await this.avState(
        namespace,
        'TagMutated=True, Verified=False (SignatureMissing), privileged-container finding, Held=True',
        60_000,
        (o) =>
          o.status?.artifact?.digest === evil.digest &&
          condition(o, 'TagMutated')?.status === 'True' &&
          condition(o, 'Verified')?.status === 'False' &&
          condition(o, 'Verified')?.reason === 'SignatureMissing' &&
          condition(o, 'Held')?.status === 'True' &&
          (o.status?.findings ?? []).some(
            (f) => f.rule === 'privileged-container' && f.severity === 'critical',
          ),
      );
    await this.show(['get', 'av', '-A']);
    await this.show([
      'get',
      'av',
      NAME,
      '-n',
      FLUX_NAMESPACE,
      '-o',
      'jsonpath={range .status.conditions[*]}{.type}={.status} {.reason}: {.message}{"\\n"}{end}',
    ]);
    await this.show([
      'get',
      'av',
      NAME,
      '-n',
      FLUX_NAMESPACE,
      '-o',
      'jsonpath={range .status.findings[*]}{.severity} {.rule} {.resource} {.path}{"\\n"}{end}',
    ]);
  }

  private async held(): Promise<void> {
    const good = this.good as PushedArtifact;
    const holder = `${FLUX_NAMESPACE}/${NAME}`;
    await this.reach(
      'OCIRepository and HelmRelease: spec.suspend=true, held-by demo/payment',
      30_000,
      async () => {
        const objects = await Promise.all([this.readFlux('OCIRepository'), this.readFlux('HelmRelease')]);
        return {
          ok: objects.every((o) => o.spec?.suspend === true && o.metadata?.annotations?.[HELD_BY] === holder),
          seen: objects
            .map(
              (o) =>
                `${o.kind} suspend=${String(o.spec?.suspend)} held-by=${o.metadata?.annotations?.[HELD_BY]}`,
            )
            .join('; '),
        };
      },
    );
    await this.show([
      'get',
      'ocirepository,helmrelease',
      '-n',
      FLUX_NAMESPACE,
      '-o',
      'custom-columns=KIND:.kind,NAME:.metadata.name,SUSPEND:.spec.suspend,HELD-BY:.metadata.annotations.tagguard\\.dev/held-by',
    ]);
    const appHolder = `${ARGOCD_NAMESPACE}/${NAME}`;
    await this.reach(
      'Application: syncPolicy.automated removed, held-by argocd/payment',
      30_000,
      async () => {
        const app = await this.readApplication();
        return {
          ok:
            app.spec?.syncPolicy?.automated === undefined &&
            app.metadata?.annotations?.[HELD_BY] === appHolder,
          seen: `automated=${JSON.stringify(app.spec?.syncPolicy?.automated)} held-by=${app.metadata?.annotations?.[HELD_BY]}`,
        };
      },
    );
    await this.show([
      'get',
      'application',
      NAME,
      '-n',
      ARGOCD_NAMESPACE,
      '-o',
      'custom-columns=NAME:.metadata.name,AUTOMATED:.spec.syncPolicy.automated,HELD-BY:.metadata.annotations.tagguard\\.dev/held-by,PRE-HOLD:.metadata.annotations.tagguard\\.dev/pre-hold',
    ]);
    if (!this.fluxRunning) return;
    const repo = await this.readFlux('OCIRepository');
    if (repo.status?.artifact?.revision !== `${CHART_VERSION}@${good.digest}`)
      throw new DemoError(
        `Flux fetched the re-pushed chart before the hold: revision ${repo.status?.artifact?.revision}`,
      );
    this.say.check(`Flux still serves the good revision ${CHART_VERSION}@${good.digest.slice(0, 19)}…`);
    await this.show([
      'get',
      'deployment',
      NAME,
      '-n',
      FLUX_NAMESPACE,
      '-o',
      'custom-columns=DEPLOYMENT:.metadata.name,INIT-CONTAINERS:.spec.template.spec.initContainers[*].name,IMAGE:.spec.template.spec.containers[*].image',
    ]);
  }

  private async events(): Promise<void> {
    const want: [string, string][] = [
      [FLUX_NAMESPACE, 'TagMutated'],
      [FLUX_NAMESPACE, 'VerificationFailed'],
      [FLUX_NAMESPACE, 'Held'],
      [ARGOCD_NAMESPACE, 'Held'],
    ];
    await this.reach(`Events ${want.map(([ns, r]) => `${ns}:${r}`).join(', ')}`, 30_000, async () => {
      const seen: string[] = [];
      for (const namespace of [FLUX_NAMESPACE, ARGOCD_NAMESPACE]) {
        const list = (await this.k.objects.list('events.k8s.io/v1', 'Event', namespace)) as {
          items: { reason?: string; reportingController?: string }[];
        };
        for (const e of list.items)
          if (e.reportingController === 'tagguard.dev/controller')
            seen.push(`${namespace}:${e.reason ?? ''}`);
      }
      return {
        ok: want.every(([ns, r]) => seen.includes(`${ns}:${r}`)),
        seen: [...new Set(seen)].join(', '),
      };
    });
    for (const namespace of [FLUX_NAMESPACE, ARGOCD_NAMESPACE])
      await this.show([
        'get',
        'events',
        '-n',
        namespace,
        '--field-selector',
        'reportingComponent=tagguard.dev/controller',
        '--sort-by',
        '.metadata.creationTimestamp',
      ]);
  }

  private async scrapeMetrics(): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`);
    return response.text();
  }

  private async metrics(): Promise<void> {
    const wanted = [
      'tagguard_tag_mutations_total',
      'tagguard_verifications_total',
      'tagguard_scan_findings',
      'tagguard_held_targets',
      'tagguard_artifact_trusted',
    ];
    let body = '';
    await this.reach(
      `tagguard_held_targets{namespace="${FLUX_NAMESPACE}",name="${NAME}"} 2 and tagguard_artifact_trusted 0`,
      30_000,
      async () => {
        body = await this.scrapeMetrics();
        const held = metricValue(body, 'tagguard_held_targets', FLUX_NAMESPACE);
        const trusted = metricValue(body, 'tagguard_artifact_trusted', FLUX_NAMESPACE);
        const mutations = metricValue(body, 'tagguard_tag_mutations_total', FLUX_NAMESPACE);
        return {
          ok: held === 2 && trusted === 0 && (mutations ?? 0) >= 1,
          seen: `held_targets=${held} artifact_trusted=${trusted} tag_mutations_total=${mutations}`,
        };
      },
    );
    const lines = body
      .split('\n')
      .filter((line) => wanted.some((name) => line.startsWith(`${name}{`)) && / [1-9][0-9.e+]*$/.test(line));
    this.say.command(
      `curl -s http://127.0.0.1:${this.metricsPort}/metrics | grep -E '^(${wanted.join('|')})\\{' | grep -v ' 0$'`,
      lines.join('\n'),
    );
  }

  private async alerts(): Promise<void> {
    const prometheus = this.prometheus as PrometheusServer;
    const wanted = ['TagguardTagMutated', 'TagguardTargetsHeld'];
    const firing = (alerts: readonly FiringAlert[], name: string): boolean =>
      alerts.some(
        (a) =>
          a.name === name &&
          a.state === 'firing' &&
          a.labels.namespace === FLUX_NAMESPACE &&
          a.labels.name === NAME,
      );
    let alerts: FiringAlert[] = [];
    await this.reach(
      `Prometheus: ${wanted.join(' and ')} firing for ${FLUX_NAMESPACE}/${NAME}`,
      60_000,
      async () => {
        alerts = await prometheus.alerts();
        return {
          ok: wanted.every((name) => firing(alerts, name)),
          seen:
            alerts.map((a) => `${a.name} ${a.state} ${a.labels.namespace}/${a.labels.name}`).join(', ') ||
            'no alerts',
        };
      },
    );
    const rows = [...alerts]
      .sort((a, b) => `${a.name}${a.labels.namespace}`.localeCompare(`${b.name}${b.labels.namespace}`))
      .map((a) =>
        [
          a.name.padEnd(27),
          a.state.padEnd(8),
          (a.labels.severity ?? '').padEnd(9),
          `${a.labels.namespace ?? ''}/${a.labels.name ?? ''}`.padEnd(16),
          String(Number(a.value)),
        ].join(' '),
      );
    this.say.say(
      [
        `GET ${prometheus.url}/api/v1/alerts`,
        `  ${'ALERT'.padEnd(27)} ${'STATE'.padEnd(8)} ${'SEVERITY'.padEnd(9)} ${'CR'.padEnd(16)} VALUE`,
        ...rows.map((row) => `  ${row}`),
        `(for: ${DEMO_ALERT_FOR} in the demo; shipped: TagguardTargetsHeld waits 15m, see docs/operations.md#alerts)`,
      ].join('\n'),
    );
  }

  private async recover(): Promise<void> {
    const good = this.good as PushedArtifact;
    await runTool('oras', ['tag', '--plain-http', good.byDigest, CHART_VERSION], {
      env: (this.home as ToolHome).env,
    });
    this.say.say(
      [
        `oras tag --plain-http ${good.byDigest} ${CHART_VERSION}`,
        `  ${CHART_VERSION} points at the signed digest again; resume: Automatic lets tagguard release on its own.`,
      ].join('\n'),
    );
  }

  private async released(): Promise<void> {
    const good = this.good as PushedArtifact;
    for (const namespace of [FLUX_NAMESPACE, ARGOCD_NAMESPACE])
      await this.avState(
        namespace,
        `Ready=True, Held=False, trusted digest ${good.digest.slice(0, 19)}…`,
        60_000,
        (o) =>
          condition(o, 'Ready')?.status === 'True' &&
          condition(o, 'Held')?.status === 'False' &&
          o.status?.artifact?.digest === good.digest &&
          o.status?.trustedDigest === good.digest,
      );
    await this.show(['get', 'av', '-A']);
    await this.reach(
      'OCIRepository and HelmRelease: spec.suspend gone, no tagguard annotations',
      30_000,
      async () => {
        const objects = await Promise.all([this.readFlux('OCIRepository'), this.readFlux('HelmRelease')]);
        return {
          ok: objects.every((o) => o.spec?.suspend === undefined && !hasTagguardAnnotations(o)),
          seen: objects.map((o) => `${o.kind} suspend=${String(o.spec?.suspend)}`).join('; '),
        };
      },
    );
    await this.reach(
      'Application: syncPolicy.automated back to {prune: true, selfHeal: true}',
      30_000,
      async () => {
        const app = await this.readApplication();
        const automated = JSON.stringify(app.spec?.syncPolicy?.automated);
        return {
          ok: automated === JSON.stringify({ prune: true, selfHeal: true }) && !hasTagguardAnnotations(app),
          seen: `automated=${automated}`,
        };
      },
    );
    await this.show([
      'get',
      'ocirepository,helmrelease',
      '-n',
      FLUX_NAMESPACE,
      '-o',
      'custom-columns=KIND:.kind,NAME:.metadata.name,SUSPEND:.spec.suspend,HELD-BY:.metadata.annotations.tagguard\\.dev/held-by',
    ]);
    await this.show([
      'get',
      'application',
      NAME,
      '-n',
      ARGOCD_NAMESPACE,
      '-o',
      'custom-columns=NAME:.metadata.name,AUTOMATED:.spec.syncPolicy.automated,HELD-BY:.metadata.annotations.tagguard\\.dev/held-by',
    ]);
    if (!this.fluxRunning) return;
    await this.reach(
      `Flux Ready again on ${CHART_VERSION}@${good.digest.slice(0, 19)}…; the Deployment never got the init container`,
      60_000,
      async () => {
        const [repo, release, deployment] = await Promise.all([
          this.readFlux('OCIRepository'),
          this.readFlux('HelmRelease'),
          this.k.read<Deployment>('apps/v1', 'Deployment', NAME, FLUX_NAMESPACE),
        ]);
        const initContainers = deployment.spec?.template?.spec?.initContainers ?? [];
        return {
          ok:
            condition(repo, 'Ready')?.status === 'True' &&
            repo.status?.artifact?.revision === `${CHART_VERSION}@${good.digest}` &&
            condition(release, 'Ready')?.status === 'True' &&
            initContainers.length === 0 &&
            deployment.metadata?.generation === 1,
          seen: `OCIRepository ${repo.status?.artifact?.revision} ${describeConditions(repo)}; HelmRelease ${describeConditions(release)}; Deployment generation ${deployment.metadata?.generation}, init containers ${JSON.stringify(initContainers.map((c) => c.name))}`,
        };
      },
    );
  }

  // ─── the HTTP repository scene ─────────────────────────────────────────────────────────────────────────

  private readHttp(kind: 'HelmRelease' | 'HelmChart'): Promise<FluxObject> {
    return kind === 'HelmRelease'
      ? this.k.read<FluxObject>('helm.toolkit.fluxcd.io/v2', kind, NAME, HTTP_NAMESPACE)
      : this.k.read<FluxObject>(
          'source.toolkit.fluxcd.io/v1',
          kind,
          `${HTTP_NAMESPACE}-${NAME}`,
          HTTP_NAMESPACE,
        );
  }

  private async httpTrusted(): Promise<void> {
    const env = this.env as TestEnv;
    this.httpRepo = await startHttpChartRepository(
      env.supervisor,
      this.info.runDir,
      this.home as ToolHome,
      'demo',
    );
    const repo = this.httpRepo;
    this.httpGood = await repo.publish(NAME, CHART_VERSION, { signer: 'release' });
    const good = this.httpGood;
    this.say.say(
      [
        `gpg --quick-gen-key '${RELEASE_SIGNER}' rsa2048 sign   (and '${ATTACKER_SIGNER}', for later)`,
        `helm package --sign --key '${RELEASE_SIGNER}' --keyring release-secring.gpg payment/`,
        `  payment-3.1.0.tgz ${good.digest}, and payment-3.1.0.tgz.prov (OpenPGP, the archive's SHA-256)`,
        `helm repo index ${relative(process.cwd(), repo.root)}`,
        `nginx serves it at ${repo.url}`,
        '',
        `${`${HTTP_NAMESPACE}/HelmRepository charts`.padEnd(32)} url ${repo.url} (type default, interval 10m)`,
        `${`${HTTP_NAMESPACE}/HelmRelease ${NAME}`.padEnd(32)} chart.spec ${NAME} ${CHART_VERSION} from HelmRepository/charts`,
        `${`${HTTP_NAMESPACE}/Secret helm-keys`.padEnd(32)} pubring.gpg: the release signer's public key`,
        `ArtifactVerification ${HTTP_NAMESPACE}/${NAME} (sourceRef HelmRelease): verify.provenance keyring helm-keys;`,
        '  scan: fail on high; action: Suspend; poll the index every 10s',
      ].join('\n'),
    );
    await this.k.applyAll(httpRepositoryObjects(repo.url, repo.releasePublicKey));
    await this.avState(
      HTTP_NAMESPACE,
      `Ready=True, Verified=True (provenance), trusted digest ${good.digest.slice(0, 19)}…`,
      90_000,
      (o) =>
        condition(o, 'Ready')?.status === 'True' &&
        condition(o, 'Verified')?.status === 'True' &&
        o.status?.trustedDigest === good.digest,
    );
    await this.show([
      'get',
      'av',
      NAME,
      '-n',
      HTTP_NAMESPACE,
      '-o',
      'custom-columns=NAME:.metadata.name,VERSION:.status.artifact.tag,DIGEST:.status.artifact.digest,SIGNER:.status.signers[*].identity,READY:.status.conditions[?(@.type=="Ready")].status',
    ]);
    if (!this.fluxRunning) return;
    await this.reach(
      `Flux deployed ${NAME} ${CHART_VERSION} from the HTTP repository (HelmRelease Ready)`,
      120_000,
      async () => {
        const [chart, release] = await Promise.all([
          this.readHttp('HelmChart'),
          this.readHttp('HelmRelease'),
        ]);
        return {
          ok:
            chart.status?.artifact?.digest === good.digest && condition(release, 'Ready')?.status === 'True',
          seen: `HelmChart ${chart.status?.artifact?.digest} ${describeConditions(chart)}; HelmRelease ${describeConditions(release)}`,
        };
      },
    );
    await this.show(['get', 'helmrepository,helmchart,helmrelease', '-n', HTTP_NAMESPACE]);
  }

  private async httpAttack(): Promise<void> {
    const repo = this.httpRepo as HttpChartRepository;
    this.httpAttackAt = Date.now();
    this.httpEvil = await repo.publish(NAME, CHART_VERSION, { malicious: true, signer: 'attacker' });
    const evil = this.httpEvil;
    this.say.say(
      [
        'Someone with write access to the web root publishes 3.1.0 again, with the privileged init container,',
        `signed by a key of their own (helm package --sign --key '${ATTACKER_SIGNER}'), and re-indexes:`,
        `  cp payment-3.1.0.tgz payment-3.1.0.tgz.prov ${relative(process.cwd(), repo.root)}/ && helm repo index …`,
        `  index.yaml: payment 3.1.0 digest ${evil.digest}`,
        `  (was ${(this.httpGood as PublishedChart).digest})`,
        'Flux keeps its chart per version: it downloads the new archive at its next cache miss of 3.1.0 (a new',
        'HelmChart, a spec change, a restarted source-controller with empty storage). tagguard polls the index.',
      ].join('\n'),
    );
    if (evil.digest === (this.httpGood as PublishedChart).digest)
      throw new DemoError('the re-published chart has the same digest as the good one');
  }

  private async httpHeld(): Promise<void> {
    const evil = this.httpEvil as PublishedChart;
    const good = this.httpGood as PublishedChart;
    const holder = `${HTTP_NAMESPACE}/${NAME}`;
    const kinds: ('HelmRelease' | 'HelmChart')[] = this.fluxRunning
      ? ['HelmRelease', 'HelmChart']
      : ['HelmRelease'];
    await this.reach(`${kinds.join(' and ')}: spec.suspend=true, held-by ${holder}`, 60_000, async () => {
      const objects = await Promise.all(kinds.map((kind) => this.readHttp(kind)));
      return {
        ok: objects.every((o) => o.spec?.suspend === true && o.metadata?.annotations?.[HELD_BY] === holder),
        seen: objects
          .map(
            (o) =>
              `${o.kind} suspend=${String(o.spec?.suspend)} held-by=${o.metadata?.annotations?.[HELD_BY]}`,
          )
          .join('; '),
      };
    });
    const seconds = ((Date.now() - this.httpAttackAt) / 1000).toFixed(1);
    await this.avState(
      HTTP_NAMESPACE,
      'TagMutated=True, Verified=False (UntrustedSigner), privileged-container finding, Held=True',
      60_000,
      (o) =>
        o.status?.artifact?.digest === evil.digest &&
        condition(o, 'TagMutated')?.status === 'True' &&
        condition(o, 'Verified')?.status === 'False' &&
        condition(o, 'Verified')?.reason === 'UntrustedSigner' &&
        condition(o, 'Held')?.status === 'True' &&
        (o.status?.findings ?? []).some(
          (f) => f.rule === 'privileged-container' && f.severity === 'critical',
        ),
    );
    this.say.check(`held ${seconds} s after the re-publish`);
    await this.show([
      'get',
      'av',
      NAME,
      '-n',
      HTTP_NAMESPACE,
      '-o',
      'jsonpath={range .status.conditions[*]}{.type}={.status} {.reason}: {.message}{"\\n"}{end}',
    ]);
    await this.show([
      'get',
      'helmrelease,helmchart',
      '-n',
      HTTP_NAMESPACE,
      '-o',
      'custom-columns=KIND:.kind,NAME:.metadata.name,SUSPEND:.spec.suspend,HELD-BY:.metadata.annotations.tagguard\\.dev/held-by',
    ]);
    if (!this.fluxRunning) return;
    const chart = await this.readHttp('HelmChart');
    if (chart.status?.artifact?.digest !== good.digest)
      throw new DemoError(
        `source-controller fetched the re-published chart before the hold: ${chart.status?.artifact?.digest}`,
      );
    this.say.check(
      `source-controller still serves the signed archive ${good.digest.slice(0, 19)}…; suspended, it fetches nothing`,
    );
    await this.show([
      'get',
      'deployment',
      NAME,
      '-n',
      HTTP_NAMESPACE,
      '-o',
      'custom-columns=DEPLOYMENT:.metadata.name,INIT-CONTAINERS:.spec.template.spec.initContainers[*].name,IMAGE:.spec.template.spec.containers[*].image',
    ]);
  }

  // ─── tagguard's own chart ──────────────────────────────────────────────────────────────────────────────

  /** charts/tagguard as a release publishes it, signed with the release key, guarded by tagguard itself. */
  private async ownChart(): Promise<void> {
    const home = this.home as ToolHome;
    const registry = this.info.registries.referrers;
    const dir = await mkdtemp(join(home.dir, 'own-chart-'));
    const { stdout } = await runTool(
      'helm',
      ['package', join(projectRoot, 'charts', OPERATOR_CHART), '-d', dir],
      {
        env: home.env,
      },
    );
    const tgz = /saved it to: (\S+\.tgz)/.exec(stdout)?.[1];
    if (tgz === undefined) throw new DemoError(`helm package printed no archive: ${stdout}`);
    const chart = await pushChart(home, registry, 'charts', tgz);
    await signCosignBundle(home, registry, chart, this.releaseKey as CosignKeyPair);
    this.say.say(
      [
        `helm package charts/${OPERATOR_CHART}   (the chart make release ships)`,
        `helm push ${relative(dir, tgz)} oci://${registry.host}/charts`,
        `  digest ${chart.digest}`,
        `cosign sign --key release.key ${chart.byDigest}`,
        `ArtifactVerification ${OPERATOR_NAMESPACE}/${OPERATOR_CHART}: artifact oci://${chart.repository} tag ${chart.tag};`,
        '  verify: one cosign signature by release-key; scan: fail on high; action: Warn (no GitOps object:',
        '  the chart is installed with helm install, so tagguard reports, it has nothing to hold)',
      ].join('\n'),
    );
    await this.k.applyAll(operatorChartVerification(chart.repository, chart.tag, this.publicKeyPem));
    await this.reach(
      `ArtifactVerification ${OPERATOR_NAMESPACE}/${OPERATOR_CHART}: Ready=True, Verified=True, trusted digest ${chart.digest.slice(0, 19)}…`,
      60_000,
      async () => {
        const object = await this.k.read<Av>(
          'tagguard.dev/v1alpha1',
          'ArtifactVerification',
          OPERATOR_CHART,
          OPERATOR_NAMESPACE,
        );
        return {
          ok:
            condition(object, 'Ready')?.status === 'True' &&
            condition(object, 'Verified')?.status === 'True' &&
            object.status?.trustedDigest === chart.digest,
          seen: describeConditions(object),
        };
      },
    );
    await this.show([
      'get',
      'av',
      OPERATOR_CHART,
      '-n',
      OPERATOR_NAMESPACE,
      '-o',
      'custom-columns=NAME:.metadata.name,VERSION:.status.artifact.tag,DIGEST:.status.artifact.shortDigest,SIGNER:.status.signers[*].identity,VERIFIED:.status.conditions[?(@.type=="Verified")].reason',
    ]);
  }

  // ─── the end ──────────────────────────────────────────────────────────────────────────────────────────

  /** KEEP=1: everything stays up; prints how to look around and how to stop it. */
  async keep(): Promise<void> {
    const env = this.env;
    if (!env) return;
    const groups = [...env.supervisor.detach(), ...(this.fluxSupervisor?.detach() ?? [])];
    this.rss?.stop();
    const state: KeepState = {
      groups,
      runDir: this.info.runDir,
      tempDirs: this.tempDirs,
      containers: this.container === undefined ? [] : [this.container],
    };
    await mkdir(join(projectRoot, '.testbin', 'demo'), { recursive: true });
    await writeFile(KEEP_STATE, JSON.stringify(state, null, 2));
    const bin = relative(process.cwd(), testbinDir) || '.';
    this.say.title('Everything is still running (KEEP=1)');
    this.say.say(
      [
        `export KUBECONFIG=${this.info.kubeconfig}`,
        `export PATH=$PWD/${bin}:$PATH`,
        'kubectl get av -A',
        `kubectl describe av ${NAME} -n ${FLUX_NAMESPACE}`,
        `kubectl get events -n ${FLUX_NAMESPACE} --field-selector reportingComponent=tagguard.dev/controller`,
        `kubectl get ocirepository,helmrelease -n ${FLUX_NAMESPACE}; kubectl get application -n ${ARGOCD_NAMESPACE}`,
        `curl -s http://127.0.0.1:${this.metricsPort}/metrics | grep ^tagguard_`,
        `curl -s ${this.prometheus?.url ?? 'http://127.0.0.1:<prometheus>'}/api/v1/alerts   (Prometheus UI at the same address)`,
        `oras push / helm push to ${this.info.registries.referrers.host} (plain HTTP) to try your own attack`,
        `Logs (operator: tagguard.log): ${this.info.runDir}`,
        ...(this.container === undefined
          ? []
          : [`The operator's container: podman ps --filter name=${this.container}`]),
        '',
        `Stop it: make demo-stop   (or: node scripts/demo.ts stop; or kill the process groups ${groups.join(' ')}${this.container === undefined ? '' : ` and podman rm -f ${this.container}`})`,
      ].join('\n'),
    );
  }

  runDir(): string | undefined {
    return this.env?.info.runDir;
  }

  async stop(): Promise<void> {
    this.rss?.stop();
    if (this.container !== undefined) await removeContainer(this.container);
    await this.operator?.stop();
    await this.fluxSupervisor?.stopAll();
    await this.env?.stop();
    await Promise.all(this.tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

const quote = (arg: string): string =>
  /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;

const hasTagguardAnnotations = (object: KubernetesObject): boolean =>
  Object.keys(object.metadata?.annotations ?? {}).some((k) => k.startsWith('tagguard.dev/'));

/** The value of a metric's sample for namespace=<ns>,name=payment, or undefined. */
const metricValue = (body: string, metric: string, namespace: string): number | undefined => {
  const line = body
    .split('\n')
    .find(
      (l) =>
        l.startsWith(`${metric}{`) && l.includes(`namespace="${namespace}"`) && l.includes(`name="${NAME}"`),
    );
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
};

// ─── stop: what KEEP=1 left running ─────────────────────────────────────────────────────────────────────

/** The operator's container (DEMO_IMAGE): SIGTERM, then SIGKILL after 5 s, and removed. */
const removeContainer = async (name: string): Promise<void> => {
  await runWithPodman('podman', ['rm', '--force', '--ignore', '--time', '5', name]);
};

const alive = (group: number): boolean => {
  try {
    process.kill(-group, 0);
    return true;
  } catch {
    return false;
  }
};

const signal = (group: number, name: NodeJS.Signals): void => {
  try {
    process.kill(-group, name);
  } catch {
    // already gone
  }
};

const stopKept = async (write: (text: string) => void): Promise<number> => {
  if (!existsSync(KEEP_STATE)) {
    write('No demo left running by KEEP=1 (no .testbin/demo/keep.json).\n');
    return 0;
  }
  const state = JSON.parse(await readFile(KEEP_STATE, 'utf8')) as KeepState;
  for (const container of state.containers ?? []) await removeContainer(container);
  const running = state.groups.filter(alive);
  for (const group of running) signal(group, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (running.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  for (const group of running.filter(alive)) signal(group, 'SIGKILL');
  await Promise.all(state.tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  await rm(KEEP_STATE, { force: true });
  const containers = state.containers?.length ?? 0;
  write(
    `Stopped the demo (${running.length} process groups${containers > 0 ? `, ${containers} container` : ''}; logs stay in ${state.runDir}).\n`,
  );
  return 0;
};

// ─── main ───────────────────────────────────────────────────────────────────────────────────────────────

const main = async (): Promise<number> => {
  const write = (text: string): void => void process.stdout.write(text);
  if (process.argv[2] === 'stop') return stopKept(write);
  if (process.argv[2] !== undefined) {
    process.stderr.write('usage: node scripts/demo.ts [stop]\n');
    return 2;
  }
  const settings = readSettings(process.env);
  if (existsSync(KEEP_STATE)) {
    write('A previous KEEP=1 demo is still recorded; stopping it first.\n');
    await stopKept(write);
  }
  const narrator = new Narrator({ colour: settings.colour, write, totalSteps: DEMO_STEPS.length });
  const demo = new Demo(settings, narrator);
  let interrupted = false;
  const onSignal = (name: string) => (): void => {
    if (interrupted) return;
    interrupted = true;
    write(`\n${name}: stopping everything…\n`);
    void demo.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal('SIGINT'));
  process.once('SIGTERM', onSignal('SIGTERM'));

  try {
    await demo.run();
  } catch (error) {
    narrator.failed(error);
    if (settings.keep) {
      await demo.keep();
      return 1;
    }
    write(
      `\nStopping everything (logs stay in ${demo.runDir() ?? join(projectRoot, '.testbin', 'runs')}).\n`,
    );
    await demo.stop();
    return 1;
  }
  write(
    `\n${narrator.style('green', narrator.style('bold', `All ${DEMO_STEPS.length} steps reached their expected state`))} in ${narrator.total()}.\n`,
  );
  const rss = await demo.rssSummary();
  if (rss !== undefined)
    write(
      `Operator RSS (${demo.operatorKind()}, pid ${rss.pid}, ${rss.samples} samples every 0.5 s): ready ${mib(rss.readyKiB)}, peak ${mib(rss.peakKiB)}, end ${mib(rss.endKiB)}; demo ${narrator.total()}.\n`,
    );
  if (settings.keep) {
    await demo.keep();
    return 0;
  }
  write('Stopping everything (KEEP=1 leaves it running).\n');
  await demo.stop();
  return 0;
};

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `demo: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
