// Proves the test environment is made of the real parts: a kube-apiserver with RBAC and client
// certificates that stores Flux and Argo CD objects, registries with and without the referrers API,
// and signatures made by the real cosign (v2 and v3) and notation found where each format puts them. The
// Flux and Argo CD CRDs it installs are exactly those of the pinned controllers' modules.
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import {
  CoreV1Api,
  VersionApi,
  type KubernetesObject,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { KubeTestClient, parseManifests } from '../env/kube.ts';
import { CRD_COMPONENTS, crdDir, testbinDir } from '../env/paths.ts';
import { FLUX_CONTROLLERS } from '../env/flux.ts';
import { binaryModules, goModule, pinnedVersion, readCrdSource } from '../env/crd-sources.ts';
import { writeKubeconfig } from '../env/control-plane.ts';
import { issueCertificate } from '../env/pki.ts';
import { packageChart } from '../env/charts.ts';
import { pushChart, type PushedArtifact } from '../env/oci.ts';
import { createToolHome, type ToolHome } from '../env/tool-home.ts';
import { listReferrers, registryGet, sha256 } from '../env/registry-http.ts';
import {
  COSIGN_BUNDLE_ARTIFACT_TYPE,
  NOTATION_SIGNATURE_ARTIFACT_TYPE,
  OCI_MANIFEST,
} from '../../src/registry/media-types.ts';
import {
  createNotationTestSigner,
  generateCosignKeyPair,
  signCosignBundle,
  signCosignLegacy,
  signNotation,
} from '../env/sign.ts';
import type { RegistryEndpoint } from '../env/registries.ts';

const env = inject('testEnv');

describe('the test control plane', () => {
  const kube = KubeTestClient.fromFile(env.kubeconfig);

  it('is a real kube-apiserver 1.34', async () => {
    const version = await kube.kubeConfig.makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).toMatch(/^v1\.34\.\d+$/);
    expect(version.minor).toBe('34');
  });

  it('stores a Namespace, a Flux OCIRepository and an Argo CD Application and reads them back', async () => {
    const ns = `env-${Date.now().toString(36)}`;
    await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await kube.apply({
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'OCIRepository',
      metadata: { name: 'payment', namespace: ns },
      spec: { url: 'oci://registry.example.com/charts/payment', ref: { tag: '3.1.0' }, interval: '1m' },
    });
    await kube.apply({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: 'payment', namespace: ns },
      spec: {
        project: 'default',
        source: { repoURL: 'registry.example.com/charts', chart: 'payment', targetRevision: '3.1.0' },
        destination: { server: 'https://kubernetes.default.svc', namespace: 'payment' },
        syncPolicy: { automated: { prune: true } },
      },
    });

    const namespace = await kube.read('v1', 'Namespace', ns);
    const repo = await kube.read<KubernetesObject & { spec: { ref: { tag: string } } }>(
      'source.toolkit.fluxcd.io/v1',
      'OCIRepository',
      'payment',
      ns,
    );
    const app = await kube.read<
      KubernetesObject & { spec: { syncPolicy: { automated: { prune: boolean } } } }
    >('argoproj.io/v1alpha1', 'Application', 'payment', ns);
    expect(namespace.metadata?.uid).toBeTruthy();
    expect(repo.spec.ref.tag).toBe('3.1.0');
    expect(app.spec.syncPolicy.automated.prune).toBe(true);
  });

  it('rejects an object that violates the Flux CRD schema', async () => {
    await expect(
      kube.apply({
        apiVersion: 'source.toolkit.fluxcd.io/v1',
        kind: 'OCIRepository',
        metadata: { name: 'invalid', namespace: 'default' },
        spec: { url: 'not-an-oci-url', interval: '1m' },
      }),
    ).rejects.toMatchObject({ code: 422 });
  });

  it('authenticates client certificates and authorizes with RBAC', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tagguard-rbac-'));
    const nobody = await issueCertificate({ ...env.kubeCa, certPem: '' }, dir, 'nobody', {
      subject: '/CN=nobody',
      usage: 'client',
    });
    const kubeconfig = await writeKubeconfig(
      { server: env.apiServer, ca: { ...env.kubeCa, certPem: '' } },
      nobody,
      join(dir, 'kubeconfig'),
    );
    const core = KubeTestClient.fromFile(kubeconfig).kubeConfig.makeApiClient(CoreV1Api);
    await expect(core.listNamespace()).rejects.toMatchObject({
      code: 403,
      body: expect.stringMatching(/User \\"nobody\\" cannot list resource \\"namespaces\\"/) as unknown,
    });
  });
});

