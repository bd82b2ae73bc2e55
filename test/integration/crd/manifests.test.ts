// The install manifests against the real API server: `kubectl apply -k .` (server-side dry run) accepts
// every object, the operator's pod passes the restricted Pod Security Standard, RBAC grants exactly what
// the code uses, and the samples (one ArtifactVerification per source kind, with the GitOps objects they
// reference) are accepted.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { KubernetesObject, V1ClusterRole, V1Deployment, V1Role } from '@kubernetes/client-node';
import { KubeTestClient, parseManifests } from '../../env/kube.ts';
import { projectRoot } from '../../env/paths.ts';
import { API_VERSION, KIND, type ArtifactVerification } from '../../../src/api/artifact-verification.ts';
import { kubectl } from './kubectl.ts';

const env = inject('testEnv');
const kube = KubeTestClient.fromFile(env.kubeconfig);
const OPERATOR_NAMESPACE = 'tagguard-system';

const render = async (dir: string): Promise<KubernetesObject[]> => {
  const result = await kubectl(env.kubeconfig, ['kustomize', dir]);
  expect(result.exitCode, result.stderr).toBe(0);
  return parseManifests(result.stdout);
};

const only = <T extends KubernetesObject>(objects: readonly KubernetesObject[], kind: string): T => {
  const matching = objects.filter((o) => o.kind === kind);
  expect(matching, kind).toHaveLength(1);
  return matching[0] as T;
};

