// The Flux objects tagguard reads, parsed once into the few fields it needs (source.toolkit.fluxcd.io/v1,
// helm.toolkit.fluxcd.io/v2, kustomize.toolkit.fluxcd.io/v1, as in the v1.9 / v1.6 controller lines).
// Defaults are Flux's: a missing OCIRepository ref is tag "latest", a missing chart version is "*",
// a reference without a namespace is in the referring object's namespace.
import type { KubernetesObject } from '@kubernetes/client-node';
import { SourceError } from '../errors.ts';
import { readObject, valueBeforePin, type FieldReader } from '../object-fields.ts';

export const SOURCE_API = 'source.toolkit.fluxcd.io/v1';
export const HELM_API = 'helm.toolkit.fluxcd.io/v2';
export const KUSTOMIZE_API = 'kustomize.toolkit.fluxcd.io/v1';

export interface NamespacedRef {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

interface FluxObject {
  readonly namespace: string;
  readonly name: string;
  readonly where: string;
}

export interface OCIRepositoryObject extends FluxObject {
  readonly url: string;
  readonly ref: {
    readonly tag?: string;
    readonly semver?: string;
    readonly semverFilter?: string;
    readonly digest?: string;
  };
  readonly secretRef?: string;
  readonly certSecretRef?: string;
  readonly serviceAccountName?: string;
  readonly provider: string;
  readonly insecure: boolean;
}

export interface HelmRepositoryObject extends FluxObject {
  readonly url: string;
  readonly type: 'default' | 'oci';
  readonly secretRef?: string;
  readonly certSecretRef?: string;
  readonly provider: string;
  readonly insecure: boolean;
  /** HTTP repositories: send the credentials to other hosts than the repository's too. */
  readonly passCredentials: boolean;
}

export interface HelmChartObject extends FluxObject {
  readonly chart: string;
  readonly version: string;
  readonly sourceRef: NamespacedRef;
}

export interface ValuesReference {
  readonly kind: string;
  readonly name: string;
  readonly valuesKey: string;
  readonly targetPath?: string;
  readonly optional: boolean;
  readonly literal: boolean;
}

export interface HelmReleaseObject extends FluxObject {
  /** chart.spec: the HelmChart helm-controller creates from this template. */
  readonly chartTemplate?: {
    readonly chart: string;
    readonly version: string;
    readonly sourceRef: NamespacedRef;
  };
  /** chartRef: an OCIRepository or HelmChart. */
  readonly chartRef?: NamespacedRef;
  readonly values: Record<string, unknown>;
  readonly valuesFrom: readonly ValuesReference[];
  /** status.helmChart, "namespace/name" of the HelmChart in use. */
  readonly statusHelmChart?: string;
}

export interface KustomizationObject extends FluxObject {
  readonly sourceRef: NamespacedRef;
}

const ref = (reader: FieldReader, namespace: string): NamespacedRef => ({
  kind: reader.string('kind'),
  name: reader.string('name'),
  namespace: reader.optionalString('namespace') ?? namespace,
});

/**
 * The ref.digest (or the whole ref) that tagguard's Pin wrote, per the tagguard.dev/pre-hold record on the
 * object: the artifact to watch is what the ref said before the pin.
 */
const pinnedByTagguard = (
  annotations: Readonly<Record<string, string>>,
): { digestBefore?: string } | undefined => {
  if (valueBeforePin(annotations, 'spec.ref') !== undefined) return {};
  const pinned = valueBeforePin(annotations, 'spec.ref.digest');
  if (pinned === undefined) return undefined;
  return typeof pinned.before === 'string' ? { digestBefore: pinned.before } : {};
};

/** A chart version as the user wrote it: the range from before tagguard's version pin, if there is one. */
const versionAsWritten = (
  annotations: Readonly<Record<string, string>>,
  key: 'spec.chart.spec.version' | 'spec.version',
  written: string | undefined,
): string => {
  const pinned = valueBeforePin(annotations, key);
  const version =
    pinned === undefined ? written : typeof pinned.before === 'string' ? pinned.before : undefined;
  return version ?? '*';
};

export const parseOCIRepository = (object: KubernetesObject): OCIRepositoryObject => {
  const { namespace, name, where, spec, annotations } = readObject(object, 'OCIRepository');
  const r = spec.optionalObject('ref');
  const pin = pinnedByTagguard(annotations);
  const pick = (key: string): Record<string, string> => {
    const value = key === 'digest' && pin ? pin.digestBefore : r?.optionalString(key);
    return value === undefined ? {} : { [key]: value };
  };
  const secretRef = spec.optionalName('secretRef');
  const certSecretRef = spec.optionalName('certSecretRef');
  const serviceAccountName = spec.optionalString('serviceAccountName');
  return {
    namespace,
    name,
    where,
    url: spec.string('url'),
    ref: { ...pick('tag'), ...pick('semver'), ...pick('semverFilter'), ...pick('digest') },
    ...(secretRef !== undefined ? { secretRef } : {}),
    ...(certSecretRef !== undefined ? { certSecretRef } : {}),
    ...(serviceAccountName !== undefined ? { serviceAccountName } : {}),
    provider: spec.optionalString('provider') ?? 'generic',
    insecure: spec.boolean('insecure'),
  };
};

export const parseHelmRepository = (object: KubernetesObject): HelmRepositoryObject => {
  const { namespace, name, where, spec } = readObject(object, 'HelmRepository');
  const type = spec.optionalString('type') ?? 'default';
  if (type !== 'default' && type !== 'oci')
    throw new SourceError('InvalidObject', `${where}: spec.type "${type}" is neither default nor oci`);
  const secretRef = spec.optionalName('secretRef');
  const certSecretRef = spec.optionalName('certSecretRef');
  return {
    namespace,
    name,
    where,
    url: spec.string('url'),
    type,
    ...(secretRef !== undefined ? { secretRef } : {}),
    ...(certSecretRef !== undefined ? { certSecretRef } : {}),
    provider: spec.optionalString('provider') ?? 'generic',
    insecure: spec.boolean('insecure'),
    passCredentials: spec.boolean('passCredentials'),
  };
};

export const parseHelmChart = (object: KubernetesObject): HelmChartObject => {
  const { namespace, name, where, spec, annotations } = readObject(object, 'HelmChart');
  return {
    namespace,
    name,
    where,
    chart: spec.string('chart'),
    version: versionAsWritten(annotations, 'spec.version', spec.optionalString('version')),
    // A HelmChart's sourceRef is local: always in the HelmChart's namespace.
    sourceRef: { ...ref(spec.object('sourceRef'), namespace), namespace },
  };
};

const parseValuesReference = (reader: FieldReader): ValuesReference => {
  const targetPath = reader.optionalString('targetPath');
  return {
    kind: reader.string('kind'),
    name: reader.string('name'),
    valuesKey: reader.optionalString('valuesKey') ?? 'values.yaml',
    ...(targetPath !== undefined ? { targetPath } : {}),
    optional: reader.boolean('optional'),
    literal: reader.boolean('literal'),
  };
};

export const parseHelmRelease = (object: KubernetesObject): HelmReleaseObject => {
  const { namespace, name, where, spec, status, annotations } = readObject(object, 'HelmRelease');
  const template = spec.optionalObject('chart')?.object('spec');
  const chartRef = spec.optionalObject('chartRef');
  if ((template === undefined) === (chartRef === undefined))
    throw new SourceError(
      'InvalidObject',
      `${where}: exactly one of spec.chart and spec.chartRef must be set`,
    );
  const statusHelmChart = status.optionalString('helmChart');
  return {
    namespace,
    name,
    where,
    ...(template
      ? {
          chartTemplate: {
            chart: template.string('chart'),
            version: versionAsWritten(
              annotations,
              'spec.chart.spec.version',
              template.optionalString('version'),
            ),
            sourceRef: ref(template.object('sourceRef'), namespace),
          },
        }
      : {}),
    ...(chartRef ? { chartRef: ref(chartRef, namespace) } : {}),
    values: spec.optionalRecord('values') ?? {},
    valuesFrom: spec.objects('valuesFrom').map(parseValuesReference),
    ...(statusHelmChart !== undefined ? { statusHelmChart } : {}),
  };
};

export const parseKustomization = (object: KubernetesObject): KustomizationObject => {
  const { namespace, name, where, spec } = readObject(object, 'Kustomization');
  return { namespace, name, where, sourceRef: ref(spec.object('sourceRef'), namespace) };
};

/** helm-controller's name for the HelmChart it creates from a HelmRelease's chart template. */
export const helmChartNameOf = (release: { namespace: string; name: string }): string =>
  `${release.namespace}-${release.name}`;
