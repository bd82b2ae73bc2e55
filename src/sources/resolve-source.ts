// The one entry point the controller calls: an ArtifactVerification's sourceRef → the artifacts to watch
// and the GitOps objects to hold. Enforces the namespace boundary: without --allow-cross-namespace-refs
// the sourceRef must be in the CR's namespace, consumers are looked up there only, and targets found in
// other namespaces (a chartRef's OCIRepository elsewhere) are left out.
import type { SourceReference } from '../api/artifact-verification.ts';
import { ARGOCD_API, resolveApplication } from './argocd/resolve-application.ts';
import { SourceError } from './errors.ts';
import { resolveFluxSource } from './flux/resolve-flux.ts';
import { objectName } from './object-fields.ts';
import type { ObjectReader, ResolveOptions, ResolvedSource } from './types.ts';

export const resolveSource = async (
  ref: SourceReference,
  crNamespace: string,
  reader: ObjectReader,
  options: ResolveOptions,
): Promise<ResolvedSource> => {
  const namespace = ref.namespace ?? crNamespace;
  if (namespace !== crNamespace && !options.allowCrossNamespace)
    throw new SourceError(
      'CrossNamespaceForbidden',
      `sourceRef ${objectName(ref.kind, namespace, ref.name)} is outside namespace ${crNamespace} (needs --allow-cross-namespace-refs)`,
    );

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
    default:
      throw new SourceError(
        'Unsupported',
        `sourceRef kind "${String((ref as { kind: unknown }).kind)}" is not supported`,
      );
  }
  if (options.allowCrossNamespace) return resolved;
  return { ...resolved, targets: resolved.targets.filter((t) => t.namespace === crNamespace) };
};
