// URLs of an HTTP Helm repository as helm and Flux compute them: index.yaml and a chart's archive resolved
// against the repository URL by helm's repo.ResolveReferenceURL (a trailing slash added to the base path,
// the base's query replacing the reference's), the provenance file at the chart URL plus ".prov". Text
// where Go's net/url and the WHATWG parser used here could read a URL differently is refused.
import { HelmRepositoryError } from './errors.ts';

/**
 * Characters both parsers keep as they are: RFC 3986's unreserved and reserved ones and '%' (followed by
 * two hex digits). Excluded: spaces and controls, non-ASCII, backslash (WHATWG reads it as '/'), quotes,
 * '<>^`{|}', and '#' (a fragment is never sent, so ".prov" appended after one would fetch the archive).
 */
const CLEAN = /^[A-Za-z0-9\-._~:/?[\]@!$&'()*+,;=%]*$/;
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;
/** WHATWG reads %2e as a dot segment, Go does not. */
const ENCODED_DOT = /%2e/i;
/** Go's getScheme: a letter, then letters, digits, '+', '-', '.', up to the first ':'. */
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const MAX_URL_LENGTH = 4096;

const refuse = (code: 'InvalidRepositoryUrl' | 'InvalidChartUrl', what: string, why: string): never => {
  throw new HelmRepositoryError(code, `${what}: ${why}`);
};

const checkText = (text: string, code: 'InvalidRepositoryUrl' | 'InvalidChartUrl', what: string): void => {
  if (text === '') refuse(code, what, 'empty URL');
  if (text.length > MAX_URL_LENGTH) refuse(code, what, `URL longer than ${MAX_URL_LENGTH} characters`);
  if (!CLEAN.test(text) || BAD_PERCENT.test(text) || ENCODED_DOT.test(text))
    refuse(code, what, 'URL holds characters helm and tagguard could read differently');
};

/** An absolute http(s) URL without userinfo (Go's client would send it as basic auth) or fragment. */
const checkAbsolute = (url: URL, code: 'InvalidRepositoryUrl' | 'InvalidChartUrl', what: string): URL => {
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    refuse(code, what, `scheme ${url.protocol} is not http(s)`);
  if (url.username !== '' || url.password !== '') refuse(code, what, 'URL carries userinfo');
  if (url.hostname === '') refuse(code, what, 'URL has no host');
  return url;
};

/** The repository URL (Flux HelmRepository spec.url, Argo CD repoURL), checked. */
export const parseRepositoryUrl = (text: string): URL => {
  checkText(text, 'InvalidRepositoryUrl', 'repository URL');
  if (!SCHEME.test(text)) refuse('InvalidRepositoryUrl', 'repository URL', 'not an absolute URL');
  let url: URL;
  try {
    url = new URL(text);
  } catch (cause) {
    throw new HelmRepositoryError('InvalidRepositoryUrl', 'repository URL does not parse', { cause });
  }
  return checkAbsolute(url, 'InvalidRepositoryUrl', 'repository URL');
};

/**
 * helm's repo.ResolveReferenceURL(base, ref): an absolute ref as it is; otherwise ref resolved (RFC 3986,
 * dot segments removed) against the base with one trailing slash added to its path, and the base's query
 * in place of the ref's. Returns the URL to fetch.
 */
export const resolveReferenceUrl = (base: URL, ref: string): URL => {
  checkText(ref, 'InvalidChartUrl', 'chart URL');
  const scheme = SCHEME.exec(ref);
  if (scheme) {
    let absolute: URL;
    try {
      absolute = new URL(ref);
    } catch (cause) {
      throw new HelmRepositoryError('InvalidChartUrl', 'chart URL does not parse', { cause });
    }
    return checkAbsolute(absolute, 'InvalidChartUrl', 'chart URL');
  }
  // Go's url.Parse refuses a relative reference whose first segment holds a colon.
  const firstSegment = ref.split(/[/?]/, 1)[0] ?? '';
  if (firstSegment.includes(':')) refuse('InvalidChartUrl', 'chart URL', 'colon in the first path segment');
  const withSlash = new URL(base.href);
  withSlash.pathname = `${withSlash.pathname.replace(/\/$/, '')}/`;
  const resolved = new URL(ref, withSlash);
  resolved.search = base.search;
  resolved.hash = '';
  return checkAbsolute(resolved, 'InvalidChartUrl', 'chart URL');
};

/** Where helm and Flux read index.yaml. */
export const indexUrl = (repository: URL): URL => resolveReferenceUrl(repository, 'index.yaml');

/** helm's provenance URL: the chart URL's text plus ".prov" (after the query, if there is one). */
export const provenanceUrl = (chart: URL): URL => new URL(`${chart.href}.prov`);

/** scheme://host:port, the unit credentials are bound to. */
export const originOf = (url: URL): string => url.origin;