describe('kubectl apply -k . (config/default)', () => {
  let objects: KubernetesObject[];

  beforeAll(async () => {
    objects = await render('.');
    // A server-side dry run cannot create namespaced objects in a namespace it only pretends to create:
    // the namespace is created for real first, from the manifest itself.
    await kube.apply(only(objects, 'Namespace'));
  });

  it('renders the namespace, the CRD, RBAC, the Deployment and the metrics Service, all in tagguard-system', () => {
    expect(objects.map((o) => o.kind).sort()).toEqual([
      'ClusterRole',
      'ClusterRoleBinding',
      'CustomResourceDefinition',
      'Deployment',
      'Namespace',
      'Role',
      'RoleBinding',
      'Service',
      'ServiceAccount',
    ]);
    const cluster = new Set(['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding']);
    for (const object of objects.filter((o) => !cluster.has(o.kind ?? ''))) {
      expect(object.metadata?.namespace, `${object.kind}/${object.metadata?.name}`).toBe(OPERATOR_NAMESPACE);
    }
  });

  it('installs the CRD of crds/ unchanged but for the part-of label', async () => {
    const [fromCrds] = parseManifests(
      await readFile(join(projectRoot, 'crds', 'tagguard.dev_artifactverifications.yaml'), 'utf8'),
    );
    const rendered = only(objects, 'CustomResourceDefinition');
    expect(rendered.metadata?.labels?.['app.kubernetes.io/part-of']).toBe('tagguard');
    expect({ ...rendered, metadata: { ...rendered.metadata, labels: undefined } }).toEqual({
      ...fromCrds,
      metadata: { ...fromCrds?.metadata, labels: undefined },
    });
  });

  it('is accepted by the API server, and the pod meets the restricted Pod Security Standard', async () => {
    const result = await kubectl(env.kubeconfig, ['apply', '-k', '.', '--dry-run=server']);
    expect(result.exitCode, result.stderr).toBe(0);
    const accepted = result.stdout.split('\n').filter((line) => line.endsWith('(server dry run)'));
    expect(accepted).toHaveLength(objects.length);
    // The namespace enforces and warns at "restricted": a violating pod template is reported here.
    expect(result.stderr).not.toMatch(/would violate PodSecurity/);
  });

  it('runs the operator non-root on a read-only root file system, with probes, metrics and only /tmp writable', () => {
    const deployment = only<V1Deployment>(objects, 'Deployment');
    const pod = deployment.spec?.template.spec;
    const [container] = pod?.containers ?? [];
    expect(pod?.serviceAccountName).toBe('tagguard');
    expect(pod?.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 65532,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container?.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(container?.args?.slice(0, 2)).toEqual(['run', '--leader-elect']);
    expect(container?.livenessProbe?.httpGet).toMatchObject({ path: '/healthz', port: 'http-health' });
    expect(container?.readinessProbe?.httpGet).toMatchObject({ path: '/readyz', port: 'http-health' });
    expect(container?.ports?.map((p) => [p.name, p.containerPort])).toEqual([
      ['http-metrics', 8080],
      ['http-health', 8081],
    ]);
    expect(container?.resources?.requests).toBeDefined();
    expect(container?.resources?.limits?.memory).toBeDefined();
    expect(container?.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect(pod?.volumes?.[0]?.emptyDir).toBeDefined();
    expect(container?.env?.map((e) => e.name)).toEqual(['POD_NAMESPACE', 'POD_NAME', 'NODE_OPTIONS']);
    // The V8 heap fits the memory limit (old space + 3 semi-spaces well under it).
    const heap = /--max-old-space-size=(\d+) --max-semi-space-size=(\d+)/.exec(
      container?.env?.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '',
    );
    expect(heap).not.toBeNull();
    const limitMiB = Number(/^(\d+)Mi$/.exec(String(container?.resources?.limits?.memory))?.[1]);
    expect(Number(heap?.[1]) + 3 * Number(heap?.[2])).toBeLessThanOrEqual(limitMiB * 0.7);
  });

  it('grants exactly the verbs and resources the operator uses, the Lease only in its own namespace', () => {
    const clusterRole = only<V1ClusterRole>(objects, 'ClusterRole');
    const grants = (clusterRole.rules ?? []).flatMap((rule) =>
      (rule.apiGroups ?? []).flatMap((group) =>
        (rule.resources ?? []).map(
          (resource) => `${group || 'core'}/${resource}: ${[...(rule.verbs ?? [])].sort().join(',')}`,
        ),
      ),
    );
    expect(grants.sort()).toEqual(
      [
        'tagguard.dev/artifactverifications: create,delete,get,list,patch,update,watch',
        'tagguard.dev/artifactverifications/status: get,patch,update',
        'tagguard.dev/artifactverifications/finalizers: update',
        'source.toolkit.fluxcd.io/ocirepositories: get,list,patch,watch',
        'source.toolkit.fluxcd.io/helmcharts: get,list,patch,watch',
        'source.toolkit.fluxcd.io/helmrepositories: get,list,patch,watch',
        'helm.toolkit.fluxcd.io/helmreleases: get,list,patch,watch',
        'kustomize.toolkit.fluxcd.io/kustomizations: get,list,patch,watch',
        'argoproj.io/applications: get,list,patch,watch',
        'core/secrets: get,list,watch',
        'core/configmaps: get,list,watch',
        'events.k8s.io/events: create,patch',
      ].sort(),
    );
    const role = only<V1Role>(objects, 'Role');
    expect(role.metadata?.namespace).toBe(OPERATOR_NAMESPACE);
    expect(role.rules).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
    ]);
    for (const binding of objects.filter((o) => o.kind?.endsWith('Binding'))) {
      expect((binding as unknown as { subjects: unknown[] }).subjects).toEqual([
        { kind: 'ServiceAccount', name: 'tagguard', namespace: OPERATOR_NAMESPACE },
      ]);
    }
  });
});

describe('config/samples', () => {
  const samplesDir = join(projectRoot, 'config', 'samples');
  const namespace = `samples-${Date.now().toString(36)}`;
  let samples: KubernetesObject[];

  beforeAll(async () => {
    const files = (await readdir(samplesDir)).filter((f) => f.endsWith('.yaml')).sort();
    samples = [];
    for (const file of files) samples.push(...parseManifests(await readFile(join(samplesDir, file), 'utf8')));
    await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  });

  it('hold one ArtifactVerification per source kind and one for a raw artifact, each referencing a sample object', () => {
    const verifications = samples.filter(
      (o) => o.apiVersion === API_VERSION && o.kind === KIND,
    ) as unknown as ArtifactVerification[];
    expect(verifications.map((v) => v.spec.sourceRef?.kind ?? 'artifact').sort()).toEqual([
      'Application',
      'HelmChart',
      'HelmRelease',
      'HelmRepository',
      'OCIRepository',
      'artifact',
    ]);
    for (const { spec } of verifications) {
      if (!spec.sourceRef) continue;
      const { kind, name } = spec.sourceRef;
      expect(
        samples.some((o) => o.kind === kind && o.metadata?.name === name),
        `${kind}/${name}`,
      ).toBe(true);
    }
  });

  it('are all accepted by the API server (kubectl apply --dry-run=server -f config/samples)', async () => {
    const result = await kubectl(env.kubeconfig, [
      'apply',
      '-n',
      namespace,
      '--dry-run=server',
      '-f',
      'config/samples',
    ]);
    expect(result.exitCode, result.stderr).toBe(0);
    const accepted = result.stdout.split('\n').filter((line) => line.endsWith('created (server dry run)'));
    expect(accepted).toHaveLength(samples.length);
  });
});

