// Test helpers around ArtifactVerifications: create, read, wait for a condition, ask for a re-check,
// and the Events recorded about an object.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ArtifactVerification } from '../../src/api/artifact-verification.ts';
import type { KubeTestClient } from './kube.ts';
import { waitFor } from './processes.ts';

export const avObject = (namespace: string, name: string, spec: Record<string, unknown>): KubernetesObject =>
  ({
    apiVersion: 'tagguard.dev/v1alpha1',
    kind: 'ArtifactVerification',
    metadata: { name, namespace },
    spec,
  }) as KubernetesObject;

export const condition = (object: ArtifactVerification, type: string) =>
  object.status?.conditions?.find((c) => c.type === type);

/** The digest has been judged: not the quarantine's interim status (Ready reason Verifying). */
export const judged = (object: ArtifactVerification): boolean =>
  condition(object, 'Ready')?.reason !== 'Verifying';

/** Polls until the predicate holds (waitFor wants a value; a predicate's false means "not yet"). */
export const until = (what: string, timeoutMs: number, predicate: () => Promise<boolean>): Promise<true> =>
  waitFor(what, async () => ((await predicate()) ? true : undefined), { timeoutMs, intervalMs: 250 });

export const readAv = (
  kube: KubeTestClient,
  namespace: string,
  name: string,
): Promise<ArtifactVerification> =>
  kube.read<ArtifactVerification & KubernetesObject>(
    'tagguard.dev/v1alpha1',
    'ArtifactVerification',
    name,
    namespace,
  );

export const waitForAv = async (
  kube: KubeTestClient,
  namespace: string,
  name: string,
  what: string,
  predicate: (o: ArtifactVerification) => boolean,
  timeoutMs = 60_000,
): Promise<ArtifactVerification> => {
  let last: ArtifactVerification | undefined;
  await until(`${name}: ${what}`, timeoutMs, async () => {
    last = await readAv(kube, namespace, name);
    return predicate(last);
  }).catch((error: unknown) => {
    throw new Error(`${String(error)}\nlast status: ${JSON.stringify(last?.status, null, 2)}`);
  });
  return last as ArtifactVerification;
};

/** Sets tagguard.dev/requested-at: an immediate re-check (resolves the tag again). */
export const requestCheck = (
  kube: KubeTestClient,
  namespace: string,
  name: string,
): Promise<KubernetesObject> =>
  kube.mergePatch(
    { apiVersion: 'tagguard.dev/v1alpha1', kind: 'ArtifactVerification', metadata: { name, namespace } },
    { metadata: { name, namespace, annotations: { 'tagguard.dev/requested-at': String(Date.now()) } } },
  );

/** Reasons of the events.k8s.io Events about the named object in the namespace. */
export const eventReasons = async (
  kube: KubeTestClient,
  namespace: string,
  name: string,
  kind?: string,
): Promise<string[]> => {
  const list = (await kube.objects.list('events.k8s.io/v1', 'Event', namespace)) as {
    items: { reason?: string; regarding?: { name?: string; kind?: string } }[];
  };
  return list.items
    .filter((e) => e.regarding?.name === name && (kind === undefined || e.regarding.kind === kind))
    .map((e) => e.reason ?? '');
};
