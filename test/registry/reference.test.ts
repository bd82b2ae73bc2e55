import { describe, expect, it } from 'vitest';
import {
  apiHost,
  namesRegistry,
  redactUserinfo,
  formatReference,
  parseHelmOciReference,
  parseReference,
  type OciReference,
} from '../../src/registry/reference.ts';
import { RegistryError } from '../../src/registry/errors.ts';

const D256 = `sha256:${'a'.repeat(64)}`;
const D512 = `sha512:${'b'.repeat(128)}`;

const valid: [string, OciReference][] = [
  [
    'oci://registry.example.com/charts/payment:3.1.0',
    { registry: 'registry.example.com', repository: 'charts/payment', tag: '3.1.0' },
  ],
  [
    'registry.example.com/charts/payment:3.1.0',
    { registry: 'registry.example.com', repository: 'charts/payment', tag: '3.1.0' },
  ],
  ['OCI://ghcr.io/acme/app:v1', { registry: 'ghcr.io', repository: 'acme/app', tag: 'v1' }],
  [
    '127.0.0.1:5000/charts/payment:1.0.0',
    { registry: '127.0.0.1:5000', repository: 'charts/payment', tag: '1.0.0' },
  ],
  ['localhost:5000/app:1', { registry: 'localhost:5000', repository: 'app', tag: '1' }],
  ['localhost/app:1', { registry: 'localhost', repository: 'app', tag: '1' }],
  ['[::1]:5000/app:1', { registry: '[::1]:5000', repository: 'app', tag: '1' }],
  ['ghcr.io/acme/app', { registry: 'ghcr.io', repository: 'acme/app', tag: 'latest' }],
  [`ghcr.io/acme/app@${D256}`, { registry: 'ghcr.io', repository: 'acme/app', digest: D256 }],
  [`ghcr.io/acme/app:1.2@${D256}`, { registry: 'ghcr.io', repository: 'acme/app', tag: '1.2', digest: D256 }],
  [`ghcr.io/acme/app@${D512}`, { registry: 'ghcr.io', repository: 'acme/app', digest: D512 }],
  [
    `oci://127.0.0.1:5000/a/b/c/d@${D256}`,
    { registry: '127.0.0.1:5000', repository: 'a/b/c/d', digest: D256 },
  ],
  ['nginx', { registry: 'docker.io', repository: 'library/nginx', tag: 'latest' }],
  ['nginx:1.27', { registry: 'docker.io', repository: 'library/nginx', tag: '1.27' }],
  ['bitnami/nginx:1.27', { registry: 'docker.io', repository: 'bitnami/nginx', tag: '1.27' }],
  ['docker.io/nginx:1', { registry: 'docker.io', repository: 'library/nginx', tag: '1' }],
  ['index.docker.io/library/nginx:1', { registry: 'docker.io', repository: 'library/nginx', tag: '1' }],
  ['registry-1.docker.io/bitnami/redis:7', { registry: 'docker.io', repository: 'bitnami/redis', tag: '7' }],
  [
    'registry.example.com/a_b/c__d/e-f/g--h.i:t',
    { registry: 'registry.example.com', repository: 'a_b/c__d/e-f/g--h.i', tag: 't' },
  ],
  [
    'registry.example.com/app:_underscore-tag.1',
    { registry: 'registry.example.com', repository: 'app', tag: '_underscore-tag.1' },
  ],
  [
    'registry.example.com/app:3.1.0+build.5'.replace('+', '_'),
    { registry: 'registry.example.com', repository: 'app', tag: '3.1.0_build.5' },
  ],
  ['  ghcr.io/acme/app:v1  ', { registry: 'ghcr.io', repository: 'acme/app', tag: 'v1' }],
  [
    'my-registry.internal:443/team/chart:0.0.1-rc.1',
    { registry: 'my-registry.internal:443', repository: 'team/chart', tag: '0.0.1-rc.1' },
  ],
];

const invalid: [string, RegExp][] = [
  ['', /empty/],
  ['https://ghcr.io/acme/app:v1', /scheme "https:\/\/" is not supported/],
  ['ghcr.io/Acme/app:v1', /component "Acme"/],
  ['ghcr.io/acme/app:', /"" is not a valid tag/],
  ['ghcr.io/acme/app:-bad', /"-bad" is not a valid tag/],
  [`ghcr.io/acme/app:${'t'.repeat(129)}`, /is not a valid tag/],
  ['ghcr.io/acme/app@sha256:abc', /not a sha256 or sha512 digest/],
  [`ghcr.io/acme/app@sha256:${'A'.repeat(64)}`, /lower-case hex/],
  [`ghcr.io/acme/app@md5:${'a'.repeat(32)}`, /not a sha256 or sha512 digest/],
  ['ghcr.io//app:v1', /empty component/],
  ['ghcr.io/acme/app/:v1', /empty component/],
  ['ghcr.io:99999/app:v1', /not a valid registry host/],
  ['bad_host.io/app:v1', /not a valid registry host/],
  ['ghcr.io/acme/a..b:v1', /component "a..b"/],
  ['ghcr.io/acme/-app:v1', /component "-app"/],
  [`ghcr.io/${'a'.repeat(256)}:v1`, /longer than 255/],
  ['ghcr.io/acme/app:v1:v2', /component "app:v1"/],
];

