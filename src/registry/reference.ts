// OCI references: parsing of `oci://host[:port]/repo:tag`, `host/repo:tag`, `…@sha256:<hex>` and Argo CD's
// Helm-OCI form (repoURL without scheme + chart), with Docker Hub normalisation. Grammar as in the
// distribution reference package; anything else is an InvalidReference naming what is wrong. A reference
// that carries credentials (`oci://user:pass@host/…`) is refused, and no message ever echoes them.
import { RegistryError } from './errors.ts';

export interface OciReference {
  /** Registry host with optional port, e.g. "ghcr.io", "127.0.0.1:5000", "docker.io". */
  readonly registry: string;
  /** Repository path, e.g. "charts/payment", "library/nginx". */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);
const MAX_NAME_LENGTH = 255;

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DOMAIN_LABEL = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const DIGEST = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//;

/**
 * The input with any userinfo (`user:password@`) before the host replaced by `***@`, for messages.
 * In the reference grammar `@` only introduces a digest at the end, which holds no `/`; so an `@` is
 * userinfo when there are several, when a `/` follows the last one, or when a `:` without `/` precedes the
 * first (`user:pass@host`). A username alone before an invalid digest-like rest is left, it is no secret.
 */
export const redactUserinfo = (input: string): string => {
  const scheme = SCHEME.exec(input)?.[0] ?? '';
  const rest = input.slice(scheme.length);
  const first = rest.indexOf('@');
  if (first < 0) return input;
  const last = rest.lastIndexOf('@');
  const before = rest.slice(0, first);
  const after = rest.slice(last + 1);
  const userinfo = first !== last || after.includes('/') || (before.includes(':') && !before.includes('/'));
  return userinfo ? `${scheme}***@${after}` : input;
};

const invalid = (input: string, why: string): RegistryError =>
  new RegistryError('InvalidReference', `invalid OCI reference "${redactUserinfo(input)}": ${why}`);

/** A digest of a supported algorithm (sha256, sha512) in canonical lower-case hex. */
export const isDigest = (value: string): boolean => DIGEST.test(value);

const isValidDomain = (domain: string): boolean => {
  const ipv6 = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(domain);
  if (ipv6) return ipv6[2] === undefined || Number(ipv6[2]) <= 65535;
  const [host = '', port, ...rest] = domain.split(':');
  if (rest.length > 0) return false;
  if (port !== undefined && (!/^\d{1,5}$/.test(port) || Number(port) > 65535)) return false;
  return host.split('.').every((label) => DOMAIN_LABEL.test(label));
};

/** Docker's rule: the first component is a registry if it has a dot or a port, or is "localhost". */
const looksLikeDomain = (component: string): boolean =>
  component.includes('.') ||
  component.includes(':') ||
  component === 'localhost' ||
  component.startsWith('[');

const splitDigest = (input: string, rest: string): { name: string; digest?: string } => {
  const at = rest.indexOf('@');
  if (at < 0) return { name: rest };
  const digest = rest.slice(at + 1);
  if (!isDigest(digest))
    throw invalid(input, `"${digest}" is not a sha256 or sha512 digest in lower-case hex`);
  return { name: rest.slice(0, at), digest };
};

const splitTag = (input: string, name: string): { name: string; tag?: string } => {
  const colon = name.lastIndexOf(':');
  if (colon < 0 || colon < name.lastIndexOf('/')) return { name };
  const tag = name.slice(colon + 1);
  if (!TAG.test(tag)) throw invalid(input, `"${tag}" is not a valid tag`);
  return { name: name.slice(0, colon), tag };
};

const normalise = (
  input: string,
  registry: string,
  path: string,
): { registry: string; repository: string } => {
  if (!DOCKER_HUB_ALIASES.has(registry.toLowerCase())) return { registry, repository: path };
  return { registry: DOCKER_HUB, repository: path.includes('/') ? path : `library/${path}` };
};

