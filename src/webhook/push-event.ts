// What every push-notification parser returns: the pushed repository as the poller names it (registry
// host folded by registryIdentity, repository normalised by parseReference as for a watched URL), and the
// tag and digest when the event names them. A push never decides trust; it only makes tagguard look sooner.
import { BaseError } from '../errors.ts';
import { isDigest, parseReference, registryIdentity } from '../registry/reference.ts';

export const WEBHOOK_PROVIDERS = [
  'distribution',
  'harbor',
  'dockerhub',
  'quay',
  'github',
  'cloudevents',
] as const;
export type WebhookProvider = (typeof WEBHOOK_PROVIDERS)[number];

export interface PushEvent {
  readonly registry: string;
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

/** Malformed: not the provider's JSON; TooLarge: over the body cap; SecretInvalid: the Secret's content. */
export class WebhookError extends BaseError<'Malformed' | 'TooLarge' | 'SecretInvalid'> {}

export type JsonObject = { readonly [key: string]: unknown };

export const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export const stringField = (object: JsonObject | undefined, key: string): string | undefined => {
  const value = object?.[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
};

export const objectField = (object: JsonObject | undefined, key: string): JsonObject | undefined => {
  const value = object?.[key];
  return isObject(value) ? value : undefined;
};

// Host: name or IP, optional port; IPv6 in brackets. Repository: the reference grammar's characters.
const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
const REPOSITORY = /^[a-z0-9._/-]+$/;

/**
 * The event for `host/repository` (tag and digest optional), or undefined when the names are not a
 * valid reference: such an event cannot concern anything tagguard watches, so it is dropped, not guessed.
 * A tag that is a digest (Harbor sends one for a push by digest) counts as the digest.
 */
export const pushEvent = (
  host: string | undefined,
  repository: string | undefined,
  tag?: string,
  digest?: string,
): PushEvent | undefined => {
  if (host === undefined || repository === undefined) return undefined;
  if (!HOST.test(host) || !REPOSITORY.test(repository)) return undefined;
  const tagIsDigest = tag !== undefined && isDigest(tag);
  const realTag = tagIsDigest ? undefined : tag;
  const realDigest = digest !== undefined && isDigest(digest) ? digest : tagIsDigest ? tag : undefined;
  try {
    // The tag goes through the parser too, for its grammar; parseReference's default "latest" is not used.
    const parsed = parseReference(`${host}/${repository}${realTag !== undefined ? `:${realTag}` : ''}`);
    return {
      registry: registryIdentity(parsed.registry),
      repository: parsed.repository,
      ...(realTag !== undefined ? { tag: realTag } : {}),
      ...(realDigest !== undefined ? { digest: realDigest } : {}),
    };
  } catch {
    return undefined;
  }
};

/** Keeps the defined events, one of each (a notification may repeat a tag). */
export const distinctEvents = (events: readonly (PushEvent | undefined)[]): PushEvent[] => {
  const seen = new Map<string, PushEvent>();
  for (const event of events)
    if (event) seen.set(JSON.stringify([event.registry, event.repository, event.tag, event.digest]), event);
  return [...seen.values()];
};
