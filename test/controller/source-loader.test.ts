// SourceLoader over an in-memory ObjectReader (tagguard's own interface): what each sourceRef kind and a
// raw spec.artifact load to (artifact access with credentials already read, targets), and how each refusal
// becomes a ReconcileError with its kind (Stalled / Waiting) and reason.
import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type {
  ArtifactSource,
  ArtifactVerification,
  SourceReference,
} from '../../src/api/artifact-verification.ts';
import { Reason } from '../../src/api/conditions.ts';
import { parseOperatorConfig } from '../../src/config/operator-config.ts';
import { ReconcileError } from '../../src/controller/reconcile-error.ts';
import { credentialId } from '../../src/controller/registry-access.ts';
import { SourceLoader, type LoadedSource } from '../../src/controller/source-loader.ts';
import { SourceError } from '../../src/sources/errors.ts';
import type { ObjectReader } from '../../src/sources/types.ts';
import {
  application,
  argoRepoSecret,
  dockerConfigSecret,
  helmChart,
  helmRelease,
  helmRepository,
  kustomization,
  ociRepository,
  secret,
  serviceAccount,
} from '../sources/fixtures.ts';
import { memoryReader } from '../sources/memory-reader.ts';

const NS = 'apps';
const DIGEST = `sha256:${'d'.repeat(64)}`;
const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const ALICE = { kind: 'basic', username: 'alice', password: 's3cret' } as const;

const avWith = (
  spec: { sourceRef?: SourceReference; artifact?: ArtifactSource },
  namespace = NS,
): ArtifactVerification => ({
  apiVersion: 'tagguard.dev/v1alpha1',
  kind: 'ArtifactVerification',
  metadata: { name: 'payment', namespace },
  spec: { action: 'Suspend', ...spec },
});

/** The reader, and the Secrets read through it (namespace/name), in order. */
const recordingReader = (
  objects: readonly KubernetesObject[],
): { reader: ObjectReader; secretsRead: string[] } => {
  const inner = memoryReader(objects);
  const secretsRead: string[] = [];
  return {
    secretsRead,
    reader: {
      get: (apiVersion, kind, namespace, name) => {
        if (kind === 'Secret') secretsRead.push(`${namespace}/${name}`);
        return inner.get(apiVersion, kind, namespace, name);
      },
      list: (apiVersion, kind, namespace, labelSelector) =>
        inner.list(apiVersion, kind, namespace, labelSelector),
    },
  };
};

const loaderFor = (
  objects: readonly KubernetesObject[],
  flags: string[] = [],
): { loader: SourceLoader; secretsRead: string[] } => {
  const { reader, secretsRead } = recordingReader(objects);
  const config = parseOperatorConfig(['--argocd-namespace', 'argocd', ...flags], { isTty: false });
  return { loader: new SourceLoader({ reader, config }), secretsRead };
};

const load = (objects: readonly KubernetesObject[], object: ArtifactVerification, flags?: string[]) =>
  loaderFor(objects, flags).loader.load(object);

const refusal = async (promise: Promise<LoadedSource>): Promise<ReconcileError> => {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ReconcileError);
  return error as ReconcileError;
};

/** The SourceError a refusal came from, by its code. */
const causeCode = (error: ReconcileError): string => {
  expect(error.cause).toBeInstanceOf(SourceError);
  return (error.cause as SourceError).code;
};

const targetNames = (source: LoadedSource): string[] =>
  source.targets.map((t) => `${t.kind}/${t.namespace}/${t.name}${t.pin ? ` pin=${t.pin}` : ''}`);

