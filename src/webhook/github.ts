// GitHub `package` (and legacy `registry_package`) webhook events for container packages on ghcr.io:
// `package.package_version.package_url` is "ghcr.io/owner/name:tag", `container_metadata.tag` has the
// tag and digest. Other package types, other actions and `ping` are ignored. GitHub signs the body with
// HMAC-SHA256 in X-Hub-Signature-256 (the Secret's hmacKey).
// https://docs.github.com/en/webhooks/webhook-events-and-payloads#package
import {
  WebhookError,
  distinctEvents,
  isObject,
  objectField,
  pushEvent,
  stringField,
  type PushEvent,
} from './push-event.ts';

const GHCR = 'ghcr.io';

export const parseGitHub = (body: unknown, eventName: string | undefined): PushEvent[] => {
  if (eventName === 'ping') return [];
  if (eventName !== undefined && eventName !== 'package' && eventName !== 'registry_package') return [];
  if (!isObject(body)) throw new WebhookError('Malformed', 'a GitHub event is a JSON object');
  const pkg = objectField(body, 'package') ?? objectField(body, 'registry_package');
  if (!pkg) throw new WebhookError('Malformed', 'a GitHub package event names package');
  const action = stringField(body, 'action');
  if (action !== 'published' && action !== 'updated') return [];
  if (stringField(pkg, 'package_type')?.toLowerCase() !== 'container') return [];
  const version = objectField(pkg, 'package_version');
  const tag = objectField(objectField(version, 'container_metadata'), 'tag');
  const tagName = stringField(tag, 'name');
  const digest = stringField(tag, 'digest') ?? stringField(version, 'version');
  const packageUrl = stringField(version, 'package_url');
  if (packageUrl !== undefined) {
    // "ghcr.io/owner/name:tag" (or without a tag for an untagged version)
    const slash = packageUrl.indexOf('/');
    const colon = packageUrl.lastIndexOf(':');
    const name = colon > slash ? packageUrl.slice(0, colon) : packageUrl;
    const urlTag = colon > slash ? packageUrl.slice(colon + 1) : undefined;
    return distinctEvents([
      pushEvent(name.slice(0, slash), name.slice(slash + 1), tagName ?? urlTag, digest),
    ]);
  }
  // No package_url: ghcr.io/<namespace>/<name>, lower-cased as ghcr.io requires.
  const namespace = stringField(pkg, 'namespace') ?? stringField(objectField(pkg, 'owner'), 'login');
  const name = stringField(pkg, 'name');
  if (namespace === undefined || name === undefined) return [];
  return distinctEvents([pushEvent(GHCR, `${namespace}/${name}`.toLowerCase(), tagName, digest)]);
};
