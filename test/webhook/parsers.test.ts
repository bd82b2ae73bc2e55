import { describe, expect, it } from 'vitest';
import { parsePush } from '../../src/webhook/parse-push.ts';
import { pushEvent, WebhookError, type WebhookProvider } from '../../src/webhook/push-event.ts';
import * as distribution from './fixtures/distribution.ts';
import * as harbor from './fixtures/harbor.ts';
import * as dockerHub from './fixtures/docker-hub.ts';
import * as quay from './fixtures/quay.ts';
import * as github from './fixtures/github.ts';
import * as cloudevents from './fixtures/cloudevents.ts';

const code = (run: () => unknown): string | undefined => {
  try {
    run();
  } catch (error) {
    return error instanceof WebhookError ? error.code : 'not a WebhookError';
  }
  return undefined;
};

const digestOf = (hex: string) => `sha256:${hex}`;

describe('distribution notifications (recorded from registry v3.1.2)', () => {
  const parse = (body: unknown) => parsePush('distribution', body, {});
  const host = distribution.manifestPushWithTag.events[0]?.request.host;

  it('reads a manifest push with its tag, registry from request.host', () => {
    expect(parse(distribution.manifestPushWithTag)).toEqual([
      {
        registry: host,
        repository: 'charts/web',
        tag: '1.0.0',
        digest: digestOf('cd60e280830f8dd664105f6ef33716e8bd1415b20ecde0841fb30c0ab11344a4'),
      },
    ]);
  });

  it('ignores a manifest pushed by digest: it moves no tag, the tag push that follows has its own event', () => {
    expect(parse(distribution.manifestPushByDigest)).toEqual([]);
  });

  it('ignores blob pushes and pulls', () => {
    expect(parse(distribution.blobPush)).toEqual([]);
    expect(parse(distribution.blobPush2)).toEqual([]);
    expect(parse(distribution.manifestPull)).toEqual([]);
  });

  it('keeps only the tagged manifest push of a multi-event envelope', () => {
    const envelope = structuredClone(distribution.documentationEnvelope);
    const tagged = { ...envelope.events[0], target: { ...envelope.events[0]?.target, tag: 'v2' } };
    envelope.events.push(tagged as (typeof envelope.events)[number]);
    expect(parse(envelope)).toEqual([
      {
        registry: 'registrycluster.local',
        repository: 'library/test',
        tag: 'v2',
        digest: 'sha256:fea8895f450959fa676bcc1df0611ea93823a735a01205fd8622846041d0c7cf',
      },
    ]);
  });

  it.each([[{}], [{ events: {} }], [[]], ['events']])('refuses %j as Malformed', (body) => {
    expect(code(() => parse(body))).toBe('Malformed');
  });
});

describe('Harbor', () => {
  it('reads PUSH_ARTIFACT with the host of resource_url', () => {
    expect(parsePush('harbor', harbor.pushArtifact, {})).toEqual([
      {
        registry: 'hub.harbor.com',
        repository: 'test-webhook/debian',
        tag: 'latest',
        digest: digestOf('8a9e9863dbb6e10edb5adfe917c00da84e1700fa76e7ed02476aa6e6fb8ee0d8'),
      },
    ]);
  });

  it('ignores other event types', () => {
    expect(parsePush('harbor', harbor.pullArtifact, {})).toEqual([]);
  });

  it('drops a resource whose resource_url is not host/<repo_full_name>', () => {
    const body = structuredClone(harbor.pushArtifact);
    const resource = body.event_data.resources[0];
    if (resource) resource.resource_url = 'hub.harbor.com/other/debian:latest';
    expect(parsePush('harbor', body, {})).toEqual([]);
  });

  it('refuses a push without repository or resources as Malformed', () => {
    expect(code(() => parsePush('harbor', { type: 'PUSH_ARTIFACT', event_data: {} }, {}))).toBe('Malformed');
  });
});

describe('Docker Hub', () => {
  it('reads push_data.tag on docker.io', () => {
    expect(parsePush('dockerhub', dockerHub.push, {})).toEqual([
      { registry: 'docker.io', repository: 'svendowideit/testhook', tag: 'latest' },
    ]);
  });

  it('normalises an official image name as parseReference does', () => {
    const body = { push_data: { tag: '1.27' }, repository: { repo_name: 'nginx' } };
    expect(parsePush('dockerhub', body, {})).toEqual([
      { registry: 'docker.io', repository: 'library/nginx', tag: '1.27' },
    ]);
  });

  it('refuses a body without repo_name as Malformed', () => {
    expect(code(() => parsePush('dockerhub', { push_data: { tag: 'x' } }, {}))).toBe('Malformed');
  });
});

describe('Quay', () => {
  it('reads docker_url and the updated_tags array', () => {
    expect(parsePush('quay', quay.pushArray, {})).toEqual([
      { registry: 'quay.io', repository: 'dgangaia/test', tag: 'latest' },
    ]);
  });

  it('reads the older updated_tags object', () => {
    expect(parsePush('quay', quay.pushObject, {})).toEqual([
      { registry: 'quay.io', repository: 'devtable/ubuntu', tag: 'latest' },
    ]);
  });

  it('refuses a body without docker_url as Malformed', () => {
    expect(code(() => parsePush('quay', { updated_tags: ['x'] }, {}))).toBe('Malformed');
  });
});

