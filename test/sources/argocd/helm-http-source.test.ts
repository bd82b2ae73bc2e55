import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { resolveSource } from '../../../src/sources/resolve-source.ts';
import { argoCdCaKey } from '../../../src/sources/argocd/helm-http-source.ts';
import { helmRepositoryAuth } from '../../../src/sources/credentials.ts';
import { SourceError, type SourceErrorCode } from '../../../src/sources/errors.ts';
import { isHelmChart, type WatchedHelmChart } from '../../../src/sources/types.ts';
import { memoryReader } from '../memory-reader.ts';
import { application, argoRepoSecret } from '../fixtures.ts';

const NS = 'argocd';
const options = { allowCrossNamespace: false, argocdNamespace: NS };
const URL_ = 'https://charts.example.com/stable';
const http = { repoURL: URL_, chart: 'payment', targetRevision: '3.1.0' };

const resolveAll = (objects: KubernetesObject[], sourceIndex?: number) =>
  resolveSource(
    { kind: 'Application', name: 'payment', ...(sourceIndex !== undefined ? { sourceIndex } : {}) },
    NS,
    memoryReader(objects),
    options,
  );

const charts = async (objects: KubernetesObject[], sourceIndex?: number): Promise<WatchedHelmChart[]> =>
  (await resolveAll(objects, sourceIndex)).artifacts.filter(isHelmChart);

const expectCode = async (promise: Promise<unknown>, code: SourceErrorCode): Promise<SourceError> => {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SourceError);
  expect((error as SourceError).code).toBe(code);
  return error as SourceError;
};

