// Where the pod spec sits in each workload kind. Kinds tagguard does not know but that carry a pod
// template at the usual place (spec.template.spec, as Argo Rollouts do) are covered too.
import type { KubeObject } from '../manifests.ts';
import { dig, isRecord, type Json } from './object-access.ts';

export interface PodSpecAt {
  /** Dotted path from the object root, e.g. "spec.jobTemplate.spec.template.spec". */
  readonly path: string;
  readonly spec: Json;
}

const KNOWN: Readonly<Record<string, readonly string[]>> = {
  Pod: ['spec'],
  PodTemplate: ['template', 'spec'],
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

const FALLBACKS: readonly (readonly string[])[] = [
  ['spec', 'template', 'spec'],
  ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
];

export const podSpecOf = (object: KubeObject): PodSpecAt | undefined => {
  const known = KNOWN[object.kind];
  const candidates = known ? [known] : FALLBACKS;
  for (const keys of candidates) {
    const spec = dig(object, ...keys);
    if (!isRecord(spec)) continue;
    if (!known && !Array.isArray(spec.containers)) continue;
    return { path: keys.join('.'), spec };
  }
  return undefined;
};

export const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;
