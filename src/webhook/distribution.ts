// CNCF distribution (registry v2/v3) notifications: an envelope `{events: [...]}` of
// application/vnd.docker.distribution.events.v2+json. Only manifest pushes *with a tag* count: a push by
// digest moves no tag (clients such as helm and oras push by digest, then tag, and the tag push has its
// own event), and treating it as "any tag" would resolve every watched tag of the repository and use up
// their spacing just before the tag moves. Pulls, deletes, blob pushes and mounts are ignored. The registry is the Host its client used (`request.host`), which is
// what a watched URL names when clients and tagguard reach the registry by the same name.
// https://distribution.github.io/distribution/about/notifications/
import { MANIFEST_ACCEPT } from '../registry/media-types.ts';
import {
  WebhookError,
  distinctEvents,
  isObject,
  objectField,
  pushEvent,
  stringField,
  type PushEvent,
} from './push-event.ts';

const MANIFEST_TYPES = new Set<string>([
  ...MANIFEST_ACCEPT,
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
]);

const isManifest = (target: { mediaType?: string; url?: string }): boolean =>
  (target.mediaType !== undefined && MANIFEST_TYPES.has(target.mediaType)) ||
  (target.url !== undefined && /\/v2\/.+\/manifests\/[^/]+$/.test(target.url));

export const parseDistribution = (body: unknown): PushEvent[] => {
  const events = isObject(body) ? body.events : undefined;
  if (!Array.isArray(events))
    throw new WebhookError('Malformed', 'a distribution notification is {"events": [...]}');
  return distinctEvents(
    events.map((event: unknown) => {
      if (!isObject(event) || stringField(event, 'action') !== 'push') return undefined;
      const target = objectField(event, 'target');
      const mediaType = stringField(target, 'mediaType');
      const url = stringField(target, 'url');
      if (!isManifest({ ...(mediaType ? { mediaType } : {}), ...(url ? { url } : {}) })) return undefined;
      if (stringField(target, 'tag') === undefined) return undefined;
      return pushEvent(
        stringField(objectField(event, 'request'), 'host'),
        stringField(target, 'repository'),
        stringField(target, 'tag'),
        stringField(target, 'digest'),
      );
    }),
  );
};
