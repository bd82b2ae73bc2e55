// CloudEvents 1.0 over HTTP: structured mode (the event as JSON, application/cloudevents+json, or a batch
// array as Azure Event Grid sends), and binary mode (attributes in ce-* headers, the body is `data`).
// Push types understood: Harbor's `harbor.artifact.pushed` (data as Harbor's event_data) and Azure
// Container Registry's `Microsoft.ContainerRegistry.ImagePushed` / `ChartPushed` (data as a distribution
// event: target.repository/tag/digest, request.host). Other types are ignored.
// https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/http-protocol-binding.md
// https://learn.microsoft.com/en-us/azure/event-grid/event-schema-container-registry
import { harborPushData } from './harbor.ts';
import {
  WebhookError,
  distinctEvents,
  isObject,
  objectField,
  pushEvent,
  stringField,
  type JsonObject,
  type PushEvent,
} from './push-event.ts';

const ACR_PUSH_TYPES = new Set([
  'Microsoft.ContainerRegistry.ImagePushed',
  'Microsoft.ContainerRegistry.ChartPushed',
]);
const MAX_BATCH = 100;

const eventsOf = (type: string | undefined, data: unknown): PushEvent[] => {
  if (type === 'harbor.artifact.pushed') return harborPushData(isObject(data) ? data : undefined);
  if (type !== undefined && ACR_PUSH_TYPES.has(type)) {
    const event = isObject(data) ? data : undefined;
    const target = objectField(event, 'target');
    return distinctEvents([
      pushEvent(
        stringField(objectField(event, 'request'), 'host'),
        stringField(target, 'repository'),
        stringField(target, 'tag'),
        stringField(target, 'digest'),
      ),
    ]);
  }
  return [];
};

const structured = (event: JsonObject): PushEvent[] => {
  if (stringField(event, 'specversion') === undefined || stringField(event, 'type') === undefined)
    throw new WebhookError('Malformed', 'a structured CloudEvent has specversion and type');
  return eventsOf(stringField(event, 'type'), event.data);
};

/** `ceType` is the ce-type header: present in binary mode, where the body is the event's data. */
export const parseCloudEvents = (body: unknown, ceType: string | undefined): PushEvent[] => {
  if (ceType !== undefined) return eventsOf(ceType, body);
  if (Array.isArray(body)) {
    if (body.length > MAX_BATCH)
      throw new WebhookError('Malformed', `a CloudEvents batch holds at most ${MAX_BATCH}`);
    return distinctEvents(
      body.flatMap((event: unknown) => {
        if (!isObject(event)) throw new WebhookError('Malformed', 'a CloudEvents batch holds objects');
        return structured(event);
      }),
    );
  }
  if (!isObject(body)) throw new WebhookError('Malformed', 'a CloudEvent is a JSON object');
  return structured(body);
};
