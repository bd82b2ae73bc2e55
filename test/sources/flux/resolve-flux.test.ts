import { ociArtifacts } from '../../../src/sources/types.ts';
import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { resolveSource } from '../../../src/sources/resolve-source.ts';
import { SourceError, type SourceErrorCode } from '../../../src/sources/errors.ts';
import type { SourceReference } from '../../../src/api/artifact-verification.ts';
import { memoryReader } from '../memory-reader.ts';
import {
  configMap,
  helmChart,
  helmRelease,
  helmRepository,
  kustomization,
  ociRepository,
  secret,
  serviceAccount,
} from '../fixtures.ts';

const NS = 'flux-system';
const options = { allowCrossNamespace: false, argocdNamespace: 'argocd' };
const resolveAll = (objects: KubernetesObject[], ref: SourceReference, opts = options) =>
  resolveSource(ref, NS, memoryReader(objects), opts);
/** The OCI artifacts only (the HTTP repository charts are looked at with resolveAll). */
const resolve = (objects: KubernetesObject[], ref: SourceReference, opts = options) =>
  resolveAll(objects, ref, opts).then((r) => ({ ...r, artifacts: ociArtifacts(r.artifacts) }));

const expectCode = async (
  promise: Promise<unknown>,
  code: SourceErrorCode,
  stalled: boolean,
): Promise<void> => {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SourceError);
  expect((error as SourceError).code).toBe(code);
  expect((error as SourceError).stalled).toBe(stalled);
};

const targetNames = (targets: readonly { kind: string; namespace: string; name: string }[]): string[] =>
  targets.map((t) => `${t.kind}/${t.namespace}/${t.name}`);