describe('the third-party CRDs of the test control plane', () => {
  const kube = KubeTestClient.fromFile(env.kubeconfig);
  // The binary the harness runs for each component: a Flux controller, or the argocd binary that
  // test/env/argocd.ts starts as application-controller and repo-server.
  const runs = (component: (typeof CRD_COMPONENTS)[number]): string =>
    join(testbinDir, (FLUX_CONTROLLERS as readonly string[]).includes(component) ? component : 'argocd');

  const crdFiles = async (component: (typeof CRD_COMPONENTS)[number]): Promise<string[]> =>
    (await readdir(crdDir(component))).filter((f) => f.endsWith('.yaml')).sort();

  it('cover every kind tagguard reads or holds', () => {
    expect(env.installedCrds).toEqual(
      expect.arrayContaining([
        'ocirepositories.source.toolkit.fluxcd.io',
        'helmrepositories.source.toolkit.fluxcd.io',
        'helmcharts.source.toolkit.fluxcd.io',
        'helmreleases.helm.toolkit.fluxcd.io',
        'kustomizations.kustomize.toolkit.fluxcd.io',
        'applications.argoproj.io',
        'appprojects.argoproj.io',
      ]),
    );
  });

  it.each(CRD_COMPONENTS)(
    '%s: the pinned version, byte for byte from its module, the version the harness runs',
    async (component) => {
      const source = await readCrdSource(component);
      expect(source.version).toBe(await pinnedVersion(component));

      const module = await goModule(source.module, source.version);
      expect(module.sum).toBe(source.sum);
      const files = await crdFiles(component);
      expect(files.length).toBeGreaterThan(0);
      for (const file of files) {
        const copy = await readFile(join(crdDir(component), file));
        const upstream = await readFile(join(module.dir, source.directory, file));
        expect(
          copy.equals(upstream),
          `${component}/${file} differs from ${source.module}@${source.version}`,
        ).toBe(true);
      }

      // The binary the harness starts was built from the same module version, and the same module content
      // (go.sum hash).
      const compiled = (await binaryModules(runs(component))).get(source.module);
      expect(compiled).toEqual({ version: source.version, sum: source.sum });
    },
  );

  it.each(CRD_COMPONENTS)('%s: what the API server serves is what the module ships', async (component) => {
    for (const file of await crdFiles(component)) {
      const shipped = parseManifests(await readFile(join(crdDir(component), file), 'utf8')).filter(
        (d): d is V1CustomResourceDefinition => d.kind === 'CustomResourceDefinition',
      );
      for (const crd of shipped) {
        const name = crd.metadata?.name ?? '';
        expect(env.installedCrds).toContain(name);
        const served = await kube.extensions.readCustomResourceDefinition({ name });
        expect(crd.spec.versions.length).toBeGreaterThan(0);
        expect(served.spec.versions, name).toEqual(crd.spec.versions);
        expect(served.metadata?.annotations?.['controller-gen.kubebuilder.io/version']).toBe(
          crd.metadata?.annotations?.['controller-gen.kubebuilder.io/version'],
        );
      }
    }
  });
});

