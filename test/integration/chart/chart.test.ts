// charts/tagguard with the real helm (.testbin/bin/helm) and the test API server: lint-clean, renders the
// objects of the kustomize bases (RBAC rules compared with `kubectl kustomize config/rbac`, the Deployment's pod
// spec with config/manager, the alerts with config/prometheus), installs into a namespace that enforces the
// restricted Pod Security Standard with every option on, and uninstalls. The CRD is already installed by the
// test environment, so the release skips it and the chart's crds/ is checked on its own.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type {
  KubernetesObject,
  V1ClusterRole,
  V1ConfigMap,
  V1Deployment,
  V1NetworkPolicy,
  V1Role,
} from '@kubernetes/client-node';
import { parseManifests } from '../../env/kube.ts';
import { projectRoot } from '../../env/paths.ts';
import { runTool } from '../../env/run-tool.ts';
import { kubectl } from '../crd/kubectl.ts';
import { parseOperatorConfig } from '../../../src/config/operator-config.ts';

const env = inject('testEnv');
const CHART = join(projectRoot, 'charts', 'tagguard');
const ALL_ON = join(CHART, 'ci', 'all-on-values.yaml');
// Kinds whose CRDs (monitoring.coreos.com) the test API server does not serve: rendered and compared, not installed.
const NO_MONITORING = ['--set', 'serviceMonitor.enabled=false', '--set', 'prometheusRule.enabled=false'];

const helmHome = mkdtempSync(join(tmpdir(), 'tagguard-helm-'));
const helm = async (args: readonly string[]): Promise<{ stdout: string; stderr: string }> =>
  runTool('helm', args, {
    env: {
      HOME: helmHome,
      HELM_CONFIG_HOME: join(helmHome, 'config'),
      HELM_CACHE_HOME: join(helmHome, 'cache'),
      HELM_DATA_HOME: join(helmHome, 'data'),
    },
  });

const template = async (release: string, namespace: string, extra: readonly string[] = []) =>
  parseManifests((await helm(['template', release, CHART, '--namespace', namespace, ...extra])).stdout);

const kustomize = async (dir: string): Promise<KubernetesObject[]> => {
  const result = await kubectl(env.kubeconfig, ['kustomize', dir]);
  expect(result.exitCode, result.stderr).toBe(0);
  return parseManifests(result.stdout);
};

const only = <T extends KubernetesObject>(objects: readonly KubernetesObject[], kind: string): T => {
  const matching = objects.filter((o) => o.kind === kind);
  expect(matching, kind).toHaveLength(1);
  return matching[0] as T;
};

const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

/** `kubectl create --dry-run=server` of one object: admission (Pod Security) runs, nothing is stored. */
const createDryRun = (object: unknown) => {
  const file = join(helmHome, `object-${randomBytes(4).toString('hex')}.json`);
  writeFileSync(file, JSON.stringify(object));
  return kubectl(env.kubeconfig, ['create', '--dry-run=server', '-o', 'name', '-f', file]);
};