describe('OCIRepository', () => {
  it.each([
    [{ tag: '3.1.0' }, { tag: '3.1.0' }],
    [{ tag: '3.1.0', semver: '>=3.0.0' }, { semver: '>=3.0.0' }],
    [
      { semver: '3.x', semverFilter: '.*-rc.*' },
      { semver: '3.x', semverFilter: '.*-rc.*' },
    ],
    [
      { tag: '3.1.0', semver: '3.x', digest: `sha256:${'a'.repeat(64)}` },
      { tag: '3.1.0', digest: `sha256:${'a'.repeat(64)}` },
    ],
    [undefined, { tag: 'latest' }],
  ])('follows ref %j as Flux does (digest > semver > tag, default latest)', async (ref, expected) => {
    const { artifacts } = await resolve(
      [
        ociRepository(NS, 'payment', {
          url: 'oci://registry.example.com/charts/payment',
          ...(ref ? { ref } : {}),
        }),
      ],
      { kind: 'OCIRepository', name: 'payment' },
    );
    expect(artifacts).toHaveLength(1);
    const [artifact] = artifacts;
    expect({
      tag: artifact?.tag,
      semver: artifact?.semver,
      semverFilter: artifact?.semverFilter,
      digest: artifact?.digest,
    }).toEqual({
      tag: undefined,
      semver: undefined,
      semverFilter: undefined,
      digest: undefined,
      ...expected,
    });
    expect(artifact?.url).toBe('oci://registry.example.com/charts/payment');
    expect(artifact?.origin).toBe('OCIRepository/flux-system/payment');
  });

  it('takes credentials from secretRef then the service account pull secrets, and certSecretRef and insecure', async () => {
    const { artifacts } = await resolve(
      [
        ociRepository(NS, 'payment', {
          url: 'oci://127.0.0.1:5000/charts/payment',
          secretRef: { name: 'regcred' },
          serviceAccountName: 'puller',
          certSecretRef: { name: 'ca' },
          insecure: true,
        }),
        serviceAccount(NS, 'puller', ['sa-pull']),
      ],
      { kind: 'OCIRepository', name: 'payment' },
    );
    expect(artifacts[0]?.credentials).toEqual({
      kind: 'dockerconfigjson',
      secrets: [
        { namespace: NS, name: 'regcred' },
        { namespace: NS, name: 'sa-pull' },
      ],
    });
    expect(artifacts[0]?.caSecret).toEqual({ namespace: NS, name: 'ca' });
    expect(artifacts[0]?.insecure).toBe(true);
  });

  it("holds itself, the Kustomizations and HelmReleases that consume it, and carries the one release's values", async () => {
    const objects = [
      ociRepository(NS, 'payment', {
        url: 'oci://registry.example.com/charts/payment',
        ref: { tag: '3.1.0' },
      }),
      kustomization(NS, 'apps', { sourceRef: { kind: 'OCIRepository', name: 'payment' }, path: './' }),
      kustomization(NS, 'other', { sourceRef: { kind: 'GitRepository', name: 'payment' }, path: './' }),
      helmRelease(NS, 'payment', {
        chartRef: { kind: 'OCIRepository', name: 'payment' },
        values: { replicas: 5 },
      }),
      helmRelease('team-a', 'payment', {
        chartRef: { kind: 'OCIRepository', name: 'payment', namespace: NS },
      }),
    ];
    const local = await resolve(objects, { kind: 'OCIRepository', name: 'payment' });
    expect(targetNames(local.targets)).toEqual([
      'OCIRepository/flux-system/payment',
      'Kustomization/flux-system/apps',
      'HelmRelease/flux-system/payment',
    ]);
    expect(local.artifacts[0]?.helmValues).toEqual({ replicas: 5 });

    const cluster = await resolve(
      objects,
      { kind: 'OCIRepository', name: 'payment' },
      { ...options, allowCrossNamespace: true },
    );
    expect(targetNames(cluster.targets)).toContain('HelmRelease/team-a/payment');
    expect(cluster.artifacts[0]?.helmValues).toBeUndefined();
    expect(cluster.artifacts[0]?.helmValuesNotes?.[0]).toMatch(/2 HelmReleases/);
  });

  it('skips consumers that do not parse instead of failing the source', async () => {
    const { targets } = await resolve(
      [
        ociRepository(NS, 'payment', { url: 'oci://registry.example.com/charts/payment' }),
        helmRelease(NS, 'broken', { chartRef: { kind: 'OCIRepository' } }),
        kustomization(NS, 'broken', { sourceRef: 'payment' }),
      ],
      { kind: 'OCIRepository', name: 'payment' },
    );
    expect(targetNames(targets)).toEqual(['OCIRepository/flux-system/payment']);
  });

  it.each([
    [{ url: 'https://registry.example.com/charts/payment' }, 'InvalidObject'],
    [{ url: 'oci://registry.example.com/charts/payment:3.1.0' }, 'InvalidObject'],
    [{}, 'InvalidObject'],
    [{ url: 'oci://registry.example.com/charts/payment', ref: { tag: 3 } }, 'InvalidObject'],
    [{ url: 'oci://123456789.dkr.ecr.us-east-1.amazonaws.com/payment', provider: 'aws' }, 'Unsupported'],
  ] as const)('stalls on spec %j with %s', async (spec, code) => {
    await expectCode(
      resolve([ociRepository(NS, 'payment', spec)], { kind: 'OCIRepository', name: 'payment' }),
      code,
      true,
    );
  });

  it('waits for a missing OCIRepository or service account', async () => {
    await expectCode(resolve([], { kind: 'OCIRepository', name: 'payment' }), 'NotFound', false);
    await expectCode(
      resolve(
        [ociRepository(NS, 'payment', { url: 'oci://r.example.com/p', serviceAccountName: 'missing' })],
        { kind: 'OCIRepository', name: 'payment' },
      ),
      'NotFound',
      false,
    );
  });

  it('refuses a sourceRef in another namespace unless cross-namespace refs are allowed', async () => {
    const objects = [ociRepository('other', 'payment', { url: 'oci://r.example.com/p' })];
    const ref = { kind: 'OCIRepository', name: 'payment', namespace: 'other' } as const;
    await expectCode(resolve(objects, ref), 'CrossNamespaceForbidden', true);
    const resolved = await resolve(objects, ref, { ...options, allowCrossNamespace: true });
    expect(targetNames(resolved.targets)).toEqual(['OCIRepository/other/payment']);
  });
});

