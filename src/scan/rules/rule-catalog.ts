// The stable rule ids and their severities (docs/scanning.md#rules). Ids are API: they appear in findings, in
// exceptions and in metrics, so they never change meaning.
import type { Severity } from '../../api/artifact-verification.ts';

export const RULES = {
  'privileged-container': { severity: 'critical', summary: 'a container runs privileged' },
  'container-runtime-socket': {
    severity: 'critical',
    summary:
      'a hostPath volume exposes the container runtime socket (docker, containerd, CRI-O) or a directory holding it',
  },
  'cluster-admin-binding': {
    severity: 'critical',
    summary: 'a (Cluster)RoleBinding grants the cluster-admin ClusterRole',
  },
  'host-path-volume': { severity: 'high', summary: 'a pod mounts a hostPath volume' },
  'host-network': { severity: 'high', summary: 'a pod uses the node network namespace' },
  'host-pid': { severity: 'high', summary: 'a pod uses the node PID namespace' },
  'host-ipc': { severity: 'high', summary: 'a pod uses the node IPC namespace' },
  'dangerous-capabilities': { severity: 'high', summary: 'a container adds a dangerous Linux capability' },
  'privilege-escalation': { severity: 'high', summary: 'a container sets allowPrivilegeEscalation: true' },
  'rbac-wildcard': {
    severity: 'high',
    summary: 'a Role or ClusterRole grants "*" verbs, resources or non-resource URLs',
  },
  'secrets-access': { severity: 'medium', summary: 'a Role or ClusterRole grants access to Secrets' },
  'run-as-root': {
    severity: 'medium',
    summary: 'a container runs as UID 0 (runAsUser: 0 or runAsNonRoot: false)',
  },
  'host-port': { severity: 'low', summary: 'a container binds a host port' },
  'image-not-pinned': { severity: 'low', summary: 'a container image is not pinned by digest' },
} as const satisfies Record<string, { severity: Severity; summary: string }>;

export type RuleId = keyof typeof RULES;

export const RULE_IDS = Object.keys(RULES) as RuleId[];

const RANK: Readonly<Record<Severity, number>> = { critical: 4, high: 3, medium: 2, low: 1 };

/** True when `severity` is at or above `threshold`. */
export const atOrAbove = (severity: Severity, threshold: Severity): boolean =>
  RANK[severity] >= RANK[threshold];

export const bySeverity = (a: Severity, b: Severity): number => RANK[b] - RANK[a];
