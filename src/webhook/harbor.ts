// Harbor webhooks, "Default" payload format: `{type: "PUSH_ARTIFACT", event_data: {repository:
// {repo_full_name}, resources: [{tag, digest, resource_url}]}}`; the CloudEvents format carries the same
// event_data as `data` (cloudevents.ts). The registry host is what resource_url names before the
// repository (Harbor's external URL). Other event types (pulls, scans, quota) are ignored.
// https://goharbor.io/docs/main/working-with-projects/project-configuration/configure-webhooks/
import {
  WebhookError,
  distinctEvents,
  isObject,
  objectField,
  stringField,
  type JsonObject,
  type PushEvent,
  pushEvent,
} from './push-event.ts';

/** `host` of `host/<repo_full_name>[:tag|@digest]`, or undefined when resource_url is not of that form. */
const hostOf = (resourceUrl: string | undefined, repository: string): string | undefined => {
  if (resourceUrl === undefined) return undefined;
  const withoutScheme = resourceUrl.replace(/^[a-z]+:\/\//i, '');
  const slash = withoutScheme.indexOf('/');
  if (slash <= 0) return undefined;
  const rest = withoutScheme.slice(slash + 1);
  const exact = rest === repository || rest.startsWith(`${repository}:`) || rest.startsWith(`${repository}@`);
  return exact ? withoutScheme.slice(0, slash) : undefined;
};

/** The push events of Harbor's event_data (also the `data` of its CloudEvents). */
export const harborPushData = (data: JsonObject | undefined): PushEvent[] => {
  const repository = stringField(objectField(data, 'repository'), 'repo_full_name');
  const resources = data?.resources;
  if (repository === undefined || !Array.isArray(resources))
    throw new WebhookError(
      'Malformed',
      'a Harbor push names event_data.repository.repo_full_name and resources[]',
    );
  return distinctEvents(
    resources.map((resource: unknown) => {
      if (!isObject(resource)) return undefined;
      return pushEvent(
        hostOf(stringField(resource, 'resource_url'), repository),
        repository,
        stringField(resource, 'tag'),
        stringField(resource, 'digest'),
      );
    }),
  );
};

export const parseHarbor = (body: unknown): PushEvent[] => {
  if (!isObject(body) || typeof body.type !== 'string')
    throw new WebhookError('Malformed', 'a Harbor notification is {"type": ..., "event_data": {...}}');
  if (body.type !== 'PUSH_ARTIFACT') return [];
  return harborPushData(objectField(body, 'event_data'));
};
