// Runs every rule over parsed Kubernetes objects. Pure: no I/O, no clock; same input, same findings, in
// a stable order (most severe first, then by resource and path).
import type { Finding } from '../../api/artifact-verification.ts';
import type { KubeObject } from '../manifests.ts';
import { rbacFindings } from './rbac-rules.ts';
import { bySeverity } from './rule-catalog.ts';
import { workloadFindings } from './workload-rules.ts';

export const evaluateRules = (objects: readonly KubeObject[]): Finding[] =>
  objects
    .flatMap((object) => [...workloadFindings(object), ...rbacFindings(object)])
    .sort(
      (a, b) =>
        bySeverity(a.severity, b.severity) ||
        a.resource.localeCompare(b.resource) ||
        a.path.localeCompare(b.path) ||
        a.rule.localeCompare(b.rule),
    );
