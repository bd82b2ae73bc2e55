// Typed builders for the Kubernetes objects the rule tests feed the engine.
import type { KubeObject } from '../../../src/scan/manifests.ts';

export type Container = Record<string, unknown>;
export type PodSpec = Record<string, unknown>;

export const container = (extra: Container = {}): Container => ({
  name: 'app',
  image: `registry.example.com/app@sha256:${'a'.repeat(64)}`,
  securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false },
  ...extra,
});

export const deployment = (spec: PodSpec, name = 'web', namespace?: string): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, ...(namespace ? { namespace } : {}) },
  spec: { template: { spec: { containers: [container()], ...spec } } },
});

/** The same pod spec inside each workload kind, with where its pod spec sits. */
export const everyWorkload = (spec: PodSpec): { object: KubeObject; at: string }[] => [
  { object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec }, at: 'spec' },
  ...(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'] as const).map((kind) => ({
    object: {
      apiVersion: kind === 'Job' ? 'batch/v1' : 'apps/v1',
      kind,
      metadata: { name: 'w' },
      spec: { template: { spec } },
    },
    at: 'spec.template.spec',
  })),
  {
    object: {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'c' },
      spec: { jobTemplate: { spec: { template: { spec } } } },
    },
    at: 'spec.jobTemplate.spec.template.spec',
  },
];

export const role = (rules: unknown[], kind: 'Role' | 'ClusterRole' = 'ClusterRole'): KubeObject => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind,
  metadata: { name: 'r' },
  rules,
});

export const binding = (
  roleName: string,
  kind: 'RoleBinding' | 'ClusterRoleBinding' = 'ClusterRoleBinding',
): KubeObject => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind,
  metadata: { name: 'b', namespace: kind === 'RoleBinding' ? 'team' : undefined },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
  subjects: [{ kind: 'ServiceAccount', name: 'sa', namespace: 'team' }],
});