describe('a raw spec.artifact', () => {
  it('loads as it is written, anonymous, with nothing to hold', async () => {
    const loaded = await load(
      [],
      avWith({ artifact: { url: 'oci://registry.example/charts/payment', tag: '3.1.0' } }),
    );
    expect(loaded).toEqual({
      artifacts: [
        {
          access: {
            url: 'oci://registry.example/charts/payment',
            reference: { registry: 'registry.example', repository: 'charts/payment' },
            tag: '3.1.0',
            insecure: false,
            credential: { kind: 'anonymous' },
            credentialId: 'anonymous',
          },
          origin: 'spec.artifact',
        },
      ],
      targets: [],
    });
  });

  it('reads its pull Secret and CA Secret in the CR’s namespace through the reader', async () => {
    const { loader, secretsRead } = loaderFor([
      dockerConfigSecret(NS, 'regcred', {
        'registry.example:5000': { username: 'alice', password: 's3cret' },
      }),
      secret(NS, 'ca', { 'ca.crt': CA }),
      dockerConfigSecret('other', 'regcred', {
        'registry.example:5000': { username: 'mallory', password: 'x' },
      }),
    ]);
    const loaded = await loader.load(
      avWith({
        artifact: {
          url: 'oci://registry.example:5000/charts/payment',
          semver: '3.x',
          digest: DIGEST,
          secretRef: { name: 'regcred' },
          certSecretRef: { name: 'ca' },
          insecure: true,
        },
      }),
    );
    expect(loaded.artifacts[0]?.access).toEqual({
      url: 'oci://registry.example:5000/charts/payment',
      reference: { registry: 'registry.example:5000', repository: 'charts/payment' },
      semver: '3.x',
      digest: DIGEST,
      insecure: true,
      caPem: CA,
      credential: ALICE,
      credentialId: credentialId(ALICE),
    });
    expect(loaded.artifacts[0]?.access.credentialId).toMatch(/^[0-9a-f]{16}$/);
    expect(secretsRead).toEqual(['apps/regcred', 'apps/ca']);
  });

  it('waits (TrustMaterialMissing, retry in 15 s) for a pull Secret that does not exist yet', async () => {
    const error = await refusal(
      load(
        [],
        avWith({
          artifact: { url: 'oci://registry.example/charts/payment', secretRef: { name: 'regcred' } },
        }),
      ),
    );
    expect(error.code).toBe('Waiting');
    expect(error.reason).toBe(Reason.TrustMaterialMissing);
    expect(error.retryAfterMs).toBe(15_000);
    expect(error.message).toBe('spec.artifact: Secret apps/regcred does not exist');
    expect(causeCode(error)).toBe('NotFound');
  });

  it('stalls (TrustMaterialMissing) on a pull Secret that is not a docker config, without its content', async () => {
    const error = await refusal(
      load(
        [secret(NS, 'regcred', { token: 'do-not-echo' })],
        avWith({
          artifact: { url: 'oci://registry.example/charts/payment', secretRef: { name: 'regcred' } },
        }),
      ),
    );
    expect(error.code).toBe('Stalled');
    expect(error.reason).toBe(Reason.TrustMaterialMissing);
    expect(error.message).toBe(
      'spec.artifact: Secret apps/regcred is not a kubernetes.io/dockerconfigjson Secret',
    );
    expect(causeCode(error)).toBe('InvalidObject');
  });

  it('stalls (TrustMaterialMissing) on a CA Secret with a client certificate (mTLS is not supported)', async () => {
    const error = await refusal(
      load(
        [secret(NS, 'ca', { 'ca.crt': CA, 'tls.crt': CA })],
        avWith({ artifact: { url: 'oci://registry.example/charts/payment', certSecretRef: { name: 'ca' } } }),
      ),
    );
    expect(error.code).toBe('Stalled');
    expect(error.reason).toBe(Reason.TrustMaterialMissing);
    expect(causeCode(error)).toBe('Unsupported');
  });

  it('stalls (InvalidSpec) on a URL that names a tag', async () => {
    const error = await refusal(
      load([], avWith({ artifact: { url: 'oci://registry.example/charts/payment:3.1.0' } })),
    );
    expect(error.code).toBe('Stalled');
    expect(error.reason).toBe(Reason.InvalidSpec);
    expect(error.message).toBe(
      'spec.artifact: oci://registry.example/charts/payment:3.1.0 must name a repository without a tag or digest',
    );
  });

  it('stalls (InvalidSpec) with neither sourceRef nor artifact', async () => {
    const error = await refusal(load([], avWith({})));
    expect(error.code).toBe('Stalled');
    expect(error.reason).toBe(Reason.InvalidSpec);
    expect(error.message).toBe('spec needs exactly one of sourceRef or artifact');
  });
});