describe('helm lint --strict', () => {
  it.each([
    ['default values', []],
    ['every option on', ['-f', ALL_ON]],
  ])('is clean with %s', async (_name, extra) => {
    const { stdout } = await helm(['lint', '--strict', CHART, ...extra]);
    expect(stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
  });

  it('refuses values the operator would refuse, and misspelt keys (values.schema.json)', async () => {
    await expect(helm(['template', 't', CHART, '--set', 'objectMetrics=some'])).rejects.toThrow(
      /objectMetrics.*must be one of/,
    );
    await expect(helm(['template', 't', CHART, '--set', 'imag.tag=x'])).rejects.toThrow(
      /additional properties 'imag' not allowed/,
    );
    await expect(
      helm(['template', 't', CHART, '--set', 'webhook.enabled=true', '--set', 'webhook.secret.token=short']),
    ).rejects.toThrow(/webhook\/secret\/token/);
  });

  it('refuses inconsistent values', async () => {
    await expect(
      helm(['template', 't', CHART, '--set', 'replicas=2', '--set', 'leaderElection.enabled=false']),
    ).rejects.toThrow(/replicas > 1 needs leaderElection.enabled/);
    await expect(helm(['template', 't', CHART, '--set', 'webhook.enabled=true'])).rejects.toThrow(
      /webhook.enabled needs webhook.secret/,
    );
  });
});

describe('helm template (release tagguard in tagguard-system) against the kustomize bases', () => {
  let chart: KubernetesObject[];
  let kustomized: KubernetesObject[];

  beforeAll(async () => {
    chart = await template('tagguard', 'tagguard-system', [
      '--set',
      'prometheusRule.enabled=true',
      '--set',
      'serviceMonitor.enabled=true',
    ]);
    kustomized = [...(await kustomize('.')), ...(await kustomize('config/prometheus'))];
  });

  it('renders the objects of config/default (but the namespace and CRD) under the same names, plus the monitoring objects', () => {
    const key = (o: KubernetesObject): string =>
      `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
    const skip = new Set(['Namespace', 'CustomResourceDefinition']);
    expect(chart.map(key).sort()).toEqual(
      kustomized
        .filter((o) => !skip.has(o.kind ?? ''))
        .map(key)
        .sort(),
    );
  });

  it('grants exactly the RBAC rules of kubectl kustomize config/rbac', async () => {
    const rbac = await kustomize('config/rbac');
    expect(plain(only<V1ClusterRole>(chart, 'ClusterRole').rules)).toEqual(
      plain(only<V1ClusterRole>(rbac, 'ClusterRole').rules),
    );
    expect(plain(only<V1Role>(chart, 'Role').rules)).toEqual(plain(only<V1Role>(rbac, 'Role').rules));
    for (const kind of ['ClusterRoleBinding', 'RoleBinding']) {
      const [ours, theirs] = [only(chart, kind), only(rbac, kind)] as unknown as {
        roleRef: unknown;
        subjects: unknown;
      }[];
      expect(plain(ours?.subjects), kind).toEqual(plain(theirs?.subjects));
      expect(plain(ours?.roleRef), kind).toEqual(plain(theirs?.roleRef));
    }
  });

  it('runs the pod of config/manager: security context, probes, env (NODE_OPTIONS), args, resources, volumes', () => {
    const ours = only<V1Deployment>(chart, 'Deployment');
    const theirs = only<V1Deployment>(kustomized, 'Deployment');
    expect(plain(ours.spec?.template.spec)).toEqual(plain(theirs.spec?.template.spec));
    expect(ours.spec?.replicas).toBe(theirs.spec?.replicas);
    // The selector is the kustomize one plus the release (several releases in one namespace).
    expect(ours.spec?.selector.matchLabels).toEqual({
      ...theirs.spec?.selector.matchLabels,
      'app.kubernetes.io/instance': 'tagguard',
    });
  });

  it('ships the alerts of config/prometheus and its ServiceMonitor, both with honorLabels', () => {
    const spec = (objects: KubernetesObject[], kind: string): unknown =>
      plain((only(objects, kind) as unknown as { spec: unknown }).spec);
    expect(spec(chart, 'PrometheusRule')).toEqual(spec(kustomized, 'PrometheusRule'));
    const monitor = spec(chart, 'ServiceMonitor') as { endpoints: Record<string, unknown>[] };
    const theirs = spec(kustomized, 'ServiceMonitor') as { endpoints: Record<string, unknown>[] };
    expect(monitor.endpoints).toEqual(theirs.endpoints);
    expect(monitor.endpoints.every((e) => e.honorLabels === true)).toBe(true);
  });

  it('ships crds/ as the CRD of the repository, accepted by the API server', async () => {
    const withCrds = parseManifests(
      (await helm(['template', 'tagguard', CHART, '--namespace', 'tagguard-system', '--include-crds']))
        .stdout,
    );
    const [crd] = parseManifests(
      readFileSync(join(projectRoot, 'crds', 'tagguard.dev_artifactverifications.yaml'), 'utf8'),
    );
    expect(plain(only(withCrds, 'CustomResourceDefinition'))).toEqual(plain(crd));
    const result = await kubectl(env.kubeconfig, [
      'apply',
      '--server-side',
      '--force-conflicts',
      '--dry-run=server',
      '-f',
      join(CHART, 'crds'),
    ]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain('artifactverifications.tagguard.dev serverside-applied (server dry run)');
  });
});

describe('helm template with every option on', () => {
  let objects: KubernetesObject[];
  beforeAll(async () => {
    objects = await template('tg', 'tagguard-system', ['-f', ALL_ON]);
  });

  it('renders every optional object', () => {
    expect(objects.map((o) => o.kind).sort()).toEqual(
      [
        'ClusterRole',
        'ClusterRoleBinding',
        'ConfigMap',
        'ConfigMap',
        'Deployment',
        'NetworkPolicy',
        'PodDisruptionBudget',
        'PrometheusRule',
        'Role',
        'RoleBinding',
        'Secret',
        'Secret',
        'Service',
        'Service',
        'ServiceAccount',
        'ServiceMonitor',
      ].sort(),
    );
  });

  it('passes every value to the operator as the flag docs/operations.md names', () => {
    const deployment = only<V1Deployment>(objects, 'Deployment');
    const [container] = deployment.spec?.template.spec?.containers ?? [];
    expect(container?.image).toBe(
      'registry.example.com/tagguard@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    );
    expect(container?.args).toEqual([
      'run',
      '--leader-elect',
      '--metrics-addr=:8080',
      '--health-addr=:8081',
      '--leader-election-id=tagguard-leader-shard1',
      '--watch-namespace=team-a',
      '--watch-label-selector=sharding.tagguard.dev/key in (shard1,shard2),!legacy',
      '--argocd-namespace=gitops',
      '--object-metrics=unhealthy',
      '--webhook-addr=:9443',
      '--webhook-secret=tagguard-system/tg-tagguard-webhook',
      '--concurrency=8',
      '--log-level=debug',
    ]);
    expect(container?.env?.find((e) => e.name === 'NODE_OPTIONS')?.value).toBe(
      '--max-old-space-size=640 --max-semi-space-size=16',
    );
    expect(container?.ports?.map((p) => p.name)).toEqual(['http-metrics', 'http-health', 'http-webhook']);
    const pod = deployment.spec?.template;
    expect(pod?.metadata?.annotations).toEqual({ 'example.com/team': 'platform' });
    expect(pod?.spec?.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(pod?.spec?.tolerations).toHaveLength(1);
    expect(pod?.spec?.affinity?.podAntiAffinity).toBeDefined();
  });

  it("emits only flags the operator's own parser accepts, with the values meant", () => {
    const [container] = only<V1Deployment>(objects, 'Deployment').spec?.template.spec?.containers ?? [];
    const [command, ...flags] = container?.args ?? [];
    expect(command).toBe('run');
    const config = parseOperatorConfig(flags, {
      podNamespace: 'tagguard-system',
      podName: 'p',
      isTty: false,
    });
    expect(config).toMatchObject({
      leaderElect: true,
      leaderElectionId: 'tagguard-leader-shard1',
      watchNamespace: 'team-a',
      argocdNamespace: 'gitops',
      objectMetrics: 'unhealthy',
      concurrency: 8,
      logLevel: 'debug',
      webhook: {
        addr: { port: 9443 },
        secretNamespace: 'tagguard-system',
        secretName: 'tg-tagguard-webhook',
      },
    });
    expect(config.watchLabelSelector).toBeDefined();
  });

  it('NetworkPolicy: probes open, metrics and receiver from the listed peers, egress DNS plus the listed rules', () => {
    const policy = only<V1NetworkPolicy>(objects, 'NetworkPolicy').spec;
    const rule = (port: string) => policy?.ingress?.find((r) => r.ports?.some((p) => p.port === port));
    expect(rule('http-health')?._from).toBeUndefined();
    expect(rule('http-metrics')?._from).toEqual([
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
    ]);
    expect(rule('http-webhook')?._from).toEqual([
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'registry' } } },
    ]);
    expect(policy?.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy?.egress?.map((r) => r.ports?.map((p) => p.port))).toEqual([
      [53, 53],
      [443, 6443],
    ]);
  });

  it('ships the Grafana dashboard of config/grafana for the sidecar', () => {
    const dashboards = objects.filter(
      (o): o is V1ConfigMap => o.kind === 'ConfigMap' && o.metadata?.labels?.grafana_dashboard === '1',
    );
    expect(dashboards).toHaveLength(1);
    expect(dashboards[0]?.data?.['tagguard.json']).toBe(
      readFileSync(join(projectRoot, 'config', 'grafana', 'tagguard.json'), 'utf8').trimEnd(),
    );
  });
});

describe('sharding with two releases (docs/sharding.md)', () => {
  it('gives each release its own names, Lease and a Pod selector the other does not match', async () => {
    const main = await template('tagguard', 'tagguard-system', [
      '--set',
      'watchLabelSelector=!sharding.tagguard.dev/key',
    ]);
    const shard = await template('tagguard-shard1', 'tagguard-system', [
      '--set',
      'watchLabelSelector=sharding.tagguard.dev/key=shard1',
      '--set',
      'leaderElection.id=tagguard-leader-shard1',
    ]);
    const names = (objects: KubernetesObject[]) => objects.map((o) => `${o.kind}/${o.metadata?.name}`);
    expect(names(main).filter((name) => names(shard).includes(name))).toEqual([]);
    const [mainDeployment, shardDeployment] = [
      only<V1Deployment>(main, 'Deployment'),
      only<V1Deployment>(shard, 'Deployment'),
    ];
    const matches = (
      selector: Record<string, string> | undefined,
      labels: Record<string, string> | undefined,
    ) => Object.entries(selector ?? {}).every(([key, value]) => labels?.[key] === value);
    expect(
      matches(mainDeployment.spec?.selector.matchLabels, shardDeployment.spec?.template.metadata?.labels),
    ).toBe(false);
    expect(
      matches(shardDeployment.spec?.selector.matchLabels, mainDeployment.spec?.template.metadata?.labels),
    ).toBe(false);
    const args = (d: V1Deployment) => d.spec?.template.spec?.containers[0]?.args ?? [];
    expect(args(mainDeployment)).toContain('--watch-label-selector=!sharding.tagguard.dev/key');
    expect(args(shardDeployment)).toEqual(
      expect.arrayContaining([
        '--watch-label-selector=sharding.tagguard.dev/key=shard1',
        '--leader-election-id=tagguard-leader-shard1',
      ]),
    );
  });
});

describe('helm install into the test API server (every option on but the monitoring CRDs, --skip-crds)', () => {
  const suffix = randomBytes(3).toString('hex');
  const namespace = `tagguard-chart-${suffix}`;
  const release = `tg${suffix}`;
  let installed: KubernetesObject[];

  beforeAll(async () => {
    // The namespace enforces the restricted Pod Security Standard, as config/default's does.
    const created = await kubectl(env.kubeconfig, ['create', 'namespace', namespace]);
    expect(created.exitCode, created.stderr).toBe(0);
    const labelled = await kubectl(env.kubeconfig, [
      'label',
      'namespace',
      namespace,
      'pod-security.kubernetes.io/enforce=restricted',
      'pod-security.kubernetes.io/warn=restricted',
    ]);
    expect(labelled.exitCode, labelled.stderr).toBe(0);
    installed = await template(release, namespace, ['-f', ALL_ON, ...NO_MONITORING]);
  });

  afterAll(async () => {
    await helm(['uninstall', release, '--namespace', namespace, '--kubeconfig', env.kubeconfig]).catch(
      () => undefined,
    );
    await kubectl(env.kubeconfig, ['delete', 'namespace', namespace, '--wait=false']);
  });

  it('installs, every object is accepted and readable, and uninstalls', async () => {
    const { stdout, stderr } = await helm([
      'install',
      release,
      CHART,
      '--namespace',
      namespace,
      '--skip-crds',
      '--wait=false',
      '--kubeconfig',
      env.kubeconfig,
      '-f',
      ALL_ON,
      ...NO_MONITORING,
    ]);
    expect(stdout).toContain('STATUS: deployed');
    expect(stderr).not.toMatch(/would violate PodSecurity/);
    for (const object of installed) {
      const ref = `${object.kind}/${object.metadata?.name}`;
      const got = await kubectl(env.kubeconfig, ['get', ref, '--namespace', namespace, '-o', 'name']);
      expect(got.exitCode, `${ref}: ${got.stderr}`).toBe(0);
    }
    const clusterRole = await kubectl(env.kubeconfig, [
      'get',
      `clusterrole/${release}-tagguard-manager`,
      '-o',
      'json',
    ]);
    expect(clusterRole.exitCode, clusterRole.stderr).toBe(0);
    const rbac = await kustomize('config/rbac');
    expect((JSON.parse(clusterRole.stdout) as V1ClusterRole).rules).toEqual(
      plain(only<V1ClusterRole>(rbac, 'ClusterRole').rules),
    );

    await helm(['uninstall', release, '--namespace', namespace, '--kubeconfig', env.kubeconfig]);
    const gone = await kubectl(env.kubeconfig, ['get', `clusterrole/${release}-tagguard-manager`]);
    expect(gone.stderr).toMatch(/NotFound/);
    const left = await kubectl(env.kubeconfig, [
      'get',
      'deployment,service,secret,configmap',
      '-l',
      `app.kubernetes.io/instance=${release}`,
      '--namespace',
      namespace,
      '-o',
      'name',
    ]);
    expect(left.stdout.trim()).toBe('');
  });

  it("the operator's pod, as the chart templates it, is admitted at the restricted level (one allowing privilege escalation is not)", async () => {
    const deployment = only<V1Deployment>(installed, 'Deployment');
    const pod = (spec: unknown) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `${release}-pod`, namespace },
      spec,
    });
    const admitted = await createDryRun(pod(plain(deployment.spec?.template.spec)));
    expect(admitted.exitCode, admitted.stderr).toBe(0);
    const spec = plain(deployment.spec?.template.spec) as {
      containers: { securityContext: Record<string, unknown> }[];
    };
    const [manager] = spec.containers;
    if (manager) manager.securityContext = { ...manager.securityContext, allowPrivilegeEscalation: true };
    const refused = await createDryRun(pod(spec));
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toMatch(/violates PodSecurity "restricted/);
  });
});
