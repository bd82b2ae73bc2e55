// Flux sourceRefs → artifacts and targets (docs/design.md#sources-and-targets): OCIRepository (targets:
// itself, the Kustomizations and HelmReleases that consume it), HelmChart from a HelmRepository (itself
// and the HelmRelease that owns it), HelmRelease (itself and its HelmChart or OCIRepository). The values of
// the consuming HelmRelease go with the artifact for the scan when exactly one HelmRelease consumes it.
import type { KubernetesObject } from '@kubernetes/client-node';
import { SourceError } from '../errors.ts';
import { objectName } from '../object-fields.ts';
import type { ObjectReader, ResolvedSource, SourceArtifact, TargetRef } from '../types.ts';
import { helmRepositoryChartArtifact, ociRepositoryArtifact } from './artifacts.ts';
import {
  HELM_API,
  KUSTOMIZE_API,
  SOURCE_API,
  helmChartNameOf,
  parseHelmChart,
  parseHelmRelease,
  parseHelmRepository,
  parseKustomization,
  parseOCIRepository,
  type HelmChartObject,
  type HelmReleaseObject,
  type NamespacedRef,
} from './objects.ts';
import { composeHelmReleaseValues } from './values-from.ts';

export type FluxSourceKind = 'OCIRepository' | 'HelmChart' | 'HelmRelease';

export interface FluxContext {
  readonly reader: ObjectReader;
  /** Where to look for consumers (Kustomizations, HelmReleases): one namespace, or every one. */
  readonly consumerNamespace: string | undefined;
}

const API_OF: Readonly<Record<string, string>> = {
  OCIRepository: SOURCE_API,
  HelmRepository: SOURCE_API,
  HelmChart: SOURCE_API,
  HelmRelease: HELM_API,
  Kustomization: KUSTOMIZE_API,
};

const target = (kind: string, namespace: string, name: string, pin?: TargetRef['pin']): TargetRef => ({
  apiVersion: API_OF[kind] ?? SOURCE_API,
  kind,
  namespace,
  name,
  ...(pin !== undefined ? { pin } : {}),
});

/** A chart version range can be pinned to the exact verified version; an exact version already is one. */
const versionPin = (artifact: SourceArtifact): TargetRef['pin'] =>
  artifact.semver !== undefined ? 'version' : undefined;

const mustGet = async (
  reader: ObjectReader,
  ref: NamespacedRef,
  referrer: string,
): Promise<KubernetesObject> => {
  const object = await reader.get(API_OF[ref.kind] ?? SOURCE_API, ref.kind, ref.namespace, ref.name);
  if (object === undefined) {
    const name = objectName(ref.kind, ref.namespace, ref.name);
    throw new SourceError(
      'NotFound',
      referrer === name ? `${name} does not exist` : `${referrer}: ${name} does not exist`,
    );
  }
  return object;
};

const refersTo = (ref: NamespacedRef, kind: string, namespace: string, name: string): boolean =>
  ref.kind === kind && ref.namespace === namespace && ref.name === name;

/** Someone else's broken object is not this source's problem: consumers that do not parse are skipped. */
const lenient =
  <T>(parse: (object: KubernetesObject) => T) =>
  (object: KubernetesObject): T[] => {
    try {
      return [parse(object)];
    } catch {
      return [];
    }
  };

/** HelmReleases and Kustomizations whose chartRef / sourceRef is the given source object. */
const consumersOf = async (
  ctx: FluxContext,
  kind: 'OCIRepository' | 'HelmChart',
  namespace: string,
  name: string,
): Promise<{ releases: HelmReleaseObject[]; kustomizations: TargetRef[] }> => {
  const releases = (await ctx.reader.list(HELM_API, 'HelmRelease', ctx.consumerNamespace))
    .flatMap(lenient(parseHelmRelease))
    .filter((hr) => {
      if (hr.chartRef) return refersTo(hr.chartRef, kind, namespace, name);
      if (kind !== 'HelmChart' || !hr.chartTemplate) return false;
      return (
        hr.statusHelmChart === `${namespace}/${name}` ||
        (hr.chartTemplate.sourceRef.namespace === namespace && helmChartNameOf(hr) === name)
      );
    });
  const kustomizations =
    kind === 'OCIRepository'
      ? (await ctx.reader.list(KUSTOMIZE_API, 'Kustomization', ctx.consumerNamespace))
          .flatMap(lenient(parseKustomization))
          .filter((k) => refersTo(k.sourceRef, kind, namespace, name))
          .map((k) => target('Kustomization', k.namespace, k.name))
      : [];
  return { releases, kustomizations };
};

const withValues = async <A extends SourceArtifact>(
  artifact: A,
  releases: readonly HelmReleaseObject[],
  reader: ObjectReader,
): Promise<A> => {
  const [only, ...others] = releases;
  if (only === undefined) return artifact;
  if (others.length > 0)
    return {
      ...artifact,
      helmValuesNotes: [
        `${releases.length} HelmReleases consume this chart with their own values; the scan uses the chart defaults`,
      ],
    };
  return { ...artifact, helmValues: await composeHelmReleaseValues(only, reader) };
};

