// Which Argo CD Secret gives the credentials for a repoURL, as Argo CD's util/db decides it: a
// `repository` Secret whose url is the same URL (lower-cased, trimmed, ".git" dropped) — one scoped to the
// Application's project first, else an unscoped one — and, when that Secret carries no credentials (or
// there is none), the `repo-creds` Secret with the longest URL prefix. Credentials inherited from
// repo-creds bring their enableOCI and insecureOCIForceHttp along (Argo CD's CopyCredentialsFrom). The
// Secret's `type` (git, helm, oci) is not part of the match, as in Argo CD.
import type { KubernetesObject } from '@kubernetes/client-node';
import { SourceError } from '../errors.ts';
import { isRecord } from '../object-fields.ts';
import type { CredentialSource, ObjectReader } from '../types.ts';

const SECRET_TYPE_LABEL = 'argocd.argoproj.io/secret-type';

/**
 * What the credentials are for: an OCI registry (username/password only) or an HTTP(S) Helm repository
 * (username/password and a TLS client certificate, as Argo CD's GetHelmCreds; the CA is the caller's).
 */
export type RepositoryPurpose = 'oci' | 'helm-http';

export interface RepositorySettings {
  readonly credentials: CredentialSource;
  readonly enableOCI: boolean;
  /** Plain HTTP. */
  readonly insecureOCIForceHttp: boolean;
  /** TLS without verification. */
  readonly insecure: boolean;
  /** The Secret(s) the settings came from, "namespace/name", for messages. */
  readonly from: readonly string[];
  /** The matching repository Secret's `url`: what Argo CD hands to helm (`--repo`) instead of the repoURL. */
  readonly url?: string;
}

interface RepoSecret {
  readonly namespace: string;
  readonly name: string;
  readonly data: Readonly<Record<string, string>>;
}

const decodeSecret = (object: KubernetesObject): RepoSecret | undefined => {
  const raw: unknown = object;
  const name = object.metadata?.name;
  const namespace = object.metadata?.namespace;
  if (!isRecord(raw) || !name || !namespace) return undefined;
  const data: Record<string, string> = {};
  if (isRecord(raw.data))
    for (const [key, value] of Object.entries(raw.data))
      if (typeof value === 'string') data[key] = Buffer.from(value, 'base64').toString('utf8');
  return { namespace, name, data };
};

/** Argo CD's NormalizeGitURL for the URLs that matter here (no SSH forms for OCI). */
const normalizeRepoUrl = (url: string): string =>
  url
    .trim()
    .toLowerCase()
    .replace(/\.git$/, '');

const flag = (secret: RepoSecret, key: string): boolean => {
  const value = secret.data[key];
  if (value === undefined || value === '') return false;
  if (/^(1|t|true)$/i.test(value)) return true;
  if (/^(0|f|false)$/i.test(value)) return false;
  throw new SourceError(
    'InvalidObject',
    `Secret ${secret.namespace}/${secret.name}: "${key}" is not a boolean`,
  );
};

// Argo CD's Repository.HasCredentials, for the keys it reads from a Secret.
const CREDENTIAL_KEYS = [
  'username',
  'password',
  'bearerToken',
  'sshPrivateKey',
  'tlsClientCertData',
  'githubAppPrivateKey',
  'azureServicePrincipalClientSecret',
];
const hasCredentials = (secret: RepoSecret): boolean =>
  CREDENTIAL_KEYS.some((key) => (secret.data[key] ?? '') !== '') || flag(secret, 'useAzureWorkloadIdentity');

const credentialsOf = (secret: RepoSecret, purpose: RepositoryPurpose): CredentialSource => {
  const has = (key: string): boolean => (secret.data[key] ?? '') !== '';
  if (purpose === 'helm-http') {
    // Argo CD builds a helm client for these with a workload identity token instead of the password.
    if (flag(secret, 'useAzureWorkloadIdentity'))
      throw new SourceError(
        'Unsupported',
        `Secret ${secret.namespace}/${secret.name}: Azure workload identity is not supported for Helm repositories`,
      );
    return { kind: 'argocd-helm', secret: { namespace: secret.namespace, name: secret.name } };
  }
  if (has('username') || has('password'))
    return { kind: 'argocd', secret: { namespace: secret.namespace, name: secret.name } };
  throw new SourceError(
    'Unsupported',
    `Secret ${secret.namespace}/${secret.name}: only username/password credentials are supported for OCI registries`,
  );
};