describe('sourceRef OCIRepository', () => {
  const repository = ociRepository(NS, 'payment', {
    url: 'oci://registry.example/charts/payment',
    ref: { tag: '3.1.0' },
    secretRef: { name: 'regcred' },
    serviceAccountName: 'puller',
    certSecretRef: { name: 'ca' },
  });
  const objects = [
    repository,
    serviceAccount(NS, 'puller', ['sa-pull']),
    // The first pull Secret has no entry for the registry: the service account's one is used.
    dockerConfigSecret(NS, 'regcred', { 'other.example': { username: 'bob', password: 'x' } }),
    dockerConfigSecret(NS, 'sa-pull', { 'registry.example': { username: 'alice', password: 's3cret' } }),
    secret(NS, 'ca', { 'ca.crt': CA }),
    kustomization(NS, 'platform', { sourceRef: { kind: 'OCIRepository', name: 'payment' }, path: './' }),
    helmRelease(NS, 'payment', {
      chartRef: { kind: 'OCIRepository', name: 'payment' },
      values: { replicas: 3 },
    }),
  ];

  it('loads the artifact with the credential of the first pull Secret for the registry, and its consumers', async () => {
    const { loader, secretsRead } = loaderFor(objects);
    const loaded = await loader.load(avWith({ sourceRef: { kind: 'OCIRepository', name: 'payment' } }));

    expect(loaded.artifacts).toEqual([
      {
        access: {
          url: 'oci://registry.example/charts/payment',
          reference: { registry: 'registry.example', repository: 'charts/payment' },
          tag: '3.1.0',
          insecure: false,
          caPem: CA,
          credential: ALICE,
          credentialId: credentialId(ALICE),
        },
        helmValues: { replicas: 3 },
        origin: 'OCIRepository/apps/payment',
      },
    ]);
    expect(targetNames(loaded)).toEqual([
      'OCIRepository/apps/payment pin=digest',
      'Kustomization/apps/platform',
      'HelmRelease/apps/payment',
    ]);
    expect(secretsRead).toEqual(['apps/regcred', 'apps/sa-pull', 'apps/ca']);
  });

  it('waits (SourceNotFound, retry in 15 s) for an OCIRepository that does not exist', async () => {
    const error = await refusal(load([], avWith({ sourceRef: { kind: 'OCIRepository', name: 'payment' } })));
    expect(error.code).toBe('Waiting');
    expect(error.reason).toBe(Reason.SourceNotFound);
    expect(error.retryAfterMs).toBe(15_000);
    expect(causeCode(error)).toBe('NotFound');
  });

  it('stalls (InvalidSpec) on a semverFilter RE2 refuses', async () => {
    const error = await refusal(
      load(
        [
          ociRepository(NS, 'payment', {
            url: 'oci://registry.example/charts/payment',
            ref: { semver: '3.x', semverFilter: '(?<=v)3' },
          }),
        ],
        avWith({ sourceRef: { kind: 'OCIRepository', name: 'payment' } }),
      ),
    );
    expect(error.code).toBe('Stalled');
    expect(error.reason).toBe(Reason.InvalidSpec);
    expect(error.message).toMatch(/^OCIRepository\/apps\/payment: ref\.semverFilter: /);
  });

  it('passes an error of the reader itself (not a SourceError) through unchanged', async () => {
    const outage = new Error('the API server answered 500');
    const failing: ObjectReader = { get: () => Promise.reject(outage), list: () => Promise.reject(outage) };
    const loader = new SourceLoader({
      reader: failing,
      config: parseOperatorConfig([], { isTty: false }),
    });
    const error: unknown = await loader
      .load(avWith({ sourceRef: { kind: 'OCIRepository', name: 'payment' } }))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBe(outage);
  });
});

