// An Argo CD source that names a chart of an HTTP(S) Helm repository (`repoURL: https://…`, `chart`,
// `targetRevision`, no enableOCI) → the WatchedHelmChart its repo-server would `helm pull`: the repository
// Secret's url when one matches (Argo CD hands that to helm), the Secret's credentials and the CA Argo CD's
// repo-server reads for the host from argocd-tls-certs-cm. Decisions: docs/helm-repositories.md#argo-cd.
import { SourceError } from '../errors.ts';
import type { ConfigMapKeyRef, WatchedHelmChart } from '../types.ts';
import type { RepositorySettings } from './repository-secrets.ts';
import { helmValuesOf, type ApplicationSource } from './application-source.ts';
import { isArgoCdConstraint, isArgoCdVersion } from './semver.ts';

/** Argo CD's ConfigMap of repository CAs, one key per host name (mounted at the repo-server's TLS path). */
export const HELM_TLS_CERTS_CONFIGMAP = 'argocd-tls-certs-cm';

/**
 * Go's url.Hostname() of the URL as written (port and IPv6 brackets dropped, case kept), then Argo CD's
 * ServerNameWithoutPort (everything before the first ':'): the file name the repo-server looks for. undefined
 * where that is no file of the directory (an IPv6 address reads as "").
 */
export const argoCdCaKey = (repoURL: string): string | undefined => {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(repoURL)?.[1] ?? '';
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  const host = hostPort.startsWith('[') ? '' : (hostPort.split(':')[0] ?? '');
  return /^[A-Za-z0-9._-]+$/.test(host) && host !== '.' && host !== '..' ? host : undefined;
};

export const helmHttpChart = (
  source: ApplicationSource,
  origin: string,
  settings: RepositorySettings,
  tlsCerts: Omit<ConfigMapKeyRef, 'key'>,
): WatchedHelmChart => {
  const chart = source.chart ?? '';
  const revision = source.targetRevision;
  if (revision === undefined)
    throw new SourceError('InvalidObject', `${origin}: targetRevision is required for a Helm chart`);
  // Argo CD passes a version to `helm pull --version` as written and resolves a constraint itself; anything
  // else can only name an index entry helm drops on load (its version is no semantic version).
  const selection = isArgoCdVersion(revision)
    ? { version: revision }
    : isArgoCdConstraint(revision)
      ? { semver: revision }
      : undefined;
  if (selection === undefined)
    throw new SourceError(
      'InvalidObject',
      `${origin}: targetRevision "${revision.slice(0, 100)}" is neither a version nor a semver constraint; helm cannot pull a chart by it`,
    );
  if (chart === '' || chart.includes('/'))
    throw new SourceError('InvalidObject', `${origin}: chart "${chart.slice(0, 100)}" is not a chart name`);
  // helm's ResolveReferenceURL drops one trailing slash before adding its own; more would be another path.
  const repositoryUrl = settings.url ?? source.repoURL;
  if (/\/\/$/.test(repositoryUrl.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')))
    throw new SourceError('InvalidObject', `${origin}: repoURL ends with more than one "/"`);
  const key = argoCdCaKey(repositoryUrl);
  const secret = settings.credentials.kind === 'argocd-helm' ? settings.credentials.secret : undefined;
  const { values, notes } = helmValuesOf(source, origin);
  const helm = source.reader.optionalObject('helm');
  return {
    kind: 'helm-http',
    repositoryUrl: repositoryUrl.replace(/\/$/, ''),
    chart,
    ...selection,
    semverRule: 'argocd-helm',
    credentials: {
      kind: 'argocd-helm',
      ...(secret !== undefined ? { secret } : {}),
      ...(key !== undefined ? { caConfigMap: { ...tlsCerts, key } } : {}),
    },
    passCredentials: helm?.boolean('passCredentials') ?? false,
    tlsSkipVerify: settings.insecure,
    ...(values !== undefined ? { helmValues: values } : {}),
    ...(notes.length > 0 ? { helmValuesNotes: notes } : {}),
    origin,
  };
};