const listSecrets = async (reader: ObjectReader, namespace: string, type: string): Promise<RepoSecret[]> =>
  (await reader.list('v1', 'Secret', namespace, `${SECRET_TYPE_LABEL}=${type}`))
    .map(decodeSecret)
    .filter((s): s is RepoSecret => s !== undefined)
    .sort((a, b) => a.name.localeCompare(b.name)); // Argo CD's order is the informer's; ours is stable

const repositorySecret = (
  secrets: readonly RepoSecret[],
  repoURL: string,
  project: string,
): RepoSecret | undefined => {
  const wanted = normalizeRepoUrl(repoURL);
  const same = secrets.filter((s) => s.data.url !== undefined && normalizeRepoUrl(s.data.url) === wanted);
  return (
    same.find((s) => (s.data.project ?? '') === project) ?? same.find((s) => (s.data.project ?? '') === '')
  );
};

const repoCredsSecret = (secrets: readonly RepoSecret[], repoURL: string): RepoSecret | undefined => {
  const wanted = normalizeRepoUrl(repoURL);
  let best: RepoSecret | undefined;
  let longest = 0;
  for (const secret of secrets) {
    const prefix = normalizeRepoUrl(secret.data.url ?? '');
    if (prefix !== '' && wanted.startsWith(prefix) && prefix.length > longest) {
      best = secret;
      longest = prefix.length;
    }
  }
  return best;
};

const urlOf = (repo: RepoSecret | undefined): { url?: string } =>
  repo?.data.url !== undefined ? { url: repo.data.url } : {};

export const repositorySettings = async (
  reader: ObjectReader,
  argocdNamespace: string,
  repoURL: string,
  project: string,
  purpose: RepositoryPurpose = 'oci',
): Promise<RepositorySettings> => {
  const repo = repositorySecret(await listSecrets(reader, argocdNamespace, 'repository'), repoURL, project);
  if (repo && hasCredentials(repo)) {
    return {
      credentials: credentialsOf(repo, purpose),
      enableOCI: flag(repo, 'enableOCI'),
      insecureOCIForceHttp: flag(repo, 'insecureOCIForceHttp'),
      insecure: flag(repo, 'insecure'),
      from: [`${repo.namespace}/${repo.name}`],
      ...urlOf(repo),
    };
  }
  const creds = repoCredsSecret(await listSecrets(reader, argocdNamespace, 'repo-creds'), repoURL);
  if (creds) {
    // CopyCredentialsFrom keeps a client key the repository Secret has itself beside the template's
    // certificate: a pair from two Secrets, which tagguard does not assemble.
    if (purpose === 'helm-http' && repo && (repo.data.tlsClientCertKey ?? '') !== '')
      throw new SourceError(
        'Unsupported',
        `Secret ${repo.namespace}/${repo.name}: a tlsClientCertKey without credentials takes the rest from repo-creds ${creds.namespace}/${creds.name}; put the whole pair in one Secret`,
      );
    return {
      credentials: credentialsOf(creds, purpose),
      enableOCI: flag(creds, 'enableOCI'),
      insecureOCIForceHttp: flag(creds, 'insecureOCIForceHttp'),
      insecure: repo ? flag(repo, 'insecure') : false,
      from: [...(repo ? [`${repo.namespace}/${repo.name}`] : []), `${creds.namespace}/${creds.name}`],
      ...urlOf(repo),
    };
  }
  return {
    credentials: { kind: 'anonymous' },
    enableOCI: repo ? flag(repo, 'enableOCI') : false,
    insecureOCIForceHttp: repo ? flag(repo, 'insecureOCIForceHttp') : false,
    insecure: repo ? flag(repo, 'insecure') : false,
    from: repo ? [`${repo.namespace}/${repo.name}`] : [],
    ...urlOf(repo),
  };
};