describe('GitHub package events', () => {
  const headers = { 'x-github-event': 'package' };

  it('reads a container package_version: ghcr.io, tag and digest', () => {
    expect(parsePush('github', github.packagePublished, headers)).toEqual([
      {
        registry: 'ghcr.io',
        repository: 'theryangeary/www',
        tag: '0e2a89b',
        digest: digestOf('89160c587d0c36bf54090497a465445c14980ba48efbcf3b0d03c49b76f3feb8'),
      },
    ]);
  });

  it('falls back to namespace/name, lower-cased, without a package_url', () => {
    const body = structuredClone(github.packagePublished) as {
      package: { namespace: string; package_version: Record<string, unknown> };
    };
    delete body.package.package_version.package_url;
    body.package.namespace = 'TheRyanGeary';
    expect(parsePush('github', body, headers)).toMatchObject([
      { registry: 'ghcr.io', repository: 'theryangeary/www' },
    ]);
  });

  it('ignores ping, other events, other package types and other actions', () => {
    expect(parsePush('github', { zen: 'Keep it logically awesome.' }, { 'x-github-event': 'ping' })).toEqual(
      [],
    );
    expect(parsePush('github', github.packagePublished, { 'x-github-event': 'push' })).toEqual([]);
    const npm = structuredClone(github.packagePublished);
    npm.package.package_type = 'npm';
    expect(parsePush('github', npm, headers)).toEqual([]);
    expect(parsePush('github', { ...github.packagePublished, action: 'deleted' }, headers)).toEqual([]);
  });
});

describe('CloudEvents', () => {
  it('reads an Azure Container Registry ImagePushed batch (Event Grid)', () => {
    expect(parsePush('cloudevents', cloudevents.acrImagePushed, {})).toEqual([
      {
        registry: 'demo.azurecr.io',
        repository: 'aci-helloworld',
        tag: 'v1',
        digest: digestOf('213bbc182920ab41e18edc2001e06abcca6735d87782d9cef68abd83941cf0e5'),
      },
    ]);
  });

  it('ignores ImageDeleted', () => {
    expect(parsePush('cloudevents', cloudevents.acrImageDeleted, {})).toEqual([]);
  });

  it("reads Harbor's harbor.artifact.pushed, a digest given as tag counting as the digest", () => {
    expect(parsePush('cloudevents', harbor.cloudEventPushedByDigest, {})).toEqual([
      {
        registry: 'localhost',
        repository: 'harbor/alpine',
        digest: digestOf('954b378c375d852eb3c63ab88978f640b4348b01c1b3456a024a81536dafbbf4'),
      },
    ]);
  });

  it('reads binary mode: the type in ce-type, the body is the data', () => {
    const data = cloudevents.acrImagePushed[0]?.data;
    expect(
      parsePush('cloudevents', data, {
        'ce-type': 'Microsoft.ContainerRegistry.ImagePushed',
        'ce-specversion': '1.0',
      }),
    ).toMatchObject([{ registry: 'demo.azurecr.io', repository: 'aci-helloworld', tag: 'v1' }]);
  });

  it('refuses a structured event without specversion, or a batch of non-objects', () => {
    expect(code(() => parsePush('cloudevents', { type: 'harbor.artifact.pushed', data: {} }, {}))).toBe(
      'Malformed',
    );
    expect(code(() => parsePush('cloudevents', ['x'], {}))).toBe('Malformed');
  });
});

describe('pushEvent', () => {
  it.each<[string, [string, string, string?, string?], unknown]>([
    [
      'folds the host case and default port',
      ['Registry.Example.com:443', 'charts/web', 'v1'],
      { registry: 'registry.example.com', repository: 'charts/web', tag: 'v1' },
    ],
    [
      'folds Docker Hub aliases',
      ['registry-1.docker.io', 'library/nginx'],
      { registry: 'docker.io', repository: 'library/nginx' },
    ],
    ['keeps other ports', ['127.0.0.1:5000', 'a/b'], { registry: '127.0.0.1:5000', repository: 'a/b' }],
    [
      'drops a digest that is not one',
      ['r.io', 'a', 'v1', 'md5:x'],
      { registry: 'r.io', repository: 'a', tag: 'v1' },
    ],
  ])('%s', (_, args, expected) => {
    expect(pushEvent(...args)).toEqual(expected);
  });

  it.each<[string, string, string?]>([
    ['r.io', 'UPPER/case'],
    ['r.io', 'a/b:tag'],
    ['user:pass@r.io', 'a/b'],
    ['r.io/x', 'a'],
    ['r.io', 'a', 'not a tag'],
    ['r.io', '../a'],
  ])('drops %s %s %s (no valid reference)', (host, repository, tag) => {
    expect(pushEvent(host, repository, tag)).toBeUndefined();
  });

  it('has a parser for every provider', () => {
    const providers: WebhookProvider[] = [
      'distribution',
      'harbor',
      'dockerhub',
      'quay',
      'github',
      'cloudevents',
    ];
    for (const provider of providers) expect(code(() => parsePush(provider, 42, {}))).toBe('Malformed');
  });
});
