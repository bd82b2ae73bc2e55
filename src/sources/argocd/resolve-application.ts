// Argo CD Application → the artifacts it deploys (docs/design.md#sources-and-targets): each Helm-OCI
// source (`chart` with a repoURL without scheme, or an http(s) repoURL whose repository Secret sets
// enableOCI), each native `oci://` source, with its targetRevision read as Argo CD v3.5 does
// (src/sources/argocd/semver.ts): a version (`1.2`, `v1`: the tag as written), a semver constraint (`1.x`,
// `>=1.0.0`, `*`: Argo's pick among the tags), else a digest or plain tag for native OCI only; and each chart
// of an HTTP(S) Helm repository (`chart` with an http(s) repoURL, no enableOCI), its version picked as
// src/sources/argocd/helm-http-version.ts says. Helm values come from helm.valuesObject or helm.values and
// helm.parameters; valueFiles and fileParameters live in a repository and are not read. Target: the
// Application.
import type { KubernetesObject } from '@kubernetes/client-node';
import { isArgoCdConstraint, isArgoCdVersion } from './semver.ts';
import { HELM_TLS_CERTS_CONFIGMAP, helmHttpChart } from './helm-http-source.ts';
import { helmValuesOf, type ApplicationSource } from './application-source.ts';
import { isDigest } from '../../registry/reference.ts';
import { SourceError } from '../errors.ts';
import { readObject, valueBeforePin, type FieldReader } from '../object-fields.ts';
import { parseOciUrl } from '../flux/artifacts.ts';
import type { ObjectReader, ResolvedSource, SemverRule, SourceArtifact } from '../types.ts';
import { repositorySettings } from './repository-secrets.ts';

export const ARGOCD_API = 'argoproj.io/v1alpha1';

type RevisionRef =
  { tag: string } | { semver: string; semverRule: SemverRule } | { digest: string } | { unpullable: string };

/**
 * Argo CD's reading of an OCI targetRevision. Helm-OCI (reposerver newHelmClientResolveRevision): a
 * version is pulled as written (`helm pull --version`; Helm pushes 1.0.0+b as tag 1.0.0_b), a constraint
 * picks among the chart's tags, and anything else (a plain tag, a digest) fails in Argo CD. Native OCI
 * (oci nativeOCIClient.resolveRevision): a digest or an existing tag as written, a constraint picks among
 * the tags (a tag spelled like the constraint first).
 */
export const classifyRevision = (revision: string, helm: boolean): RevisionRef => {
  if (helm) {
    if (isArgoCdVersion(revision)) return { tag: revision.replace(/\+/g, '_') };
    if (isArgoCdConstraint(revision)) return { semver: revision, semverRule: 'argocd-helm' };
    return { unpullable: revision };
  }
  if (isDigest(revision)) return { digest: revision };
  if (isArgoCdConstraint(revision)) return { semver: revision, semverRule: 'argocd-oci' };
  return { tag: revision };
};

/** The targetRevision the user wrote, when tagguard's Pin replaced it by a digest (null: there was none). */
const revisionBeforePin = (annotations: Readonly<Record<string, string>>): string | null | undefined => {
  const pinned = valueBeforePin(annotations, 'spec.source.targetRevision');
  if (pinned === undefined) return undefined;
  return typeof pinned.before === 'string' ? pinned.before : null;
};

const parseSource = (
  reader: FieldReader,
  index: number | undefined,
  pinnedFrom?: string | null,
): ApplicationSource => {
  const chart = reader.optionalString('chart');
  const written = reader.optionalString('targetRevision');
  const targetRevision = pinnedFrom === undefined ? written : (pinnedFrom ?? undefined);
  return {
    index,
    reader,
    repoURL: reader.string('repoURL'),
    ...(chart !== undefined ? { chart } : {}),
    ...(targetRevision !== undefined ? { targetRevision } : {}),
  };
};

export const sourceLabel = (appWhere: string, source: ApplicationSource): string =>
  source.index === undefined ? `${appWhere} source` : `${appWhere} sources[${source.index}]`;

