// Who consumes a Flux HelmRepository, whatever its type: the HelmReleases whose chart.spec.sourceRef names
// it, and the HelmCharts whose sourceRef names it that no such HelmRelease generated (helm-controller makes
// `<hrNamespace>-<hrName>` in the repository's namespace: that chart is watched through its HelmRelease).
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ObjectReader } from '../types.ts';
import {
  HELM_API,
  SOURCE_API,
  helmChartNameOf,
  parseHelmChart,
  parseHelmRelease,
  type HelmReleaseObject,
} from './objects.ts';

/** A consumer of a HelmRepository: what a child ArtifactVerification's sourceRef names. */
export interface HelmRepositoryConsumer {
  readonly kind: 'HelmRelease' | 'HelmChart';
  readonly namespace: string;
  readonly name: string;
}

/** Someone else's broken object is not this repository's problem: consumers that do not parse are skipped. */
const lenient =
  <T>(parse: (object: KubernetesObject) => T) =>
  (object: KubernetesObject): T[] => {
    try {
      return [parse(object)];
    } catch {
      return [];
    }
  };

/** Not localeCompare: the order (and so the children's order) must not depend on the operator's locale. */
const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const byKindNamespaceName = (a: HelmRepositoryConsumer, b: HelmRepositoryConsumer): number =>
  byCodePoint(a.kind, b.kind) || byCodePoint(a.namespace, b.namespace) || byCodePoint(a.name, b.name);

/** The HelmChart helm-controller made (or makes) for a HelmRelease with chart.spec. */
const generatedFor = (releases: readonly HelmReleaseObject[], namespace: string, name: string): boolean =>
  releases.some(
    (hr) =>
      hr.statusHelmChart === `${namespace}/${name}` ||
      (hr.chartTemplate?.sourceRef.namespace === namespace && helmChartNameOf(hr) === name),
  );

/**
 * The consumers of HelmRepository `namespace/name`, sorted. HelmReleases are looked up in
 * `consumerNamespace` (undefined: every namespace), HelmCharts in the repository's namespace only (a
 * HelmChart's sourceRef is local). HelmReleases with chartRef do not consume a HelmRepository. Every read
 * goes through `reader`, so the controller's dependency index sees the lists and wakes on a new consumer.
 */
export const listHelmRepositoryConsumers = async (
  reader: ObjectReader,
  namespace: string,
  name: string,
  consumerNamespace: string | undefined,
): Promise<HelmRepositoryConsumer[]> => {
  const releases = (await reader.list(HELM_API, 'HelmRelease', consumerNamespace))
    .flatMap(lenient(parseHelmRelease))
    .filter((hr) => {
      const ref = hr.chartTemplate?.sourceRef;
      return ref?.kind === 'HelmRepository' && ref.namespace === namespace && ref.name === name;
    });
  const charts = (await reader.list(SOURCE_API, 'HelmChart', namespace))
    .flatMap(lenient(parseHelmChart))
    .filter(
      (chart) =>
        chart.sourceRef.kind === 'HelmRepository' &&
        chart.sourceRef.name === name &&
        chart.namespace === namespace &&
        !generatedFor(releases, chart.namespace, chart.name),
    );
  return [
    ...releases.map((hr): HelmRepositoryConsumer => ({
      kind: 'HelmRelease',
      namespace: hr.namespace,
      name: hr.name,
    })),
    ...charts.map((c): HelmRepositoryConsumer => ({
      kind: 'HelmChart',
      namespace: c.namespace,
      name: c.name,
    })),
  ].sort(byKindNamespaceName);
};