describe('cross-namespace sourceRefs', () => {
  const elsewhere = [
    ociRepository('shared', 'payment', {
      url: 'oci://registry.example/charts/payment',
      ref: { tag: '3.1.0' },
    }),
    kustomization('shared', 'platform', {
      sourceRef: { kind: 'OCIRepository', name: 'payment' },
      path: './',
    }),
  ];
  const crossRef = avWith({ sourceRef: { kind: 'OCIRepository', name: 'payment', namespace: 'shared' } });

  it('are refused by default: Stalled CrossNamespaceRefForbidden, nothing read', async () => {
    const { loader, secretsRead } = loaderFor(elsewhere);
    const error = await refusal(loader.load(crossRef));
    expect(error.code).toBe('Stalled');
    expect(error.reason).toBe(Reason.CrossNamespaceRefForbidden);
    expect(error.message).toBe(
      'sourceRef OCIRepository/shared/payment is outside namespace apps (needs --allow-cross-namespace-refs)',
    );
    expect(causeCode(error)).toBe('CrossNamespaceForbidden');
    expect(secretsRead).toEqual([]);
  });

  it('load with --allow-cross-namespace-refs, with the targets found there', async () => {
    const loaded = await load(elsewhere, crossRef, ['--allow-cross-namespace-refs']);
    expect(loaded.artifacts.map((a) => a.access.url)).toEqual(['oci://registry.example/charts/payment']);
    expect(targetNames(loaded)).toEqual([
      'OCIRepository/shared/payment pin=digest',
      'Kustomization/shared/platform',
    ]);
  });
});

