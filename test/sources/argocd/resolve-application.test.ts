import { ociArtifacts } from '../../../src/sources/types.ts';
import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { resolveSource } from '../../../src/sources/resolve-source.ts';
import { classifyRevision } from '../../../src/sources/argocd/resolve-application.ts';
import { SourceError, type SourceErrorCode } from '../../../src/sources/errors.ts';
import { memoryReader } from '../memory-reader.ts';
import { application, argoRepoSecret } from '../fixtures.ts';

const NS = 'argocd';
const options = { allowCrossNamespace: false, argocdNamespace: NS };
const resolveApp = (objects: KubernetesObject[], sourceIndex?: number) =>
  resolveSource(
    { kind: 'Application', name: 'payment', ...(sourceIndex !== undefined ? { sourceIndex } : {}) },
    NS,
    memoryReader(objects),
    options,
  ).then((resolved) => ({ ...resolved, artifacts: ociArtifacts(resolved.artifacts) }));

const expectCode = async (promise: Promise<unknown>, code: SourceErrorCode): Promise<void> => {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SourceError);
  expect((error as SourceError).code).toBe(code);
};

const helmOci = { repoURL: 'registry.example.com/charts', chart: 'payment', targetRevision: '3.1.0' };

describe('classifyRevision (Argo CD targetRevision)', () => {
  const digest = `sha256:${'b'.repeat(64)}`;
  it.each([
    ['3.1.0', true, { tag: '3.1.0' }],
    ['v3.1', true, { tag: 'v3.1' }],
    ['1.2', false, { tag: '1.2' }],
    ['v1', true, { tag: 'v1' }],
    ['3.1.0+meta', true, { tag: '3.1.0_meta' }],
    ['3.1.0+meta', false, { tag: '3.1.0+meta' }],
    ['1.x', true, { semver: '1.x', semverRule: 'argocd-helm' }],
    ['>=1.0.0', true, { semver: '>=1.0.0', semverRule: 'argocd-helm' }],
    ['*', false, { semver: '*', semverRule: 'argocd-oci' }],
    ['1.x', false, { semver: '1.x', semverRule: 'argocd-oci' }],
    ['latest', false, { tag: 'latest' }],
    ['latest', true, { unpullable: 'latest' }],
    [digest, false, { digest }],
    [digest, true, { unpullable: digest }],
  ])('%s (helm: %s)', (revision, helm, expected) => {
    expect(classifyRevision(revision, helm)).toEqual(expected);
  });

  it('reads revisions beyond Masterminds v3.5.0 limits as Argo CD (v3.4.0, no limits) does', () => {
    const longConstraint = `>=1.0.0 ${' '.repeat(600)}`;
    const manyAlternatives = `${'1.0.0 || '.repeat(40)}1.0.0`;
    const longVersion = `1.0.0-${'a'.repeat(300)}`;
    expect(classifyRevision(longConstraint, true)).toEqual({
      semver: longConstraint,
      semverRule: 'argocd-helm',
    });
    expect(classifyRevision(manyAlternatives, false)).toEqual({
      semver: manyAlternatives,
      semverRule: 'argocd-oci',
    });
    expect(classifyRevision(longVersion, true)).toEqual({ tag: longVersion });
  });
});

