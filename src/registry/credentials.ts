// Registry credentials from Docker config JSON (kubernetes.io/dockerconfigjson Secrets, ~/.docker/config.json):
// `auths` entries with `auth` (base64 user:password), `username`/`password`, or `identitytoken`.
// Parsed once at the edge; credentials never appear in error messages.
import { DOCKER_HUB } from './reference.ts';
import { RegistryError } from './errors.ts';

export type Credential =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  | { readonly kind: 'identity-token'; readonly username: string; readonly token: string };

export const ANONYMOUS: Credential = { kind: 'anonymous' };

/** Credentials by registry host (as in references: "ghcr.io", "127.0.0.1:5000", "docker.io"). */
export type CredentialStore = ReadonlyMap<string, Credential>;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** "https://index.docker.io/v1/" → "docker.io"; "http://host:5000/path" → "host:5000". */
export const normaliseRegistryKey = (key: string): string => {
  const host = key.replace(/^[a-z]+:\/\//i, '').split('/')[0] ?? '';
  const lower = host.toLowerCase();
  return lower === 'index.docker.io' || lower === 'registry-1.docker.io' ? DOCKER_HUB : host;
};

const decodeAuth = (auth: string, key: string, source: string): { username: string; password: string } => {
  const decoded = Buffer.from(auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) {
    throw new RegistryError(
      'InvalidResponse',
      `${source}: the "auth" of ${key} is not base64 of "user:password"`,
    );
  }
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
};

const entryCredential = (
  entry: Record<string, unknown>,
  key: string,
  source: string,
): Credential | undefined => {
  const str = (name: string): string | undefined =>
    typeof entry[name] === 'string' && entry[name] !== '' ? entry[name] : undefined;
  const identityToken = str('identitytoken');
  const auth = str('auth');
  const fromAuth = auth !== undefined ? decodeAuth(auth, key, source) : undefined;
  const username = str('username') ?? fromAuth?.username;
  const password = str('password') ?? fromAuth?.password;
  if (identityToken !== undefined)
    return { kind: 'identity-token', username: username ?? '<token>', token: identityToken };
  if (username !== undefined && password !== undefined) return { kind: 'basic', username, password };
  return undefined;
};

/**
 * Parses Docker config JSON. `source` names where it came from (a file, a Secret) for error messages.
 * Both the config.json form (`{"auths": {...}}`) and the legacy .dockercfg form (the map itself) are accepted.
 */
export const parseDockerConfig = (json: string, source: string): CredentialStore => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (cause) {
    throw new RegistryError('InvalidResponse', `${source} is not valid JSON`, { cause });
  }
  if (!isRecord(parsed)) throw new RegistryError('InvalidResponse', `${source} is not a JSON object`);
  const auths = isRecord(parsed.auths) ? parsed.auths : 'auths' in parsed ? {} : parsed;
  const store = new Map<string, Credential>();
  for (const [key, entry] of Object.entries(auths)) {
    if (!isRecord(entry)) continue;
    const credential = entryCredential(entry, key, source);
    if (credential) store.set(normaliseRegistryKey(key), credential);
  }
  return store;
};

export const credentialFor = (store: CredentialStore, registry: string): Credential =>
  store.get(registry) ?? ANONYMOUS;
