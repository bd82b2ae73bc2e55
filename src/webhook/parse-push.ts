// The provider's parser for a notification body: one entry point for the receiver.
import { parseCloudEvents } from './cloudevents.ts';
import { parseDistribution } from './distribution.ts';
import { parseDockerHub } from './docker-hub.ts';
import { parseGitHub } from './github.ts';
import { parseHarbor } from './harbor.ts';
import type { PushEvent, WebhookProvider } from './push-event.ts';
import { parseQuay } from './quay.ts';

/** The request headers a parser may read (lower-case names, as node gives them). */
export type NotificationHeaders = { readonly [name: string]: string | string[] | undefined };

const header = (headers: NotificationHeaders, name: string): string | undefined => {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
};

export const parsePush = (
  provider: WebhookProvider,
  body: unknown,
  headers: NotificationHeaders,
): PushEvent[] => {
  switch (provider) {
    case 'distribution':
      return parseDistribution(body);
    case 'harbor':
      return parseHarbor(body);
    case 'dockerhub':
      return parseDockerHub(body);
    case 'quay':
      return parseQuay(body);
    case 'github':
      return parseGitHub(body, header(headers, 'x-github-event'));
    case 'cloudevents':
      return parseCloudEvents(body, header(headers, 'ce-type'));
  }
};