describe('Application', () => {
  it('watches a Helm-OCI source (repoURL without scheme + chart) and holds the Application', async () => {
    const { artifacts, targets } = await resolveApp([application(NS, 'payment', { source: helmOci })]);
    expect(artifacts).toHaveLength(1);
    expect(artifacts[0]).toMatchObject({
      url: 'oci://registry.example.com/charts/payment',
      tag: '3.1.0',
      credentials: { kind: 'anonymous' },
      insecure: false,
      tlsSkipVerify: false,
      origin: 'Application/argocd/payment source',
    });
    expect(targets).toEqual([
      { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', namespace: NS, name: 'payment' },
    ]);
  });

  it('watches every OCI source of spec.sources by default, skipping git and HTTP Helm sources', async () => {
    const { artifacts } = await resolveApp([
      application(NS, 'payment', {
        sources: [
          { repoURL: 'https://github.com/acme/config.git', path: 'apps', targetRevision: 'main' },
          { repoURL: 'oci://registry.example.com/manifests/payment', targetRevision: '1.x', path: '.' },
          { repoURL: 'https://charts.example.com', chart: 'redis', targetRevision: '17.0.0' },
          helmOci,
        ],
      }),
    ]);
    expect(artifacts.map((a) => [a.origin, a.url, a.tag ?? a.semver])).toEqual([
      ['Application/argocd/payment sources[1]', 'oci://registry.example.com/manifests/payment', '1.x'],
      ['Application/argocd/payment sources[3]', 'oci://registry.example.com/charts/payment', '3.1.0'],
    ]);
  });

  it("marks constraints with Argo CD's rule for Helm-OCI and native OCI sources", async () => {
    const { artifacts } = await resolveApp([
      application(NS, 'payment', {
        sources: [
          { ...helmOci, targetRevision: '>=1.0.0 <2' },
          { repoURL: 'oci://registry.example.com/manifests/payment', targetRevision: '1.x', path: '.' },
          { ...helmOci, targetRevision: '1.2' },
        ],
      }),
    ]);
    expect(artifacts.map((a) => [a.semver, a.semverRule, a.tag])).toEqual([
      ['>=1.0.0 <2', 'argocd-helm', undefined],
      ['1.x', 'argocd-oci', undefined],
      [undefined, undefined, '1.2'],
    ]);
  });

  it.each(['latest', `sha256:${'c'.repeat(64)}`, '>=banana'])(
    'refuses a Helm-OCI targetRevision %s that Argo CD cannot pull (not a version nor a constraint)',
    async (targetRevision) => {
      await expectCode(
        resolveApp([application(NS, 'payment', { source: { ...helmOci, targetRevision } })]),
        'InvalidObject',
      );
    },
  );

  it('follows a native OCI digest or plain tag as written', async () => {
    const digest = `sha256:${'d'.repeat(64)}`;
    const { artifacts } = await resolveApp([
      application(NS, 'payment', {
        sources: [
          { repoURL: 'oci://registry.example.com/manifests/payment', targetRevision: digest },
          { repoURL: 'oci://registry.example.com/manifests/payment', targetRevision: 'latest' },
        ],
      }),
    ]);
    expect(artifacts.map((a) => [a.digest, a.tag, a.semver])).toEqual([
      [digest, undefined, undefined],
      [undefined, 'latest', undefined],
    ]);
  });

  it('watches the tag written before a pin, not the digest tagguard pinned (tagguard.dev/pre-hold)', async () => {
    const pinned = `sha256:${'d'.repeat(64)}`;
    const app = application(NS, 'payment', {
      source: { repoURL: 'oci://registry.example.com/manifests/payment', targetRevision: pinned },
    });
    const withRecord = (preHold: string): KubernetesObject => ({
      ...app,
      metadata: {
        ...app.metadata,
        annotations: { 'tagguard.dev/held-by': 'apps/payment', 'tagguard.dev/pre-hold': preHold },
      },
    });
    const tagged = await resolveApp([withRecord('{"spec.source.targetRevision":"1.x"}')]);
    expect(tagged.artifacts.map((a) => [a.digest, a.semver])).toEqual([[undefined, '1.x']]);
    // A record of another hold (automated sync) leaves the revision as written.
    const suspended = await resolveApp([withRecord('{"spec.syncPolicy.automated":{}}')]);
    expect(suspended.artifacts.map((a) => a.digest)).toEqual([pinned]);
    // Pinned from nothing: Argo CD needs a targetRevision, so the source is refused, not guessed.
    await expectCode(resolveApp([withRecord('{"spec.source.targetRevision":null}')]), 'InvalidObject');
  });

  it('selects one source with sourceIndex and refuses a non-OCI or missing one', async () => {
    const app = application(NS, 'payment', {
      sources: [{ repoURL: 'https://github.com/acme/config.git', path: 'apps' }, helmOci],
    });
    const { artifacts } = await resolveApp([app], 1);
    expect(artifacts.map((a) => a.origin)).toEqual(['Application/argocd/payment sources[1]']);
    await expectCode(resolveApp([app], 0), 'Unsupported');
    await expectCode(resolveApp([app], 5), 'InvalidObject');
  });

  it('treats an https Helm repository as OCI when its repository Secret sets enableOCI', async () => {
    const source = {
      repoURL: 'https://registry.example.com/charts',
      chart: 'payment',
      targetRevision: '3.1.0',
    };
    // Without enableOCI it is an HTTP(S) Helm repository (test/sources/argocd/helm-http-source.test.ts).
    const plain = await resolveSource(
      { kind: 'Application', name: 'payment' },
      NS,
      memoryReader([application(NS, 'payment', { source })]),
      options,
    );
    expect(ociArtifacts(plain.artifacts)).toEqual([]);
    expect(plain.artifacts).toMatchObject([
      { kind: 'helm-http', repositoryUrl: source.repoURL, chart: 'payment' },
    ]);
    const { artifacts } = await resolveApp([
      application(NS, 'payment', { source }),
      argoRepoSecret(NS, 'repo', 'repository', {
        url: 'https://registry.example.com/charts',
        enableOCI: 'true',
        type: 'helm',
      }),
    ]);
    expect(artifacts[0]?.url).toBe('oci://registry.example.com/charts/payment');
  });

  it('uses helm valuesObject (over values) and parameters, and says that valueFiles are not read', async () => {
    const { artifacts } = await resolveApp([
      application(NS, 'payment', {
        source: {
          ...helmOci,
          helm: {
            values: 'replicas: 9\n',
            valuesObject: { replicas: 2, image: { tag: '1' } },
            parameters: [
              { name: 'image.tag', value: '2' },
              { name: 'port', value: '80', forceString: true },
            ],
            valueFiles: ['values-prod.yaml'],
          },
        },
      }),
    ]);
    expect(artifacts[0]?.helmValues).toEqual({ replicas: 2, image: { tag: 2 }, port: '80' });
    expect(artifacts[0]?.helmValuesNotes?.[0]).toMatch(/valueFiles/);
  });

  it('parses helm.values when there is no valuesObject', async () => {
    const { artifacts } = await resolveApp([
      application(NS, 'payment', { source: { ...helmOci, helm: { values: 'replicas: 9\n' } } }),
    ]);
    expect(artifacts[0]?.helmValues).toEqual({ replicas: 9 });
  });

  it.each([
    [{ source: { repoURL: 'https://github.com/acme/config.git', path: '.' } }, 'Unsupported'],
    [{ sourceHydrator: { drySource: { repoURL: 'https://github.com/acme/x.git' } } }, 'Unsupported'],
    [{ source: { repoURL: 'registry.example.com/charts', chart: 'payment' } }, 'InvalidObject'],
    [{ source: { chart: 'payment' } }, 'InvalidObject'],
  ] as const)('refuses spec %j with %s', async (spec, code) => {
    await expectCode(resolveApp([application(NS, 'payment', spec)]), code);
  });

  it('waits for a missing Application', async () => {
    await expectCode(resolveApp([]), 'NotFound');
  });
});

describe('Argo CD repository credentials', () => {
  const creds = (name: string, url: string, extra: Record<string, string> = {}) =>
    argoRepoSecret(NS, name, 'repo-creds', { url, username: name, password: 'pw', ...extra });

  it('prefers a repository Secret with the same URL over repo-creds', async () => {
    const { artifacts } = await resolveApp([
      application(NS, 'payment', { source: helmOci }),
      argoRepoSecret(NS, 'repo', 'repository', {
        url: 'Registry.example.com/charts.git',
        username: 'u',
        password: 'p',
        insecure: 'true',
        insecureOCIForceHttp: 'true',
      }),
      creds('all', 'registry.example.com'),
    ]);
    expect(artifacts[0]?.credentials).toEqual({ kind: 'argocd', secret: { namespace: NS, name: 'repo' } });
    expect(artifacts[0]?.insecure).toBe(true);
    expect(artifacts[0]?.tlsSkipVerify).toBe(true);
  });

  it('chooses the project-scoped repository Secret first, then an unscoped one', async () => {
    const secrets = [
      argoRepoSecret(NS, 'a-unscoped', 'repository', {
        url: 'registry.example.com/charts',
        username: 'u',
        password: 'p',
      }),
      argoRepoSecret(NS, 'b-team', 'repository', {
        url: 'registry.example.com/charts',
        username: 'u',
        password: 'p',
        project: 'team',
      }),
    ];
    const inTeam = await resolveApp([
      application(NS, 'payment', { source: helmOci, project: 'team' }),
      ...secrets,
    ]);
    expect(inTeam.artifacts[0]?.credentials).toMatchObject({ secret: { name: 'b-team' } });
    const inDefault = await resolveApp([application(NS, 'payment', { source: helmOci }), ...secrets]);
    expect(inDefault.artifacts[0]?.credentials).toMatchObject({ secret: { name: 'a-unscoped' } });
  });

  it('takes the longest matching repo-creds prefix, with its insecureOCIForceHttp', async () => {
    const { artifacts } = await resolveApp([
      application(NS, 'payment', { source: helmOci }),
      creds('host', 'registry.example.com'),
      creds('charts', 'registry.example.com/charts', { insecureOCIForceHttp: 'true' }),
      creds('other', 'registry.example.com/other'),
    ]);
    expect(artifacts[0]?.credentials).toEqual({ kind: 'argocd', secret: { namespace: NS, name: 'charts' } });
    expect(artifacts[0]?.insecure).toBe(true);
  });

  it('lets a repository Secret without credentials inherit them from repo-creds', async () => {
    const { artifacts } = await resolveApp([
      application(NS, 'payment', { source: helmOci }),
      argoRepoSecret(NS, 'repo', 'repository', { url: 'registry.example.com/charts', insecure: 'true' }),
      creds('host', 'registry.example.com'),
    ]);
    expect(artifacts[0]?.credentials).toEqual({ kind: 'argocd', secret: { namespace: NS, name: 'host' } });
    expect(artifacts[0]?.tlsSkipVerify).toBe(true);
  });

  it('ignores Secrets in other namespaces or without the secret-type label', async () => {
    const { artifacts } = await resolveApp([
      application(NS, 'payment', { source: helmOci }),
      argoRepoSecret('elsewhere', 'repo', 'repository', {
        url: 'registry.example.com/charts',
        username: 'u',
        password: 'p',
      }),
    ]);
    expect(artifacts[0]?.credentials).toEqual({ kind: 'anonymous' });
  });

  it('refuses credentials other than username/password (bearer tokens, client certificates)', async () => {
    await expectCode(
      resolveApp([
        application(NS, 'payment', { source: helmOci }),
        argoRepoSecret(NS, 'repo', 'repository', { url: 'registry.example.com/charts', bearerToken: 't' }),
      ]),
      'Unsupported',
    );
  });
});
