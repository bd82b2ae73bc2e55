// Docker Hub repository webhooks: `{push_data: {tag}, repository: {repo_name}}`, always docker.io. Docker
// Hub cannot set a header or sign, so it authenticates with the secret token in the URL path.
// https://docs.docker.com/docker-hub/repos/manage/webhooks/
import { DOCKER_HUB } from '../registry/reference.ts';
import {
  WebhookError,
  distinctEvents,
  objectField,
  pushEvent,
  stringField,
  isObject,
  type PushEvent,
} from './push-event.ts';

export const parseDockerHub = (body: unknown): PushEvent[] => {
  const repository = stringField(objectField(isObject(body) ? body : undefined, 'repository'), 'repo_name');
  const pushData = isObject(body) ? objectField(body, 'push_data') : undefined;
  if (repository === undefined || pushData === undefined)
    throw new WebhookError('Malformed', 'a Docker Hub notification names push_data and repository.repo_name');
  return distinctEvents([pushEvent(DOCKER_HUB, repository, stringField(pushData, 'tag'))]);
};
