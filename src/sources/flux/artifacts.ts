// From Flux source objects to the artifact tagguard watches: OCIRepository (url + ref, digest > semver >
// tag, default tag "latest"; secretRef and the service account's imagePullSecrets, certSecretRef,
// insecure), a chart of an OCI HelmRepository (url/chart + version: an exact version is a tag, anything
// else a semver constraint, as source-controller) and a chart of an HTTP(S) HelmRepository (the index's
// entry for the version). Cloud providers' workload identity is not supported.
import { RegistryError } from '../../registry/errors.ts';
import { parseReference, type RepositoryReference } from '../../registry/reference.ts';
import { SourceError } from '../errors.ts';
import { isRecord } from '../object-fields.ts';
import type {
  CredentialSource,
  ObjectReader,
  SecretRef,
  SourceArtifact,
  WatchedArtifact,
  WatchedHelmChart,
} from '../types.ts';
import type { HelmRepositoryObject, OCIRepositoryObject } from './objects.ts';

/** An oci:// URL as checked, and the repository it names. */
export interface OciRepositoryUrl {
  /** Without a trailing slash. */
  readonly url: string;
  readonly reference: RepositoryReference;
}

/** `oci://host/repo` checked, without a trailing slash, and parsed; anything else is an InvalidObject. */
export const parseOciUrl = (url: string, where: string): OciRepositoryUrl => {
  const trimmed = url.trim().replace(/\/+$/, '');
  const rest = trimmed.replace(/^oci:\/\//i, '');
  const slash = rest.indexOf('/');
  if (rest === trimmed || slash < 0 || /[:@]/.test(rest.slice(slash + 1)))
    throw new SourceError(
      'InvalidObject',
      `${where}: url "${url}" is not oci://host/repository (without tag or digest)`,
    );
  try {
    const { registry, repository } = parseReference(trimmed);
    return { url: trimmed, reference: { registry, repository } };
  } catch (cause) {
    if (!(cause instanceof RegistryError)) throw cause;
    throw new SourceError('InvalidObject', `${where}: url "${url}" is not a valid OCI repository`, {
      cause,
    });
  }
};

const unsupportedProvider = (provider: string, where: string): void => {
  if (provider !== 'generic')
    throw new SourceError(
      'Unsupported',
      `${where}: spec.provider "${provider}" (cloud workload identity) is not supported; use a secretRef`,
    );
};

const pullSecretsOf = async (
  reader: ObjectReader,
  namespace: string,
  serviceAccount: string,
  where: string,
): Promise<SecretRef[]> => {
  const sa: unknown = await reader.get('v1', 'ServiceAccount', namespace, serviceAccount);
  if (sa === undefined)
    throw new SourceError(
      'NotFound',
      `${where}: ServiceAccount ${namespace}/${serviceAccount} does not exist`,
    );
  const list = isRecord(sa) && Array.isArray(sa.imagePullSecrets) ? (sa.imagePullSecrets as unknown[]) : [];
  return list.flatMap((entry) =>
    isRecord(entry) && typeof entry.name === 'string' && entry.name !== ''
      ? [{ namespace, name: entry.name }]
      : [],
  );
};

export const ociRepositoryArtifact = async (
  repo: OCIRepositoryObject,
  reader: ObjectReader,
): Promise<WatchedArtifact> => {
  unsupportedProvider(repo.provider, repo.where);
  const { url, reference } = parseOciUrl(repo.url, repo.where);
  const { digest, semver, semverFilter, tag } = repo.ref;
  const ref =
    digest !== undefined
      ? { digest, ...(tag !== undefined ? { tag } : {}) }
      : semver !== undefined
        ? { semver, ...(semverFilter !== undefined ? { semverFilter } : {}) }
        : { tag: tag ?? 'latest' };
  const secrets: SecretRef[] = [
    ...(repo.secretRef !== undefined ? [{ namespace: repo.namespace, name: repo.secretRef }] : []),
    ...(repo.serviceAccountName !== undefined
      ? await pullSecretsOf(reader, repo.namespace, repo.serviceAccountName, repo.where)
      : []),
  ];
  const credentials: CredentialSource =
    secrets.length > 0 ? { kind: 'dockerconfigjson', secrets } : { kind: 'anonymous' };
  return {
    url,
    reference,
    ...ref,
    credentials,
    insecure: repo.insecure,
    tlsSkipVerify: false,
    ...(repo.certSecretRef !== undefined
      ? { caSecret: { namespace: repo.namespace, name: repo.certSecretRef } }
      : {}),
    origin: repo.where,
  };
};

// fluxcd/pkg/version.ParseVersion: strict semver, an optional leading "v".
const STRICT_VERSION =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

/**
 * A chart of an HTTP(S) HelmRepository (type default). The version as source-controller reads it
 * (`ChartRepository.GetChartVersion`): a strict version is that version (an entry of exactly that string
 * first); anything else, empty included, a constraint whose newest match is taken.
 */
const httpRepositoryChart = (
  repo: HelmRepositoryObject,
  chart: string,
  version: string,
  origin: string,
): WatchedHelmChart => {
  const repositoryUrl = repo.url.trim().replace(/\/+$/, '');
  if (!/^https?:\/\//i.test(repositoryUrl))
    throw new SourceError('InvalidObject', `${repo.where}: url "${repo.url}" is not an http(s) URL`);
  return {
    kind: 'helm-http',
    repositoryUrl,
    chart,
    ...(STRICT_VERSION.test(version) ? { version } : { semver: version === '' ? '*' : version }),
    credentials:
      repo.secretRef !== undefined
        ? { kind: 'basic', secret: { namespace: repo.namespace, name: repo.secretRef } }
        : { kind: 'anonymous' },
    ...(repo.certSecretRef !== undefined
      ? { tlsSecret: { namespace: repo.namespace, name: repo.certSecretRef } }
      : {}),
    passCredentials: repo.passCredentials,
    tlsSkipVerify: false,
    origin,
  };
};

export const helmRepositoryChartArtifact = (
  repo: HelmRepositoryObject,
  chart: string,
  version: string,
  origin: string,
): SourceArtifact => {
  if (repo.type !== 'oci') return httpRepositoryChart(repo, chart, version, origin);
  unsupportedProvider(repo.provider, repo.where);
  const url = `${parseOciUrl(repo.url, repo.where).url}/${chart}`;
  const { reference } = parseOciUrl(url, origin);
  // OCI tags cannot hold "+": Helm pushes 1.0.0+build as tag 1.0.0_build.
  const ref = STRICT_VERSION.test(version)
    ? { tag: version.replace(/\+/g, '_') }
    : { semver: version === '' ? '*' : version };
  return {
    url,
    reference,
    ...ref,
    credentials:
      repo.secretRef !== undefined
        ? { kind: 'basic', secret: { namespace: repo.namespace, name: repo.secretRef } }
        : { kind: 'anonymous' },
    insecure: repo.insecure,
    tlsSkipVerify: false,
    ...(repo.certSecretRef !== undefined
      ? { caSecret: { namespace: repo.namespace, name: repo.certSecretRef } }
      : {}),
    origin,
  };
};