describe('sourceRef HelmChart and HelmRelease', () => {
  const repo = helmRepository(NS, 'charts', {
    type: 'oci',
    url: 'oci://registry.example/charts',
    secretRef: { name: 'helm-auth' },
  });
  const helmAuth = secret(NS, 'helm-auth', { username: 'alice', password: 's3cret' });

  it('HelmChart: the chart in its OCI HelmRepository, with the repository’s username/password Secret', async () => {
    const { loader, secretsRead } = loaderFor([
      repo,
      helmAuth,
      helmChart(NS, 'payment', {
        chart: 'payment',
        version: '3.1.0',
        sourceRef: { kind: 'HelmRepository', name: 'charts' },
      }),
    ]);
    const loaded = await loader.load(avWith({ sourceRef: { kind: 'HelmChart', name: 'payment' } }));
    expect(loaded.artifacts.map((a) => a.access)).toEqual([
      {
        url: 'oci://registry.example/charts/payment',
        reference: { registry: 'registry.example', repository: 'charts/payment' },
        tag: '3.1.0',
        insecure: false,
        credential: ALICE,
        credentialId: credentialId(ALICE),
      },
    ]);
    // An exact version already is a pin: nothing for Pin to set.
    expect(targetNames(loaded)).toEqual(['HelmChart/apps/payment']);
    expect(secretsRead).toEqual(['apps/helm-auth']);
  });

  const httpChart = (repository: Record<string, unknown>) => [
    helmRepository(NS, 'charts', { url: 'https://charts.example/stable?token=t', ...repository }),
    helmChart(NS, 'payment', {
      chart: 'payment',
      version: '3.1.0',
      sourceRef: { kind: 'HelmRepository', name: 'charts' },
    }),
  ];

  it('HelmChart from an HTTP HelmRepository: basic auth, TLS Secret, passCredentials; no query in the URL shown', async () => {
    const loaded = await load(
      [
        ...httpChart({
          secretRef: { name: 'helm-auth' },
          certSecretRef: { name: 'tls' },
          passCredentials: true,
        }),
        helmAuth,
        secret(NS, 'tls', { 'tls.crt': 'CERT', 'tls.key': 'KEY', 'ca.crt': 'CA' }),
      ],
      avWith({ sourceRef: { kind: 'HelmChart', name: 'payment' } }),
    );
    const [artifact] = loaded.artifacts;
    expect(artifact?.access).toMatchObject({
      kind: 'helm-http',
      url: 'https://charts.example/stable/payment',
      repositoryUrl: 'https://charts.example/stable?token=t',
      host: 'charts.example',
      chart: 'payment',
      version: '3.1.0',
      auth: { username: 'alice', password: 's3cret', certPem: 'CERT', keyPem: 'KEY', caPem: 'CA' },
      passCredentials: true,
    });
    // The id names the access without revealing it; another password is another id.
    const other = await load(
      [
        ...httpChart({
          secretRef: { name: 'helm-auth' },
          certSecretRef: { name: 'tls' },
          passCredentials: true,
        }),
        secret(NS, 'helm-auth', { username: 'alice', password: 'other' }),
        secret(NS, 'tls', { 'tls.crt': 'CERT', 'tls.key': 'KEY', 'ca.crt': 'CA' }),
      ],
      avWith({ sourceRef: { kind: 'HelmChart', name: 'payment' } }),
    );
    expect(artifact?.access.credentialId).toMatch(/^[0-9a-f]{16}$/);
    expect(other.artifacts[0]?.access.credentialId).not.toBe(artifact?.access.credentialId);
  });

  it.each([
    [
      'a TLS Secret with a certificate but no key',
      { certSecretRef: { name: 'tls' } },
      secret(NS, 'tls', { 'tls.crt': 'C' }),
    ],
    [
      'a TLS Secret with nothing in it',
      { certSecretRef: { name: 'tls' } },
      secret(NS, 'tls', { other: 'x' }),
    ],
    [
      'a basic-auth Secret with a username only',
      { secretRef: { name: 'auth' } },
      secret(NS, 'auth', { username: 'a' }),
    ],
  ])(
    'HelmChart from an HTTP HelmRepository with %s: Stalled TrustMaterialMissing',
    async (_what, repository, extra) => {
      const error = await refusal(
        load(
          [...httpChart(repository), extra],
          avWith({ sourceRef: { kind: 'HelmChart', name: 'payment' } }),
        ),
      );
      expect(error.code).toBe('Stalled');
      expect(error.reason).toBe(Reason.TrustMaterialMissing);
      expect(error.message).not.toContain('t=');
    },
  );

  it('HelmChart from an HTTP HelmRepository whose URL helm could read otherwise: Stalled InvalidSpec', async () => {
    const error = await refusal(
      load(
        httpChart({ url: 'https://charts.example/a\\b' }),
        avWith({ sourceRef: { kind: 'HelmChart', name: 'payment' } }),
      ),
    );
    expect(error.code).toBe('Stalled');
    expect(error.reason).toBe(Reason.InvalidSpec);
  });

  it('HelmRelease: its chart template’s version range and values', async () => {
    const loaded = await load(
      [
        repo,
        helmAuth,
        helmRelease(NS, 'payment', {
          chart: {
            spec: { chart: 'payment', version: '3.x', sourceRef: { kind: 'HelmRepository', name: 'charts' } },
          },
          values: { replicas: 2 },
        }),
      ],
      avWith({ sourceRef: { kind: 'HelmRelease', name: 'payment' } }),
    );
    expect(loaded.artifacts).toEqual([
      {
        access: {
          url: 'oci://registry.example/charts/payment',
          reference: { registry: 'registry.example', repository: 'charts/payment' },
          semver: '3.x',
          insecure: false,
          credential: ALICE,
          credentialId: credentialId(ALICE),
        },
        helmValues: { replicas: 2 },
        origin: 'HelmRelease/apps/payment',
      },
    ]);
    expect(targetNames(loaded)).toEqual(['HelmRelease/apps/payment pin=version']);
  });
});

