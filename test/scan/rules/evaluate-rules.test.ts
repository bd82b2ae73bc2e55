// Every rule, positive and negative, over parsed objects: pure and fast.
import { describe, expect, it } from 'vitest';
import { evaluateRules } from '../../../src/scan/rules/evaluate-rules.ts';
import { exposesRuntimeSocket } from '../../../src/scan/rules/workload-rules.ts';
import { RULES, RULE_IDS } from '../../../src/scan/rules/rule-catalog.ts';
import type { KubeObject } from '../../../src/scan/manifests.ts';
import { binding, container, deployment, everyWorkload, role, type PodSpec } from './fixtures.ts';

const rulesOf = (objects: KubeObject[]): string[] =>
  [...new Set(evaluateRules(objects).map((f) => f.rule))].sort();

const pathsOf = (objects: KubeObject[], rule: string): string[] =>
  evaluateRules(objects)
    .filter((f) => f.rule === rule)
    .map((f) => f.path);

describe('evaluateRules', () => {
  it('finds nothing in a hardened deployment', () => {
    expect(evaluateRules([deployment({})])).toEqual([]);
  });

  it.each<[string, PodSpec, string, string]>([
    [
      'privileged-container',
      { initContainers: [container({ securityContext: { privileged: true } })] },
      'initContainers[0].securityContext.privileged',
      'critical',
    ],
    [
      'privileged-container',
      { ephemeralContainers: [container({ securityContext: { privileged: true } })] },
      'ephemeralContainers[0].securityContext.privileged',
      'critical',
    ],
    [
      'container-runtime-socket',
      { volumes: [{ name: 'sock', hostPath: { path: '/var/run/docker.sock' } }] },
      'volumes[0].hostPath.path',
      'critical',
    ],
    [
      'host-path-volume',
      { volumes: [{ name: 'logs', hostPath: { path: '/var/log' } }] },
      'volumes[0].hostPath',
      'high',
    ],
    ['host-network', { hostNetwork: true }, 'hostNetwork', 'high'],
    ['host-pid', { hostPID: true }, 'hostPID', 'high'],
    ['host-ipc', { hostIPC: true }, 'hostIPC', 'high'],
    [
      'dangerous-capabilities',
      {
        containers: [
          container({ securityContext: { capabilities: { add: ['NET_BIND_SERVICE', 'CAP_SYS_ADMIN'] } } }),
        ],
      },
      'containers[0].securityContext.capabilities.add[1]',
      'high',
    ],
    [
      'privilege-escalation',
      { containers: [container({ securityContext: { allowPrivilegeEscalation: true } })] },
      'containers[0].securityContext.allowPrivilegeEscalation',
      'high',
    ],
    [
      'run-as-root',
      { containers: [container({ securityContext: { runAsUser: 0 } })] },
      'containers[0].securityContext.runAsUser',
      'medium',
    ],
    [
      'run-as-root',
      { securityContext: { runAsUser: 0 }, containers: [container({ securityContext: {} })] },
      'securityContext.runAsUser',
      'medium',
    ],
    [
      'run-as-root',
      { containers: [container({ securityContext: { runAsNonRoot: false } })] },
      'containers[0].securityContext.runAsNonRoot',
      'medium',
    ],
    [
      'host-port',
      {
        containers: [container({ ports: [{ containerPort: 80 }, { containerPort: 9100, hostPort: 9100 }] })],
      },
      'containers[0].ports[1].hostPort',
      'low',
    ],
    ['image-not-pinned', { containers: [container({ image: 'nginx:1.27' })] }, 'containers[0].image', 'low'],
  ])('%s: flags %s in every workload kind', (rule, spec, path, severity) => {
    for (const { object, at } of everyWorkload({ containers: [container()], ...spec })) {
      const findings = evaluateRules([object]).filter((f) => f.rule === rule);
      expect(
        findings.map((f) => f.path),
        object.kind,
      ).toEqual([`${at}.${path}`]);
      expect(findings[0]?.severity).toBe(severity);
      expect(findings[0]?.resource).toBe(`${object.kind}/${(object.metadata as { name: string }).name}`);
    }
  });

  it.each<[string, PodSpec]>([
    ['privileged-container', { containers: [container({ securityContext: { privileged: false } })] }],
    ['container-runtime-socket', { volumes: [{ name: 'logs', hostPath: { path: '/var/log' } }] }],
    ['host-path-volume', { volumes: [{ name: 'tmp', emptyDir: {} }] }],
    ['host-network', { hostNetwork: false }],
    ['host-pid', { hostPID: false }],
    ['host-ipc', { hostIPC: false }],
    [
      'dangerous-capabilities',
      {
        containers: [
          container({ securityContext: { capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] } } }),
        ],
      },
    ],
    ['privilege-escalation', { containers: [container({ securityContext: {} })] }],
    [
      'run-as-root',
      {
        securityContext: { runAsUser: 0 },
        containers: [container({ securityContext: { runAsUser: 1000 } })],
      },
    ],
    [
      'run-as-root',
      { containers: [container({ securityContext: { runAsNonRoot: false, runAsUser: 1000 } })] },
    ],
    ['host-port', { containers: [container({ ports: [{ containerPort: 80 }] })] }],
    ['image-not-pinned', { containers: [container({ image: `nginx:1.27@sha256:${'b'.repeat(64)}` })] }],
  ])('%s: does not flag the safe variant', (rule, spec) => {
    for (const { object } of everyWorkload({ containers: [container()], ...spec })) {
      expect(rulesOf([object])).not.toContain(rule);
    }
  });

  it('treats the runtime socket, its directories and the host root as exposing the socket', () => {
    for (const path of [
      '/var/run/docker.sock',
      '/run/containerd/containerd.sock',
      '/var/run/crio/crio.sock',
      '/var/run',
      '/run/',
      '/',
      '//var//run/../run',
    ]) {
      expect(exposesRuntimeSocket(path), path).toBe(true);
    }
    for (const path of ['/var/log', '/var/run/secrets', '/etc/kubernetes', '/run/docker.sock.d/x']) {
      expect(exposesRuntimeSocket(path), path).toBe(false);
    }
  });

  it('reports both host-path-volume and container-runtime-socket for a socket mount', () => {
    expect(
      rulesOf([
        deployment({ volumes: [{ name: 's', hostPath: { path: '/run/containerd/containerd.sock' } }] }),
      ]),
    ).toEqual(['container-runtime-socket', 'host-path-volume']);
  });

  it('covers workload kinds it does not know that carry a pod template (e.g. Argo Rollouts)', () => {
    const rollout: KubeObject = {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Rollout',
      metadata: { name: 'r' },
      spec: { template: { spec: { containers: [container({ securityContext: { privileged: true } })] } } },
    };
    expect(pathsOf([rollout], 'privileged-container')).toEqual([
      'spec.template.spec.containers[0].securityContext.privileged',
    ]);
  });

  it('names namespaced resources namespace/Kind/name', () => {
    const [finding] = evaluateRules([deployment({ hostPID: true }, 'agent', 'monitoring')]);
    expect(finding?.resource).toBe('monitoring/Deployment/agent');
  });

  describe('RBAC', () => {
    it('rbac-wildcard: flags "*" verbs, resources and non-resource URLs, not specific grants', () => {
      expect(
        pathsOf([role([{ apiGroups: [''], resources: ['pods'], verbs: ['*'] }])], 'rbac-wildcard'),
      ).toEqual(['rules[0].verbs']);
      expect(
        pathsOf([role([{ apiGroups: ['apps'], resources: ['*'], verbs: ['get'] }])], 'rbac-wildcard'),
      ).toEqual(['rules[0].resources']);
      expect(pathsOf([role([{ nonResourceURLs: ['*'], verbs: ['get'] }])], 'rbac-wildcard')).toEqual([
        'rules[0].nonResourceURLs',
      ]);
      expect(
        rulesOf([role([{ apiGroups: [''], resources: ['pods', 'configmaps'], verbs: ['get', 'list'] }])]),
      ).toEqual([]);
    });

    it('secrets-access: flags secrets in the core group, not other groups or other resources', () => {
      const [finding] = evaluateRules([
        role([{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }], 'Role'),
      ]);
      expect(finding).toMatchObject({
        rule: 'secrets-access',
        severity: 'medium',
        path: 'rules[0].resources',
        resource: 'Role/r',
      });
      expect(
        rulesOf([role([{ apiGroups: ['example.com'], resources: ['secrets'], verbs: ['get'] }])]),
      ).toEqual([]);
      expect(rulesOf([role([{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }])])).toEqual([]);
    });

    it('cluster-admin-binding: flags ClusterRoleBindings and RoleBindings to cluster-admin only', () => {
      const [finding] = evaluateRules([binding('cluster-admin')]);
      expect(finding).toMatchObject({
        rule: 'cluster-admin-binding',
        severity: 'critical',
        path: 'roleRef.name',
      });
      expect(evaluateRules([binding('cluster-admin', 'RoleBinding')])[0]?.resource).toBe(
        'team/RoleBinding/b',
      );
      expect(evaluateRules([binding('view')])).toEqual([]);
    });

    it('ignores look-alike kinds outside the RBAC API group', () => {
      expect(
        evaluateRules([{ ...role([{ verbs: ['*'], resources: ['*'] }]), apiVersion: 'example.com/v1' }]),
      ).toEqual([]);
    });
  });

  it('orders findings most severe first', () => {
    const findings = evaluateRules([
      deployment({
        containers: [container({ image: 'x:1', securityContext: { privileged: true } })],
        hostNetwork: true,
      }),
    ]);
    expect(findings.map((f) => f.severity)).toEqual(['critical', 'high', 'low']);
  });

  it('has a stable catalog of ids and severities', () => {
    expect(RULE_IDS).toHaveLength(14);
    expect(RULES['privileged-container'].severity).toBe('critical');
    expect(RULES['image-not-pinned'].severity).toBe('low');
  });
});