const tlsCm = (data: Record<string, string>, binaryData?: Record<string, string>): KubernetesObject =>
  ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { namespace: NS, name: 'argocd-tls-certs-cm' },
    data,
    ...(binaryData ? { binaryData } : {}),
  }) as KubernetesObject;

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('Argo CD Application with an HTTP(S) Helm repository source', () => {
  it('watches the chart: an exact version as written, a constraint by the argocd-helm rule', async () => {
    const [exact] = await charts([application(NS, 'payment', { source: http })]);
    expect(exact).toEqual({
      kind: 'helm-http',
      repositoryUrl: URL_,
      chart: 'payment',
      version: '3.1.0',
      semverRule: 'argocd-helm',
      credentials: {
        kind: 'argocd-helm',
        caConfigMap: { namespace: NS, name: 'argocd-tls-certs-cm', key: 'charts.example.com' },
      },
      passCredentials: false,
      tlsSkipVerify: false,
      origin: 'Application/argocd/payment source',
    });
    const [range] = await charts([
      application(NS, 'payment', { source: { ...http, targetRevision: '>=3.0.0 <4' } }),
    ]);
    expect(range).toMatchObject({ semver: '>=3.0.0 <4', semverRule: 'argocd-helm' });
    expect(range?.version).toBeUndefined();
    const [lax] = await charts([application(NS, 'payment', { source: { ...http, targetRevision: 'v3.1' } })]);
    expect(lax).toMatchObject({ version: 'v3.1' });
  });

  it('refuses what helm cannot pull or a URL it reads as another path', async () => {
    await expectCode(
      resolveAll([application(NS, 'payment', { source: { ...http, targetRevision: 'latest' } })]),
      'InvalidObject',
    );
    const { targetRevision: _omitted, ...noRevision } = http;
    await expectCode(resolveAll([application(NS, 'payment', { source: noRevision })]), 'InvalidObject');
    await expectCode(
      resolveAll([application(NS, 'payment', { source: { ...http, chart: 'a/b' } })]),
      'InvalidObject',
    );
    await expectCode(
      resolveAll([application(NS, 'payment', { source: { ...http, repoURL: `${URL_}//` } })]),
      'InvalidObject',
    );
    const [one] = await charts([application(NS, 'payment', { source: { ...http, repoURL: `${URL_}/` } })]);
    expect(one?.repositoryUrl).toBe(URL_);
  });

  it('skips git sources and reads helm values, passCredentials and multi-source items by index', async () => {
    const app = application(NS, 'payment', {
      sources: [
        { repoURL: 'https://git.example.com/app.git', path: 'deploy', targetRevision: 'main' },
        {
          ...http,
          helm: {
            passCredentials: true,
            valuesObject: { replicas: 2 },
            parameters: [{ name: 'a.b', value: 'c' }],
          },
        },
      ],
    });
    const all = await charts([app]);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({
      origin: 'Application/argocd/payment sources[1]',
      passCredentials: true,
      helmValues: { replicas: 2, a: { b: 'c' } },
    });
    expect(await charts([app], 1)).toEqual(all);
    await expectCode(resolveAll([app], 0), 'Unsupported');
    const resolved = await resolveAll([app]);
    expect(resolved.targets).toEqual([
      { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', namespace: NS, name: 'payment' },
    ]);
  });

  it('takes the repository Secret (exact url first, its url for helm) before repo-creds by longest prefix', async () => {
    const app = application(NS, 'payment', {
      source: { ...http, repoURL: 'https://Charts.Example.com/stable.git' },
    });
    const [own] = await charts([
      app,
      argoRepoSecret(NS, 'repo', 'repository', { url: URL_, username: 'u', password: 'p', type: 'helm' }),
      argoRepoSecret(NS, 'creds', 'repo-creds', {
        url: 'https://charts.example.com',
        username: 'c',
        password: 'q',
      }),
    ]);
    expect(own?.credentials).toMatchObject({ kind: 'argocd-helm', secret: { namespace: NS, name: 'repo' } });
    expect(own?.repositoryUrl).toBe(URL_);
    const [fromCreds] = await charts([
      application(NS, 'payment', { source: http }),
      argoRepoSecret(NS, 'repo', 'repository', { url: URL_, type: 'helm' }),
      argoRepoSecret(NS, 'short', 'repo-creds', {
        url: 'https://charts.example.com',
        username: 'c',
        password: 'q',
      }),
      argoRepoSecret(NS, 'long', 'repo-creds', {
        url: 'https://charts.example.com/st',
        username: 'l',
        password: 'q',
      }),
    ]);
    expect(fromCreds?.credentials).toMatchObject({ secret: { name: 'long' } });
    const [insecure] = await charts([
      application(NS, 'payment', { source: http }),
      argoRepoSecret(NS, 'repo', 'repository', { url: URL_, insecure: 'true' }),
    ]);
    expect(insecure?.tlsSkipVerify).toBe(true);
    await expectCode(
      resolveAll([
        application(NS, 'payment', { source: http }),
        argoRepoSecret(NS, 'repo', 'repository', { url: URL_, tlsClientCertKey: 'KEY' }),
        argoRepoSecret(NS, 'creds', 'repo-creds', { url: URL_, tlsClientCertData: 'CERT' }),
      ]),
      'Unsupported',
    );
    await expectCode(
      resolveAll([
        application(NS, 'payment', { source: http }),
        argoRepoSecret(NS, 'repo', 'repository', { url: URL_, useAzureWorkloadIdentity: 'true' }),
      ]),
      'Unsupported',
    );
  });
});

describe('argoCdCaKey (Go url.Hostname, then ServerNameWithoutPort)', () => {
  it.each([
    ['https://charts.example.com/x', 'charts.example.com'],
    ['https://Charts.Example.com:8443/x', 'Charts.Example.com'],
    ['https://user@charts.example.com', 'charts.example.com'],
    ['http://127.0.0.1:8080', '127.0.0.1'],
    ['https://[::1]:8443/x', undefined],
    ['https://%2e%2e/x', undefined],
  ])('%s → %s', (url, key) => {
    expect(argoCdCaKey(url)).toBe(key);
  });
});

describe('helmRepositoryAuth for an Argo CD Helm repository', () => {
  const source = (secret?: string) =>
    ({
      kind: 'argocd-helm',
      ...(secret !== undefined ? { secret: { namespace: NS, name: secret } } : {}),
      caConfigMap: { namespace: NS, name: 'argocd-tls-certs-cm', key: 'charts.example.com' },
    }) as const;

  it('reads username/password, the client certificate pair and the host CA', async () => {
    const reader = memoryReader([
      argoRepoSecret(NS, 'repo', 'repository', {
        url: URL_,
        username: 'u',
        password: 'p',
        tlsClientCertData: 'CERT',
        tlsClientCertKey: 'KEY',
      }),
      tlsCm({ 'charts.example.com': CA, 'other.example.com': 'x' }),
    ]);
    expect(await helmRepositoryAuth(source('repo'), undefined, reader)).toEqual({
      username: 'u',
      password: 'p',
      certPem: 'CERT',
      keyPem: 'KEY',
      caPem: CA,
    });
  });

  it('uses the system roots where Argo CD finds no certificate for the host, reads binaryData too', async () => {
    expect(await helmRepositoryAuth(source(), undefined, memoryReader([]))).toEqual({});
    expect(
      await helmRepositoryAuth(
        source(),
        undefined,
        memoryReader([tlsCm({ 'charts.example.com': 'no pem' })]),
      ),
    ).toEqual({});
    expect(
      await helmRepositoryAuth(
        source(),
        undefined,
        memoryReader([tlsCm({}, { 'charts.example.com': Buffer.from(CA).toString('base64') })]),
      ),
    ).toEqual({ caPem: CA });
  });

  it('refuses half a pair and a certSecretRef', async () => {
    const reader = memoryReader([
      argoRepoSecret(NS, 'cert', 'repository', { url: URL_, tlsClientCertData: 'CERT' }),
      argoRepoSecret(NS, 'user', 'repository', { url: URL_, username: 'u' }),
    ]);
    await expectCode(helmRepositoryAuth(source('cert'), undefined, reader), 'InvalidObject');
    await expectCode(helmRepositoryAuth(source('user'), undefined, reader), 'InvalidObject');
    await expectCode(helmRepositoryAuth(source(), { namespace: NS, name: 'x' }, reader), 'InvalidObject');
  });
});