describe('the test registries', () => {
  let home: ToolHome;
  beforeAll(async () => {
    home = await createToolHome(env);
  });

  const registries = (): [string, RegistryEndpoint][] => Object.entries(env.registries);

  it.each(registries())(
    '%s stores a chart pushed by helm, addressable by its digest',
    async (_name, registry) => {
      const tgz = await packageChart(home, home.dir, { version: '1.0.0' });
      const chart = await pushChart(home, registry, 'charts', tgz);

      const manifest = await registryGet(registry, `/v2/charts/payment/manifests/${chart.digest}`);
      expect(manifest.status).toBe(200);
      expect(sha256(manifest.body)).toBe(chart.digest);
      const layers = manifest.json<{ layers: { mediaType: string }[] }>().layers;
      expect(layers.map((l) => l.mediaType)).toContain('application/vnd.cncf.helm.chart.content.v1.tar+gzip');
    },
  );

  it('the authenticated registry refuses anonymous reads', async () => {
    const { username: _u, password: _p, ...anonymous } = env.registries.authenticated;
    const res = await registryGet(anonymous, '/v2/charts/payment/tags/list');
    expect(res.status).toBe(401);
  });
});

describe('signatures made by the real signers', () => {
  let home: ToolHome;
  beforeAll(async () => {
    home = await createToolHome(env);
    await createNotationTestSigner(home, 'tagguard-test');
  });

  const signAll = async (registry: RegistryEndpoint, repoNamespace: string): Promise<PushedArtifact> => {
    const tgz = await packageChart(home, home.dir, { version: '2.0.0' });
    const chart = await pushChart(home, registry, repoNamespace, tgz);
    const key = await generateCosignKeyPair(home, `cosign-${repoNamespace}`);
    await signCosignLegacy(home, registry, chart, key);
    await signCosignBundle(home, registry, chart, key);
    await signNotation(home, registry, chart, 'jws');
    return chart;
  };

  const repoOf = (artifact: PushedArtifact): string =>
    artifact.repository.slice(artifact.repository.indexOf('/') + 1);

  it('are found through the referrers API on the registry that has it', async () => {
    const registry = env.registries.referrers;
    const chart = await signAll(registry, 'signed-referrers');
    const repo = repoOf(chart);

    const referrers = await listReferrers(registry, repo, chart.digest);
    expect(referrers.via).toBe('referrers-api');
    const types = referrers.manifests.map((m) => m.artifactType);
    expect(types).toContain(COSIGN_BUNDLE_ARTIFACT_TYPE);
    expect(types).toContain(NOTATION_SIGNATURE_ARTIFACT_TYPE);

    const legacy = await registryGet(registry, `/v2/${repo}/manifests/${chart.digest.replace(':', '-')}.sig`);
    expect(legacy.status).toBe(200);
    expect(legacy.contentType).toContain(OCI_MANIFEST);
  });

  it('are found through the tag schema on the registry without the referrers API', async () => {
    const registry = env.registries.tagSchema;
    const chart = await signAll(registry, 'signed-tag-schema');
    const repo = repoOf(chart);

    const api = await registryGet(registry, `/v2/${repo}/referrers/${chart.digest}`);
    expect(api.status).toBe(404);
    const referrers = await listReferrers(registry, repo, chart.digest);
    expect(referrers.via).toBe('tag-schema');
    const types = referrers.manifests.map((m) => m.artifactType);
    expect(types).toContain(COSIGN_BUNDLE_ARTIFACT_TYPE);
    expect(types).toContain(NOTATION_SIGNATURE_ARTIFACT_TYPE);

    const legacy = await registryGet(registry, `/v2/${repo}/manifests/${chart.digest.replace(':', '-')}.sig`);
    expect(legacy.status).toBe(200);
  });

  it('a notation signature on the TLS, authenticated registry is found through the tag schema', async () => {
    const registry = env.registries.authenticated;
    const tgz = await packageChart(home, home.dir, { version: '2.1.0' });
    const chart = await pushChart(home, registry, 'signed-auth', tgz);
    await signNotation(home, registry, chart, 'cose');
    const referrers = await listReferrers(registry, repoOf(chart), chart.digest);
    expect(referrers.via).toBe('tag-schema');
    expect(referrers.manifests.map((m) => m.artifactType)).toContain(NOTATION_SIGNATURE_ARTIFACT_TYPE);
  });
});