/** The artifact of one source, or undefined when it is not a chart or OCI (git, a plain directory). */
const artifactOf = async (
  source: ApplicationSource,
  appWhere: string,
  project: string,
  reader: ObjectReader,
  argocdNamespace: string,
): Promise<SourceArtifact | undefined> => {
  const origin = sourceLabel(appWhere, source);
  const native = /^oci:\/\//i.test(source.repoURL);
  if (!native && source.chart === undefined) return undefined;
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(source.repoURL);
  if (!native && hasScheme) {
    if (!/^https?:\/\//i.test(source.repoURL)) return undefined;
    // An HTTP(S) Helm repository unless its repository Secret sets enableOCI (Argo CD's helm client).
    const http = await repositorySettings(reader, argocdNamespace, source.repoURL, project, 'helm-http');
    if (!http.enableOCI)
      return helmHttpChart(source, origin, http, {
        namespace: argocdNamespace,
        name: HELM_TLS_CERTS_CONFIGMAP,
      });
  }
  const settings = await repositorySettings(reader, argocdNamespace, source.repoURL, project);

  const revision = source.targetRevision;
  if (revision === undefined)
    throw new SourceError('InvalidObject', `${origin}: targetRevision is required for an OCI source`);
  const base = source.repoURL.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/\/+$/, '');
  const { url, reference } = parseOciUrl(
    native ? `oci://${base}` : `oci://${base}/${source.chart ?? ''}`,
    origin,
  );
  const ref = classifyRevision(revision, !native);
  if ('unpullable' in ref)
    throw new SourceError(
      'InvalidObject',
      `${origin}: targetRevision "${revision}" is neither a version nor a semver constraint; Argo CD cannot pull a Helm-OCI chart by it`,
    );
  const { values, notes } = helmValuesOf(source, origin);
  return {
    url,
    reference,
    ...ref,
    credentials: settings.credentials,
    insecure: settings.insecureOCIForceHttp,
    tlsSkipVerify: settings.insecure,
    ...(values !== undefined ? { helmValues: values } : {}),
    ...(notes.length > 0 ? { helmValuesNotes: notes } : {}),
    origin,
  };
};

export const resolveApplication = async (
  object: KubernetesObject,
  sourceIndex: number | undefined,
  reader: ObjectReader,
  argocdNamespace: string,
): Promise<ResolvedSource> => {
  const { namespace, name, where, spec, annotations } = readObject(object, 'Application');
  const project = spec.optionalString('project') ?? 'default';
  if (spec.optionalObject('sourceHydrator'))
    throw new SourceError(
      'Unsupported',
      `${where}: sourceHydrator sources are git repositories, not OCI artifacts`,
    );
  const many = spec.objects('sources');
  const single = spec.optionalObject('source');
  const sources =
    many.length > 0
      ? many.map((s, i) => parseSource(s, i))
      : single
        ? [parseSource(single, undefined, revisionBeforePin(annotations))]
        : [];

  let selected = sources;
  if (sourceIndex !== undefined) {
    const chosen = many.length > 0 ? sources[sourceIndex] : sourceIndex === 0 ? sources[0] : undefined;
    if (!chosen)
      throw new SourceError(
        'InvalidObject',
        `${where}: sourceIndex ${sourceIndex} is out of range (${sources.length} sources)`,
      );
    selected = [chosen];
  }

  const artifacts: SourceArtifact[] = [];
  for (const source of selected) {
    const artifact = await artifactOf(source, where, project, reader, argocdNamespace);
    if (artifact) artifacts.push(artifact);
    else if (sourceIndex !== undefined)
      throw new SourceError(
        'Unsupported',
        `${sourceLabel(where, source)}: ${source.repoURL} is not an OCI, Helm-OCI or Helm repository source`,
      );
  }
  if (artifacts.length === 0)
    throw new SourceError('Unsupported', `${where}: no OCI, Helm-OCI or Helm repository source`);
  // Pin can set the targetRevision of one native OCI source (not a Helm-OCI chart, not a list item).
  const pinnable =
    many.length === 0 &&
    single !== undefined &&
    selected[0]?.chart === undefined &&
    /^oci:\/\//i.test(selected[0]?.repoURL ?? '');
  return {
    artifacts,
    targets: [
      {
        apiVersion: ARGOCD_API,
        kind: 'Application',
        namespace,
        name,
        ...(pinnable ? { pin: 'digest' } : {}),
      },
    ],
  };
};