export const parseReference = (input: string): OciReference => {
  const trimmed = input.trim();
  if (trimmed === '') throw invalid(input, 'it is empty');
  const scheme = SCHEME.exec(trimmed);
  if (scheme && scheme[1]?.toLowerCase() !== 'oci') {
    throw invalid(input, `scheme "${scheme[1]}://" is not supported (use oci:// or none)`);
  }
  if (redactUserinfo(trimmed) !== trimmed) {
    throw invalid(
      input,
      'credentials in a reference are not accepted (give them in a Docker config or a pull Secret)',
    );
  }
  const rest = scheme ? trimmed.slice(scheme[0].length) : trimmed;
  const { name: withTag, digest } = splitDigest(input, rest);
  const { name, tag } = splitTag(input, withTag);
  if (name.length > MAX_NAME_LENGTH)
    throw invalid(input, `the name is longer than ${MAX_NAME_LENGTH} characters`);

  const components = name.split('/');
  const first = components[0] ?? '';
  const hasDomain = components.length > 1 && looksLikeDomain(first);
  const registry = hasDomain ? first : DOCKER_HUB;
  const pathComponents = hasDomain ? components.slice(1) : components;
  if (hasDomain && !isValidDomain(registry))
    throw invalid(input, `"${registry}" is not a valid registry host`);
  if (pathComponents.length === 0 || pathComponents.some((c) => c === '')) {
    throw invalid(input, 'the repository path is empty or has an empty component');
  }
  const bad = pathComponents.find((c) => !PATH_COMPONENT.test(c));
  if (bad !== undefined) {
    throw invalid(
      input,
      `repository component "${bad}" must be lower-case letters, digits and single separators`,
    );
  }
  const normalised = normalise(input, registry, pathComponents.join('/'));
  return {
    ...normalised,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
    ...(tag === undefined && digest === undefined ? { tag: 'latest' } : {}),
  };
};

/** A repository on a registry, without tag or digest: what an oci:// URL names. */
export type RepositoryReference = Pick<OciReference, 'registry' | 'repository'>;

/** One manifest of a repository, named by its digest: what the checks of a resolved artifact read. */
export type DigestReference = RepositoryReference & { readonly digest: string };

/** The repository (no tag or digest) behind an oci:// URL; InvalidReference for a tag, a digest or a bad name. */
export const repositoryReference = (url: string): RepositoryReference => {
  const lastSegment =
    url
      .replace(/^oci:\/\//i, '')
      .split('/')
      .slice(1)
      .pop() ?? '';
  if (lastSegment.includes(':') || lastSegment.includes('@'))
    throw new RegistryError(
      'InvalidReference',
      `${redactUserinfo(url)} must name a repository without a tag or digest`,
    );
  const { registry, repository } = parseReference(url);
  return { registry, repository };
};

/**
 * Argo CD's Helm-OCI source: `repoURL` is a registry path without a scheme (an `oci://` prefix is
 * tolerated), `chart` the chart name, `revision` the chart version or a digest.
 */
export const parseHelmOciReference = (repoURL: string, chart: string, revision: string): OciReference => {
  const base = repoURL.replace(/^oci:\/\//i, '').replace(/\/+$/, '');
  if (chart.includes(':') || chart.includes('@')) {
    throw invalid(`${repoURL} ${chart}`, `chart name "${chart}" must not carry a tag or digest`);
  }
  const separator = isDigest(revision) ? '@' : ':';
  return parseReference(`${base}/${chart}${separator}${revision}`);
};

/**
 * True when the input names its registry itself (`oci://…`, or a first component with a dot, a port or
 * `localhost`), false when parseReference would fall back to Docker Hub. `tagguard scan` treats a target
 * that is not on disk as a reference only in the first case, so a mistyped file name is never looked up.
 */
export const namesRegistry = (input: string): boolean => {
  const trimmed = input.trim();
  if (/^oci:\/\//i.test(trimmed)) return true;
  if (SCHEME.test(trimmed)) return false;
  const slash = trimmed.indexOf('/');
  return slash > 0 && looksLikeDomain(trimmed.slice(0, slash));
};

/** The canonical form `registry/repository[:tag][@digest]`. */
export const formatReference = (ref: OciReference): string =>
  `${ref.registry}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;

/** The host to talk to: Docker Hub's API lives on registry-1.docker.io. */
export const apiHost = (registry: string): string =>
  registry === DOCKER_HUB ? 'registry-1.docker.io' : registry;

/**
 * The identity of a registry host for comparing names that came from different places (a watched URL, a
 * push notification's Host header): lower case, the default ports 443 and 80 dropped (a Host header
 * omits them), and Docker Hub's aliases folded into docker.io as parseReference does.
 */
export const registryIdentity = (registry: string): string => {
  const host = registry
    .trim()
    .toLowerCase()
    .replace(/:(443|80)$/, '');
  return DOCKER_HUB_ALIASES.has(host) ? DOCKER_HUB : host;
};