const resolveOCIRepository = async (
  ctx: FluxContext,
  namespace: string,
  name: string,
): Promise<ResolvedSource> => {
  const ref = { kind: 'OCIRepository', namespace, name };
  const repo = parseOCIRepository(
    await mustGet(ctx.reader, ref, objectName('OCIRepository', namespace, name)),
  );
  const artifact = await ociRepositoryArtifact(repo, ctx.reader);
  const { releases, kustomizations } = await consumersOf(ctx, 'OCIRepository', namespace, name);
  return {
    artifacts: [await withValues(artifact, releases, ctx.reader)],
    targets: [
      target('OCIRepository', namespace, name, 'digest'),
      ...kustomizations,
      ...releases.map((hr) => target('HelmRelease', hr.namespace, hr.name)),
    ],
  };
};

const helmChartArtifact = async (ctx: FluxContext, chart: HelmChartObject): Promise<SourceArtifact> => {
  if (chart.sourceRef.kind !== 'HelmRepository')
    throw new SourceError(
      'Unsupported',
      `${chart.where}: charts from a ${chart.sourceRef.kind} are not supported; only from a HelmRepository`,
    );
  const repo = parseHelmRepository(await mustGet(ctx.reader, chart.sourceRef, chart.where));
  return helmRepositoryChartArtifact(repo, chart.chart, chart.version, chart.where);
};

const resolveHelmChart = async (
  ctx: FluxContext,
  namespace: string,
  name: string,
): Promise<ResolvedSource> => {
  const where = objectName('HelmChart', namespace, name);
  const chart = parseHelmChart(await mustGet(ctx.reader, { kind: 'HelmChart', namespace, name }, where));
  const artifact = await helmChartArtifact(ctx, chart);
  const { releases } = await consumersOf(ctx, 'HelmChart', namespace, name);
  // A HelmChart helm-controller generates from a HelmRelease template is rewritten from that template:
  // the template is pinned, not the HelmChart.
  const generated = releases.some((hr) => hr.chartTemplate !== undefined);
  return {
    artifacts: [await withValues(artifact, releases, ctx.reader)],
    targets: [
      target('HelmChart', namespace, name, generated ? undefined : versionPin(artifact)),
      ...releases.map((hr) =>
        target('HelmRelease', hr.namespace, hr.name, hr.chartTemplate ? versionPin(artifact) : undefined),
      ),
    ],
  };
};

const resolveHelmRelease = async (
  ctx: FluxContext,
  namespace: string,
  name: string,
): Promise<ResolvedSource> => {
  const where = objectName('HelmRelease', namespace, name);
  const release = parseHelmRelease(
    await mustGet(ctx.reader, { kind: 'HelmRelease', namespace, name }, where),
  );
  let artifact: SourceArtifact;
  let source: TargetRef | undefined;

  if (release.chartTemplate) {
    const { chart, version, sourceRef } = release.chartTemplate;
    if (sourceRef.kind !== 'HelmRepository')
      throw new SourceError(
        'Unsupported',
        `${where}: charts from a ${sourceRef.kind} are not supported; only from a HelmRepository`,
      );
    const repo = parseHelmRepository(await mustGet(ctx.reader, sourceRef, where));
    artifact = helmRepositoryChartArtifact(repo, chart, version, where);
    // The HelmChart helm-controller made from the template, once it exists.
    const chartName = helmChartNameOf(release);
    const existing = await ctx.reader.get(SOURCE_API, 'HelmChart', sourceRef.namespace, chartName);
    if (existing !== undefined) source = target('HelmChart', sourceRef.namespace, chartName);
  } else if (release.chartRef?.kind === 'OCIRepository') {
    const repo = parseOCIRepository(await mustGet(ctx.reader, release.chartRef, where));
    artifact = await ociRepositoryArtifact(repo, ctx.reader);
    source = target('OCIRepository', repo.namespace, repo.name, 'digest');
  } else if (release.chartRef?.kind === 'HelmChart') {
    const chart = parseHelmChart(await mustGet(ctx.reader, release.chartRef, where));
    artifact = await helmChartArtifact(ctx, chart);
    source = target('HelmChart', chart.namespace, chart.name, versionPin(artifact));
  } else {
    throw new SourceError(
      'Unsupported',
      `${where}: spec.chartRef.kind "${release.chartRef?.kind}" is not supported`,
    );
  }
  const self = target(
    'HelmRelease',
    namespace,
    name,
    release.chartTemplate ? versionPin(artifact) : undefined,
  );
  return {
    artifacts: [
      { ...artifact, origin: where, helmValues: await composeHelmReleaseValues(release, ctx.reader) },
    ],
    targets: source ? [self, source] : [self],
  };
};

export const resolveFluxSource = (
  ctx: FluxContext,
  kind: FluxSourceKind,
  namespace: string,
  name: string,
): Promise<ResolvedSource> => {
  switch (kind) {
    case 'OCIRepository':
      return resolveOCIRepository(ctx, namespace, name);
    case 'HelmChart':
      return resolveHelmChart(ctx, namespace, name);
    case 'HelmRelease':
      return resolveHelmRelease(ctx, namespace, name);
  }
};
