// The entry points the controller calls: an ArtifactVerification's sourceRef → the artifacts to watch
// and the GitOps objects to hold, or, for a HelmRepository, its consumers. Enforces the namespace boundary:
// without --allow-cross-namespace-refs the sourceRef must be in the CR's namespace, consumers are looked up
// there only, and targets found in other namespaces (a chartRef's OCIRepository elsewhere) are left out.
import type { SourceReference } from '../api/artifact-verification.ts';
import { ARGOCD_API, resolveApplication } from './argocd/resolve-application.ts';
import { SourceError } from './errors.ts';
import {
  listHelmRepositoryConsumers,
  type HelmRepositoryConsumer,
} from './flux/helm-repository-consumers.ts';
import { SOURCE_API, parseHelmRepository } from './flux/objects.ts';
import { resolveFluxSource } from './flux/resolve-flux.ts';
import { objectName } from './object-fields.ts';
import type { ObjectReader, ResolveOptions, ResolvedSource } from './types.ts';

export type { HelmRepositoryConsumer };

/** The sourceRef's namespace, refused when it is another one than the CR's and that is not allowed. */
const sourceNamespace = (ref: SourceReference, crNamespace: string, options: ResolveOptions): string => {
  const namespace = ref.namespace ?? crNamespace;
  if (namespace !== crNamespace && !options.allowCrossNamespace)
    throw new SourceError(
      'CrossNamespaceForbidden',
      `sourceRef ${objectName(ref.kind, namespace, ref.name)} is outside namespace ${crNamespace} (needs --allow-cross-namespace-refs)`,
    );
  return namespace;
};

export interface HelmRepositorySource {
  readonly repository: {
    readonly namespace: string;
    readonly name: string;
    /** default (HTTP/S, index.yaml) or oci: the caller decides what it supports; discovery does not care. */
    readonly type: 'default' | 'oci';
    readonly url: string;
  };
  /** HelmReleases (chart.spec) and HelmCharts that consume the repository, inside the namespace boundary. */
  readonly consumers: readonly HelmRepositoryConsumer[];
}

/**
 * A sourceRef of kind HelmRepository: the repository (it must exist and parse) and its consumers, looked
 * up in the CR's namespace only without --allow-cross-namespace-refs, in every namespace with it.
 */
export const resolveHelmRepository = async (
  ref: SourceReference,
  crNamespace: string,
  reader: ObjectReader,
  options: ResolveOptions,
): Promise<HelmRepositorySource> => {
  const namespace = sourceNamespace(ref, crNamespace, options);
  const object = await reader.get(SOURCE_API, 'HelmRepository', namespace, ref.name);
  if (object === undefined)
    throw new SourceError('NotFound', `${objectName('HelmRepository', namespace, ref.name)} does not exist`);
  const repository = parseHelmRepository(object);
  const consumers = await listHelmRepositoryConsumers(
    reader,
    namespace,
    ref.name,
    options.allowCrossNamespace ? undefined : crNamespace,
  );
  return {
    repository: { namespace, name: ref.name, type: repository.type, url: repository.url },
    consumers,
  };
};

export const resolveSource = async (
  ref: SourceReference,
  crNamespace: string,
  reader: ObjectReader,
  options: ResolveOptions,
): Promise<ResolvedSource> => {
  const namespace = sourceNamespace(ref, crNamespace, options);

  let resolved: ResolvedSource;
  switch (ref.kind) {
    case 'OCIRepository':
    case 'HelmChart':
    case 'HelmRelease':
      resolved = await resolveFluxSource(
        { reader, consumerNamespace: options.allowCrossNamespace ? undefined : crNamespace },
        ref.kind,
        namespace,
        ref.name,
      );
      break;
    case 'Application': {
      const app = await reader.get(ARGOCD_API, 'Application', namespace, ref.name);
      if (app === undefined)
        throw new SourceError('NotFound', `${objectName('Application', namespace, ref.name)} does not exist`);
      resolved = await resolveApplication(app, ref.sourceIndex, reader, options.argocdNamespace);
      break;
    }
    case 'HelmRepository':
      // A repository serves many charts: the controller fans it out to one child per consumer
      // (resolveHelmRepository); no single artifact stands for it.
      throw new SourceError(
        'Unsupported',
        `${objectName('HelmRepository', namespace, ref.name)} is watched through its consumers, not as one artifact`,
      );
    default:
      throw new SourceError(
        'Unsupported',
        `sourceRef kind "${String((ref as { kind: unknown }).kind)}" is not supported`,
      );
  }
  if (options.allowCrossNamespace) return resolved;
  return { ...resolved, targets: resolved.targets.filter((t) => t.namespace === crNamespace) };
};