describe('HelmChart', () => {
  const repo = helmRepository(NS, 'charts', {
    type: 'oci',
    url: 'oci://registry.example.com/charts/',
    secretRef: { name: 'helm-auth' },
    insecure: true,
  });

  it.each([
    ['3.1.0', { tag: '3.1.0' }],
    ['v3.1.0', { tag: 'v3.1.0' }],
    ['3.1.0+build.7', { tag: '3.1.0_build.7' }],
    ['3.1', { semver: '3.1' }],
    ['>=3.0.0 <4', { semver: '>=3.0.0 <4' }],
    [undefined, { semver: '*' }],
  ])('reads version %j as source-controller does', async (version, expected) => {
    const { artifacts } = await resolve(
      [
        repo,
        helmChart(NS, 'payment', {
          chart: 'payment',
          sourceRef: { kind: 'HelmRepository', name: 'charts' },
          ...(version ? { version } : {}),
        }),
      ],
      { kind: 'HelmChart', name: 'payment' },
    );
    expect(artifacts[0]).toMatchObject({ url: 'oci://registry.example.com/charts/payment', ...expected });
    expect(artifacts[0]?.credentials).toEqual({
      kind: 'basic',
      secret: { namespace: NS, name: 'helm-auth' },
    });
    expect(artifacts[0]?.insecure).toBe(true);
  });

  it("holds the chart and the HelmRelease that owns it, with that release's values", async () => {
    const { targets, artifacts } = await resolve(
      [
        repo,
        helmChart(NS, 'flux-system-payment', {
          chart: 'payment',
          version: '3.1.0',
          sourceRef: { kind: 'HelmRepository', name: 'charts' },
        }),
        helmRelease(NS, 'payment', {
          chart: {
            spec: {
              chart: 'payment',
              version: '3.1.0',
              sourceRef: { kind: 'HelmRepository', name: 'charts' },
            },
          },
          values: { image: 'x' },
        }),
        helmRelease(NS, 'unrelated', {
          chart: { spec: { chart: 'other', sourceRef: { kind: 'HelmRepository', name: 'charts' } } },
        }),
      ],
      { kind: 'HelmChart', name: 'flux-system-payment' },
    );
    expect(targetNames(targets)).toEqual([
      'HelmChart/flux-system/flux-system-payment',
      'HelmRelease/flux-system/payment',
    ]);
    expect(artifacts[0]?.helmValues).toEqual({ image: 'x' });
  });

  it.each([
    ['3.1.0', { version: '3.1.0' }, 'HelmChart/flux-system/payment'],
    ['3.x', { semver: '3.x' }, 'HelmChart/flux-system/payment pin=version'],
    ['', { semver: '*' }, 'HelmChart/flux-system/payment pin=version'],
  ])(
    'HelmChart from an HTTP HelmRepository, version "%s": the index entry, Flux credentials',
    async (version, expected, pinned) => {
      const { artifacts, targets } = await resolveAll(
        [
          helmRepository(NS, 'charts', {
            url: 'https://charts.example.com/stable/',
            secretRef: { name: 'auth' },
            certSecretRef: { name: 'tls' },
            passCredentials: true,
          }),
          helmChart(NS, 'payment', {
            chart: 'payment',
            version,
            sourceRef: { kind: 'HelmRepository', name: 'charts' },
          }),
        ],
        { kind: 'HelmChart', name: 'payment' },
      );
      expect(artifacts).toEqual([
        {
          kind: 'helm-http',
          repositoryUrl: 'https://charts.example.com/stable',
          chart: 'payment',
          ...expected,
          credentials: { kind: 'basic', secret: { namespace: NS, name: 'auth' } },
          tlsSecret: { namespace: NS, name: 'tls' },
          passCredentials: true,
          tlsSkipVerify: false,
          origin: 'HelmChart/flux-system/payment',
        },
      ]);
      expect(targets.map((t) => `${t.kind}/${t.namespace}/${t.name}${t.pin ? ` pin=${t.pin}` : ''}`)).toEqual(
        [pinned],
      );
    },
  );

  it('refuses an HTTP HelmRepository whose url is not http(s)', async () => {
    await expectCode(
      resolveAll(
        [
          helmRepository(NS, 'charts', { url: 'ftp://charts.example.com' }),
          helmChart(NS, 'payment', {
            chart: 'payment',
            sourceRef: { kind: 'HelmRepository', name: 'charts' },
          }),
        ],
        { kind: 'HelmChart', name: 'payment' },
      ),
      'InvalidObject',
      true,
    );
  });

  it.each([['a GitRepository', [], 'GitRepository']])(
    'does not support charts from %s',
    async (_what, extra, kind) => {
      await expectCode(
        resolve(
          [...extra, helmChart(NS, 'payment', { chart: 'payment', sourceRef: { kind, name: 'charts' } })],
          {
            kind: 'HelmChart',
            name: 'payment',
          },
        ),
        'Unsupported',
        true,
      );
    },
  );
});

