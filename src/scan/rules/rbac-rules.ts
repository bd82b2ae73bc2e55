// Rules over RBAC objects: wildcards and Secret access in (Cluster)Roles, cluster-admin in bindings.
import type { Finding } from '../../api/artifact-verification.ts';
import type { KubeObject } from '../manifests.ts';
import { dig, records, resourceOf, strings } from './object-access.ts';
import { RULES, type RuleId } from './rule-catalog.ts';

const isRbac = (object: KubeObject): boolean => object.apiVersion.startsWith('rbac.authorization.k8s.io/');

export const rbacFindings = (object: KubeObject): Finding[] => {
  if (!isRbac(object)) return [];
  const resource = resourceOf(object);
  const findings: Finding[] = [];
  const emit = (rule: RuleId, path: string, message: string): void => {
    findings.push({ rule, severity: RULES[rule].severity, resource, path, message });
  };
  if (object.kind === 'Role' || object.kind === 'ClusterRole') {
    records(object.rules).forEach((rule, i) => {
      for (const field of ['verbs', 'resources', 'nonResourceURLs'] as const) {
        if (strings(rule[field]).includes('*'))
          emit('rbac-wildcard', `rules[${i}].${field}`, `grants "*" ${field}`);
      }
      const groups = strings(rule.apiGroups);
      const coreGroup = groups.length === 0 || groups.includes('') || groups.includes('*');
      if (coreGroup && strings(rule.resources).includes('secrets')) {
        const verbs = strings(rule.verbs);
        emit(
          'secrets-access',
          `rules[${i}].resources`,
          `grants ${verbs.join(', ') || 'no verbs'} on secrets`,
        );
      }
    });
  }
  if (object.kind === 'RoleBinding' || object.kind === 'ClusterRoleBinding') {
    if (
      dig(object, 'roleRef', 'kind') === 'ClusterRole' &&
      dig(object, 'roleRef', 'name') === 'cluster-admin'
    ) {
      const subjects = records(object.subjects)
        .map((s) => `${String(s.kind)}/${String(s.name)}`)
        .join(', ');
      emit('cluster-admin-binding', 'roleRef.name', `binds cluster-admin to ${subjects || 'no subjects'}`);
    }
  }
  return findings;
};