describe('sourceRef Application', () => {
  const ARGO = 'argocd';
  const app = application(ARGO, 'payment', {
    source: { repoURL: 'registry.example/charts', chart: 'payment', targetRevision: '3.1.0' },
  });
  const repoSecret = (extra: Record<string, string> = {}): KubernetesObject =>
    argoRepoSecret(ARGO, 'repo', 'repository', {
      url: 'registry.example/charts',
      username: 'alice',
      password: 's3cret',
      ...extra,
    });

  it('a Helm-OCI source, with the Argo CD repository Secret from --argocd-namespace', async () => {
    const loaded = await load(
      [app, repoSecret()],
      avWith({ sourceRef: { kind: 'Application', name: 'payment' } }, ARGO),
    );
    expect(loaded.artifacts).toEqual([
      {
        access: {
          url: 'oci://registry.example/charts/payment',
          reference: { registry: 'registry.example', repository: 'charts/payment' },
          tag: '3.1.0',
          insecure: false,
          credential: ALICE,
          credentialId: credentialId(ALICE),
        },
        origin: 'Application/argocd/payment source',
      },
    ]);
    expect(targetNames(loaded)).toEqual(['Application/argocd/payment']);
  });

  it('a native OCI source is a digest pin target', async () => {
    const loaded = await load(
      [
        application(ARGO, 'manifests', {
          source: { repoURL: 'oci://registry.example/manifests/payment', targetRevision: '1.2.0', path: '.' },
        }),
      ],
      avWith({ sourceRef: { kind: 'Application', name: 'manifests' } }, ARGO),
    );
    expect(
      loaded.artifacts.map((a) => [
        a.access.url,
        a.access.kind === 'helm-http' ? a.access.version : a.access.tag,
        a.access.credentialId,
      ]),
    ).toEqual([['oci://registry.example/manifests/payment', '1.2.0', 'anonymous']]);
    expect(targetNames(loaded)).toEqual(['Application/argocd/manifests pin=digest']);
  });

  it('a repository Secret asking for TLS without verification: Stalled UnsupportedSource', async () => {
    const error = await refusal(
      load(
        [app, repoSecret({ insecure: 'true' })],
        avWith({ sourceRef: { kind: 'Application', name: 'payment' } }, ARGO),
      ),
    );
    expect(error.code).toBe('Stalled');
    expect(error.reason).toBe(Reason.UnsupportedSource);
    expect(error.message).toBe(
      "Application/argocd/payment source: TLS without certificate verification is not supported; give the registry's CA instead",
    );
  });

  it('waits (SourceNotFound) for an Application that does not exist', async () => {
    const error = await refusal(
      load([], avWith({ sourceRef: { kind: 'Application', name: 'payment' } }, ARGO)),
    );
    expect(error.code).toBe('Waiting');
    expect(error.reason).toBe(Reason.SourceNotFound);
  });
});

describe('unsupported sourceRef kinds', () => {
  it.each(['GitRepository', 'Bucket', 'Kustomization'])('%s: Stalled UnsupportedSource', async (kind) => {
    // The CRD's enum keeps these out; an object written before that (or a future kind) must still stall.
    const sourceRef = { kind, name: 'payment' } as unknown as SourceReference;
    const error = await refusal(load([], avWith({ sourceRef })));
    expect(error.code).toBe('Stalled');
    expect(error.reason).toBe(Reason.UnsupportedSource);
    expect(error.message).toBe(`sourceRef kind "${kind}" is not supported`);
    expect(causeCode(error)).toBe('Unsupported');
  });
});
