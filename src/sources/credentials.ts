// A CredentialSource → the registry client's credential for one registry host, and a certSecretRef →
// a CA bundle. Secrets are read when needed (a rotated Secret is picked up); their values never reach a
// message or a log. Client certificates (mTLS) are not supported by the registry client: Unsupported; an HTTP
// Helm repository takes them (helmRepositoryAuth).
import type { KubernetesObject } from '@kubernetes/client-node';
import { ANONYMOUS, credentialFor, parseDockerConfig, type Credential } from '../registry/credentials.ts';
import { RegistryError } from '../registry/errors.ts';
import { SourceError } from './errors.ts';
import { isRecord } from './object-fields.ts';
import type { CredentialSource, ObjectReader, SecretRef } from './types.ts';

const DOCKER_CONFIG_KEYS = ['.dockerconfigjson', '.dockercfg'];

interface SecretData {
  readonly name: string;
  readonly type: string;
  readonly data: Readonly<Record<string, string>>;
}

/** Decodes a Secret's data (base64 in the API) to strings. */
const decodeSecret = (object: KubernetesObject, ref: SecretRef): SecretData => {
  const raw: unknown = object;
  const data: Record<string, string> = {};
  if (isRecord(raw) && isRecord(raw.data))
    for (const [key, value] of Object.entries(raw.data))
      if (typeof value === 'string') data[key] = Buffer.from(value, 'base64').toString('utf8');
  const type = isRecord(raw) && typeof raw.type === 'string' ? raw.type : 'Opaque';
  return { name: `Secret ${ref.namespace}/${ref.name}`, type, data };
};

const readSecret = async (reader: ObjectReader, ref: SecretRef): Promise<SecretData> => {
  const object = await reader.get('v1', 'Secret', ref.namespace, ref.name);
  if (object === undefined)
    throw new SourceError('NotFound', `Secret ${ref.namespace}/${ref.name} does not exist`);
  return decodeSecret(object, ref);
};

const dockerConfigOf = (secret: SecretData): string | undefined =>
  DOCKER_CONFIG_KEYS.map((key) => secret.data[key]).find((value) => value !== undefined);

const fromDockerConfig = (secret: SecretData, json: string, registry: string): Credential => {
  try {
    return credentialFor(parseDockerConfig(json, secret.name), registry);
  } catch (cause) {
    if (cause instanceof RegistryError)
      throw new SourceError('InvalidObject', `${secret.name} holds no valid Docker config JSON`, { cause });
    throw cause;
  }
};

const fromUsernamePassword = (secret: SecretData, required: boolean): Credential => {
  const username = secret.data.username ?? '';
  const password = secret.data.password ?? '';
  if (username !== '' && password !== '') return { kind: 'basic', username, password };
  if (!required && username === '' && password === '') return ANONYMOUS;
  throw new SourceError('InvalidObject', `${secret.name} must have both "username" and "password"`);
};

/** The credential a Secret gives for `registry`, by the rules of the GitOps tool that named it. */
const credentialFromSecret = (
  kind: Exclude<CredentialSource['kind'], 'anonymous' | 'argocd-helm'>,
  secret: SecretData,
  registry: string,
): Credential => {
  const dockerConfig = dockerConfigOf(secret);
  switch (kind) {
    case 'dockerconfigjson':
      if (dockerConfig === undefined)
        throw new SourceError(
          'InvalidObject',
          `${secret.name} is not a kubernetes.io/dockerconfigjson Secret`,
        );
      return fromDockerConfig(secret, dockerConfig, registry);
    case 'basic': // Flux HelmRepository: a dockerconfigjson Secret, or username and password
      return dockerConfig !== undefined
        ? fromDockerConfig(secret, dockerConfig, registry)
        : fromUsernamePassword(secret, true);
    case 'argocd':
      return fromUsernamePassword(secret, false);
  }
};

/** Reads the Secrets a CredentialSource names and returns the credential for `registry` (host[:port]). */
export const registryCredential = async (
  source: CredentialSource,
  registry: string,
  reader: ObjectReader,
): Promise<Credential> => {
  switch (source.kind) {
    case 'anonymous':
      return ANONYMOUS;
    case 'dockerconfigjson':
      // As Flux's keychain: the first pull Secret with an entry for the registry wins.
      for (const ref of source.secrets) {
        const credential = credentialFromSecret('dockerconfigjson', await readSecret(reader, ref), registry);
        if (credential.kind !== 'anonymous') return credential;
      }
      return ANONYMOUS;
    case 'basic':
    case 'argocd':
      return credentialFromSecret(source.kind, await readSecret(reader, source.secret), registry);
    case 'argocd-helm':
      throw new SourceError('Unsupported', 'Argo CD Helm repository credentials are not for an OCI registry');
  }
};

/** The CA bundle of a certSecretRef (`ca.crt`, or Flux's legacy `caFile`). */
export const caBundleFromSecret = async (ref: SecretRef, reader: ObjectReader): Promise<string> => {
  const secret = await readSecret(reader, ref);
  const ca = secret.data['ca.crt'] ?? secret.data.caFile;
  const clientCert = secret.data['tls.crt'] ?? secret.data.certFile;
  if (clientCert !== undefined)
    throw new SourceError('Unsupported', `${secret.name}: TLS client certificates are not supported`);
  if (ca === undefined) throw new SourceError('InvalidObject', `${secret.name} has no "ca.crt"`);
  return ca;
};

/** What an HTTP(S) Helm repository is reached with (the registry layer's RepositoryCredentials plus a CA). */
export interface HelmRepositoryAuth {
  readonly username?: string;
  readonly password?: string;
  readonly certPem?: string;
  readonly keyPem?: string;
  readonly caPem?: string;
}