describe('HelmRelease', () => {
  const repo = helmRepository(NS, 'charts', { type: 'oci', url: 'oci://registry.example.com/charts' });

  it('follows chart.spec to the OCI HelmRepository and holds the HelmChart made from it', async () => {
    const objects = [
      repo,
      helmRelease(NS, 'payment', {
        chart: {
          spec: { chart: 'payment', version: '3.x', sourceRef: { kind: 'HelmRepository', name: 'charts' } },
        },
      }),
    ];
    const before = await resolve(objects, { kind: 'HelmRelease', name: 'payment' });
    expect(before.artifacts[0]).toMatchObject({
      url: 'oci://registry.example.com/charts/payment',
      semver: '3.x',
    });
    expect(targetNames(before.targets)).toEqual(['HelmRelease/flux-system/payment']);

    const chart = helmChart(NS, 'flux-system-payment', {
      chart: 'payment',
      sourceRef: { kind: 'HelmRepository', name: 'charts' },
    });
    const after = await resolve([...objects, chart], { kind: 'HelmRelease', name: 'payment' });
    expect(targetNames(after.targets)).toEqual([
      'HelmRelease/flux-system/payment',
      'HelmChart/flux-system/flux-system-payment',
    ]);
  });

  it('marks which targets Pin may set: the template with a range (version), not the HelmChart generated from it', async () => {
    const template = (version: string, annotations?: Record<string, string>): KubernetesObject => {
      const release = helmRelease(NS, 'payment', {
        chart: { spec: { chart: 'payment', version, sourceRef: { kind: 'HelmRepository', name: 'charts' } } },
      });
      return annotations ? { ...release, metadata: { ...release.metadata, annotations } } : release;
    };
    const generated = helmChart(NS, 'flux-system-payment', {
      chart: 'payment',
      version: '3.x',
      sourceRef: { kind: 'HelmRepository', name: 'charts' },
    });
    const ranged = await resolve([repo, template('3.x'), generated], {
      kind: 'HelmRelease',
      name: 'payment',
    });
    expect(ranged.targets.map((t) => [t.kind, t.pin])).toEqual([
      ['HelmRelease', 'version'],
      ['HelmChart', undefined],
    ]);
    const viaChart = await resolve([repo, template('3.x'), generated], {
      kind: 'HelmChart',
      name: 'flux-system-payment',
    });
    expect(viaChart.targets.map((t) => [t.kind, t.pin])).toEqual([
      ['HelmChart', undefined],
      ['HelmRelease', 'version'],
    ]);
    // An exact version is already one: nothing to pin.
    const exact = await resolve([repo, template('3.1.0')], { kind: 'HelmRelease', name: 'payment' });
    expect(exact.targets.map((t) => t.pin)).toEqual([undefined]);
    // Pinned by tagguard: the range is read from the record, so a new version is still seen.
    const pinned = await resolve(
      [repo, template('3.1.0', { 'tagguard.dev/pre-hold': '{"spec.chart.spec.version":"3.x"}' })],
      { kind: 'HelmRelease', name: 'payment' },
    );
    expect(pinned.artifacts[0]).toMatchObject({ semver: '3.x' });
    expect(pinned.targets.map((t) => t.pin)).toEqual(['version']);
  });

  it('marks an OCIRepository behind chartRef as the digest pin', async () => {
    const { targets } = await resolve(
      [
        ociRepository(NS, 'payment', {
          url: 'oci://registry.example.com/charts/payment',
          ref: { tag: '3.1.0' },
        }),
        helmRelease(NS, 'payment', { chartRef: { kind: 'OCIRepository', name: 'payment' } }),
      ],
      { kind: 'HelmRelease', name: 'payment' },
    );
    expect(targets.map((t) => [t.kind, t.pin])).toEqual([
      ['HelmRelease', undefined],
      ['OCIRepository', 'digest'],
    ]);
  });

  it('follows chartRef to an OCIRepository', async () => {
    const { artifacts, targets } = await resolve(
      [
        ociRepository(NS, 'payment', {
          url: 'oci://registry.example.com/charts/payment',
          ref: { tag: '3.1.0' },
        }),
        helmRelease(NS, 'payment', { chartRef: { kind: 'OCIRepository', name: 'payment' } }),
      ],
      { kind: 'HelmRelease', name: 'payment' },
    );
    expect(artifacts[0]).toMatchObject({ tag: '3.1.0', origin: 'HelmRelease/flux-system/payment' });
    expect(targetNames(targets)).toEqual([
      'HelmRelease/flux-system/payment',
      'OCIRepository/flux-system/payment',
    ]);
  });

  it('composes values as helm-controller: valuesFrom in order, targetPath, spec.values last', async () => {
    const { artifacts } = await resolve(
      [
        repo,
        configMap(NS, 'base', { 'values.yaml': 'replicas: 1\nimage: {repo: base, tag: "1"}\nfrom: base\n' }),
        secret(NS, 'override', {
          custom: 'image: {tag: "2"}\nfrom: secret\n',
          token: 's3cr3t',
          port: '8080',
        }),
        helmRelease(NS, 'payment', {
          chart: { spec: { chart: 'payment', sourceRef: { kind: 'HelmRepository', name: 'charts' } } },
          valuesFrom: [
            { kind: 'ConfigMap', name: 'base' },
            { kind: 'Secret', name: 'override', valuesKey: 'custom' },
            { kind: 'Secret', name: 'override', valuesKey: 'token', targetPath: 'auth.token' },
            { kind: 'Secret', name: 'override', valuesKey: 'port', targetPath: 'service.port' },
            { kind: 'ConfigMap', name: 'absent', optional: true },
          ],
          values: { replicas: 3, from: 'spec' },
        }),
      ],
      { kind: 'HelmRelease', name: 'payment' },
    );
    expect(artifacts[0]?.helmValues).toEqual({
      replicas: 3,
      image: { repo: 'base', tag: '2' },
      from: 'spec',
      auth: { token: 's3cr3t' },
      service: { port: 8080 },
    });
  });

  it('waits when a required valuesFrom object or key is missing', async () => {
    const release = (valuesKey?: string) =>
      helmRelease(NS, 'payment', {
        chart: { spec: { chart: 'payment', sourceRef: { kind: 'HelmRepository', name: 'charts' } } },
        valuesFrom: [{ kind: 'ConfigMap', name: 'base', ...(valuesKey ? { valuesKey } : {}) }],
      });
    await expectCode(resolve([repo, release()], { kind: 'HelmRelease', name: 'payment' }), 'NotFound', false);
    await expectCode(
      resolve([repo, configMap(NS, 'base', {}), release('other.yaml')], {
        kind: 'HelmRelease',
        name: 'payment',
      }),
      'NotFound',
      false,
    );
  });

  it('is an InvalidObject with neither or both of chart and chartRef', async () => {
    await expectCode(
      resolve([helmRelease(NS, 'payment', {})], { kind: 'HelmRelease', name: 'payment' }),
      'InvalidObject',
      true,
    );
  });
});