describe('config/prometheus', () => {
  it('renders a ServiceMonitor for the metrics port and alerts for the four conditions of docs/design.md', async () => {
    const objects = await render('config/prometheus');
    const monitor = only<KubernetesObject & { spec: { endpoints: { port: string; path: string }[] } }>(
      objects,
      'ServiceMonitor',
    );
    expect(monitor.spec.endpoints[0]).toMatchObject({ port: 'http-metrics', path: '/metrics' });
    const rule = only<
      KubernetesObject & { spec: { groups: { rules: { alert: string; expr: string }[] }[] } }
    >(objects, 'PrometheusRule');
    const exprs = rule.spec.groups.flatMap((g) => g.rules.map((r) => r.expr)).join('\n');
    expect(exprs).toContain('tagguard_artifact_trusted == 0');
    expect(exprs).toContain('tagguard_held_targets > 0');
    expect(exprs).toContain('increase(tagguard_tag_mutations_total[10m]) > 0');
    expect(exprs).toMatch(/rate\(tagguard_digest_resolutions_total\{result="error"\}/);
  });
});

describe('kubectl apply -k config/sharding', () => {
  let deployments: V1Deployment[];
  let objects: KubernetesObject[];

  beforeAll(async () => {
    objects = await render('config/sharding');
    deployments = objects.filter((o) => o.kind === 'Deployment');
  });

  const argsOf = (d: V1Deployment): string[] => d.spec?.template.spec?.containers[0]?.args ?? [];
  const flag = (d: V1Deployment, name: string): string | undefined =>
    argsOf(d)
      .find((a) => a.startsWith(`--${name}=`))
      ?.slice(name.length + 3);

  it('runs the unsharded operator and one shard, each with its own selector and Lease', () => {
    expect(deployments.map((d) => d.metadata?.name).sort()).toEqual(['tagguard', 'tagguard-shard1']);
    const [main, shard] = ['tagguard', 'tagguard-shard1'].map(
      (name) => deployments.find((d) => d.metadata?.name === name) as V1Deployment,
    ) as [V1Deployment, V1Deployment];
    expect(argsOf(main).filter((a) => a.startsWith('--watch-label-selector'))).toEqual([
      '--watch-label-selector=!sharding.tagguard.dev/key',
    ]);
    expect(argsOf(shard).filter((a) => a.startsWith('--watch-label-selector'))).toEqual([
      '--watch-label-selector=sharding.tagguard.dev/key=shard1',
    ]);
    expect(flag(main, 'leader-election-id')).toBeUndefined();
    expect(flag(shard, 'leader-election-id')).toBe('tagguard-leader-shard1');
  });

  it("gives no Deployment a selector that matches another's Pods", () => {
    for (const a of deployments)
      for (const b of deployments.filter((d) => d !== a)) {
        const selector = a.spec?.selector.matchLabels ?? {};
        const podLabels = b.spec?.template.metadata?.labels ?? {};
        const overlaps = Object.entries(selector).every(([k, v]) => podLabels[k] === v);
        expect(overlaps, `${a.metadata?.name} selects ${b.metadata?.name}'s Pods`).toBe(false);
      }
  });

  it('is accepted by the API server', async () => {
    await kube.apply(only(objects, 'Namespace'));
    const result = await kubectl(env.kubeconfig, ['apply', '-k', 'config/sharding', '--dry-run=server']);
    expect(result.exitCode, result.stderr).toBe(0);
    const accepted = result.stdout.split('\n').filter((line) => line.endsWith('(server dry run)'));
    expect(accepted).toHaveLength(objects.length);
    expect(result.stderr).not.toMatch(/would violate PodSecurity/);
  });
});