/** A Secret's username and password for an HTTP Helm repository: both or neither (fromUsernamePassword). */
const basicAuthOf = (secret: SecretData): HelmRepositoryAuth => {
  const credential = fromUsernamePassword(secret, false);
  return credential.kind === 'basic' ? { username: credential.username, password: credential.password } : {};
};

/**
 * The TLS material of a Secret as Flux reads a HelmRepository's `certSecretRef` (tls.crt / tls.key / ca.crt)
 * or, deprecated, its `secretRef` (certFile / keyFile / caFile): a certificate needs its key and the other
 * way round; a Secret with neither a pair nor a CA is an error (Flux: "no TLS data found").
 */
const tlsOf = (secret: SecretData, legacyOnly: boolean): HelmRepositoryAuth => {
  const pick = (key: string, legacy: string): string | undefined =>
    (legacyOnly ? undefined : secret.data[key]) ?? secret.data[legacy];
  const certPem = pick('tls.crt', 'certFile');
  const keyPem = pick('tls.key', 'keyFile');
  const caPem = pick('ca.crt', 'caFile');
  if ((certPem === undefined) !== (keyPem === undefined))
    throw new SourceError(
      'InvalidObject',
      `${secret.name} must have both "tls.crt" and "tls.key", or neither`,
    );
  return {
    ...(certPem !== undefined && keyPem !== undefined ? { certPem, keyPem } : {}),
    ...(caPem !== undefined ? { caPem } : {}),
  };
};

// Argo CD's util/cert: the repo-server's CA file for a host counts the lines that start with this marker;
// with none it passes no --ca-file and helm uses the system's roots.
const CERTIFICATE_BEGIN = /^-----BEGIN CERTIFICATE-----/m;

/**
 * What Argo CD's repo-server reaches an HTTP(S) Helm repository with (GetHelmCreds → helm pull): username and
 * password (helm sends them only as a pair: one alone is refused here), tlsClientCertData/tlsClientCertKey
 * (helm loads them only as a pair: one alone is refused here) and, as `--ca-file`, the argocd-tls-certs-cm
 * entry of the host when it holds a certificate (it then replaces the system's roots, as in helm).
 */
const argoCdHelmAuth = async (
  source: Extract<CredentialSource, { kind: 'argocd-helm' }>,
  reader: ObjectReader,
): Promise<HelmRepositoryAuth> => {
  let auth: HelmRepositoryAuth = {};
  if (source.secret !== undefined) {
    const secret = await readSecret(reader, source.secret);
    auth = basicAuthOf(secret);
    const certPem = secret.data.tlsClientCertData ?? '';
    const keyPem = secret.data.tlsClientCertKey ?? '';
    if ((certPem === '') !== (keyPem === ''))
      throw new SourceError(
        'InvalidObject',
        `${secret.name} must have both "tlsClientCertData" and "tlsClientCertKey", or neither`,
      );
    if (certPem !== '') auth = { ...auth, certPem, keyPem };
  }
  const ref = source.caConfigMap;
  if (ref === undefined) return auth;
  const object = await reader.get('v1', 'ConfigMap', ref.namespace, ref.name);
  const raw: unknown = object;
  if (!isRecord(raw)) return auth; // no ConfigMap: no file, the system's roots
  const text = isRecord(raw.data) ? raw.data[ref.key] : undefined;
  const binary = isRecord(raw.binaryData) ? raw.binaryData[ref.key] : undefined;
  // A ConfigMap volume writes binaryData keys as files too (a key is in data or binaryData, not both).
  const caPem =
    typeof text === 'string'
      ? text
      : typeof binary === 'string'
        ? Buffer.from(binary, 'base64').toString('utf8')
        : undefined;
  return caPem !== undefined && CERTIFICATE_BEGIN.test(caPem) ? { ...auth, caPem } : auth;
};

/**
 * Basic auth and TLS for an HTTP(S) Helm repository. `source`: Flux `secretRef` (username/password, as
 * Flux both or neither, and the deprecated certFile/keyFile/caFile when there is no `certSecretRef`), or what
 * Argo CD reads (argoCdHelmAuth); `tlsSecret`: Flux `certSecretRef`.
 */
export const helmRepositoryAuth = async (
  source: CredentialSource,
  tlsSecret: SecretRef | undefined,
  reader: ObjectReader,
): Promise<HelmRepositoryAuth> => {
  if (source.kind === 'argocd-helm') {
    if (tlsSecret !== undefined)
      throw new SourceError('InvalidObject', 'an Argo CD Helm repository takes no certSecretRef');
    return argoCdHelmAuth(source, reader);
  }
  let basic: HelmRepositoryAuth = {};
  let legacyTls: HelmRepositoryAuth = {};
  if (source.kind === 'basic' || source.kind === 'argocd') {
    const secret = await readSecret(reader, source.secret);
    basic = basicAuthOf(secret);
    if (source.kind === 'basic' && tlsSecret === undefined) {
      const legacy = ['certFile', 'keyFile', 'caFile'].some((k) => secret.data[k] !== undefined);
      if (legacy) legacyTls = tlsOf(secret, true);
    }
  } else if (source.kind === 'dockerconfigjson')
    throw new SourceError('Unsupported', 'an HTTP Helm repository takes no Docker config credentials');
  if (tlsSecret === undefined) return { ...basic, ...legacyTls };
  const tls = tlsOf(await readSecret(reader, tlsSecret), false);
  if (tls.certPem === undefined && tls.caPem === undefined)
    throw new SourceError(
      'InvalidObject',
      `Secret ${tlsSecret.namespace}/${tlsSecret.name} holds no TLS data`,
    );
  return { ...basic, ...tls };
};