describe('parseReference', () => {
  it.each(valid)('parses %s', (input, expected) => {
    expect(parseReference(input)).toEqual(expected);
  });

  it.each(invalid)('rejects %s with a reason', (input, reason) => {
    let error: unknown;
    try {
      parseReference(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).code).toBe('InvalidReference');
    expect((error as RegistryError).message).toMatch(reason);
  });

  it('has a table of at least 30 cases', () => {
    expect(valid.length + invalid.length).toBeGreaterThanOrEqual(30);
  });
});

describe('parseHelmOciReference (Argo CD repoURL + chart)', () => {
  it('joins a scheme-less repoURL and the chart name', () => {
    expect(parseHelmOciReference('registry.example.com/charts', 'payment', '3.1.0')).toEqual({
      registry: 'registry.example.com',
      repository: 'charts/payment',
      tag: '3.1.0',
    });
  });

  it('tolerates oci:// and a trailing slash, and takes a digest revision as a digest', () => {
    expect(parseHelmOciReference('oci://127.0.0.1:5000/charts/', 'payment', D256)).toEqual({
      registry: '127.0.0.1:5000',
      repository: 'charts/payment',
      digest: D256,
    });
  });

  it('rejects a chart name that carries its own tag', () => {
    expect(() => parseHelmOciReference('ghcr.io/acme', 'payment:1.0.0', '1.0.0')).toThrow(
      /must not carry a tag/,
    );
  });
});

describe('formatReference and apiHost', () => {
  it('formats the canonical form that parses back to the same reference', () => {
    for (const [, ref] of valid) expect(parseReference(formatReference(ref))).toEqual(ref);
  });

  it('talks to registry-1.docker.io for Docker Hub only', () => {
    expect(apiHost('docker.io')).toBe('registry-1.docker.io');
    expect(apiHost('ghcr.io')).toBe('ghcr.io');
  });
});

describe('credentials in a reference', () => {
  const SECRET = 'hunter2-Secret';
  const withCredentials = [
    `oci://user:${SECRET}@ghcr.io/acme/app:1.0`,
    `user:${SECRET}@ghcr.io/acme/app:1.0`,
    `oci://user:${SECRET}@127.0.0.1:5000/acme/app@${D256}`,
    `oci://user:pa/${SECRET}@ghcr.io/acme/app`,
    `oci://user:${SECRET}@p@ghcr.io/acme/app`,
    `oci://user:${SECRET}@ghcr.io`,
    `oci://${SECRET}@ghcr.io/acme/app`,
    `oci://user:${SECRET}@[::1]:5000/app:1`,
  ];

  it('refuses them with InvalidReference, and the message never holds the secret', () => {
    for (const input of withCredentials) {
      let error: unknown;
      try {
        parseReference(input);
      } catch (e) {
        error = e;
      }
      expect(error, input).toMatchObject({ code: 'InvalidReference' });
      expect(String(error), input).not.toContain(SECRET);
      expect(String(error), input).toContain('***@');
    }
  });

  it('leaves references with digests, and invalid digests, readable', () => {
    for (const input of [`ghcr.io/acme/app@${D256}`, `nginx@${D256}`, 'ghcr.io/acme/app@sha256:short']) {
      expect(redactUserinfo(input)).toBe(input);
    }
    expect(() => parseReference('ghcr.io/acme/app@sha256:short')).toThrow(/ghcr.io\/acme\/app@sha256:short/);
  });
});

describe('namesRegistry', () => {
  it('is true only when the reference names its registry itself', () => {
    for (const yes of [
      'oci://nginx',
      'ghcr.io/acme/app',
      'localhost:5000/app',
      'localhost/app',
      '[::1]:5000/a',
    ])
      expect(namesRegistry(yes), yes).toBe(true);
    for (const no of [
      'nginx',
      'nginx:1.27',
      'bitnami/nginx',
      'chart.tgz',
      'charts/app',
      'https://ghcr.io/a/b',
    ])
      expect(namesRegistry(no), no).toBe(false);
  });
});
