// Quay (quay.io and Red Hat Quay) "Push to Repository" notifications: `{docker_url: "quay.io/ns/repo",
// updated_tags: [...]}`; older payloads give updated_tags as an object keyed by tag. Quay's webhook
// notification cannot set a header or sign, so it authenticates with the secret token in the URL path.
// https://docs.quay.io/guides/notifications.html
import {
  WebhookError,
  distinctEvents,
  isObject,
  pushEvent,
  stringField,
  type PushEvent,
} from './push-event.ts';

export const parseQuay = (body: unknown): PushEvent[] => {
  const dockerUrl = isObject(body) ? stringField(body, 'docker_url') : undefined;
  const updated = isObject(body) ? body.updated_tags : undefined;
  if (dockerUrl === undefined)
    throw new WebhookError('Malformed', 'a Quay push notification names docker_url and updated_tags');
  const slash = dockerUrl.indexOf('/');
  if (slash <= 0) throw new WebhookError('Malformed', 'docker_url is not host/repository');
  const [host, repository] = [dockerUrl.slice(0, slash), dockerUrl.slice(slash + 1)];
  const tags = Array.isArray(updated)
    ? updated.filter((t): t is string => typeof t === 'string')
    : isObject(updated)
      ? Object.keys(updated)
      : [];
  // A push notification without tags still says the repository changed: look at all of its tags.
  if (tags.length === 0) return distinctEvents([pushEvent(host, repository)]);
  return distinctEvents(tags.map((tag) => pushEvent(host, repository, tag)));
};
