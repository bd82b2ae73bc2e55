// The controller's tag resolution by each GitOps tool's rule against a real registry: helm-pushed charts
// (a `+build` version lands as tag `_build`) and oras-pushed artifacts, listed by the registry, then picked
// as Flux's OCIRepository, Argo CD's Helm-OCI source and Argo CD's native oci:// source would.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { RegistryAccess, type ArtifactAccess } from '../../../src/controller/registry-access.ts';
import { RegistryError } from '../../../src/registry/errors.ts';
import { packageChart } from '../../env/charts.ts';
import { pushArtifact, pushChart, type PushedArtifact } from '../../env/oci.ts';
import { createToolHome } from '../../env/tool-home.ts';

const env = inject('testEnv');
const registry = env.registries.referrers;
const suffix = Math.random().toString(36).slice(2, 8);
const registries = new RegistryAccess({ onRequest: () => undefined, requestsPerSecond: 0 });
const charts = new Map<string, PushedArtifact>();
const artifacts = new Map<string, PushedArtifact>();

const access = (
  repository: string,
  semver: string,
  semverRule?: ArtifactAccess['semverRule'],
): ArtifactAccess => ({
  url: `oci://${registry.host}/${repository}`,
  reference: { registry: registry.host, repository },
  semver,
  ...(semverRule ? { semverRule } : {}),
  insecure: true,
  credential: { kind: 'anonymous' },
  credentialId: 'anonymous',
});

beforeAll(async () => {
  const home = await createToolHome(env);
  const dir = await mkdtemp(join(tmpdir(), 'tagguard-semver-rules-'));
  for (const version of ['1.2.0', '1.5.0+build.1'])
    charts.set(
      version,
      await pushChart(home, registry, `rules-${suffix}`, await packageChart(home, dir, { version })),
    );
  for (const tag of ['1.4.0', 'v1.9', '1.x'])
    artifacts.set(
      tag,
      await pushArtifact(home, registry, `rules-${suffix}/manifests`, tag, `content ${tag}`),
    );
});

describe('semver tag resolution by rule', () => {
  it('Argo CD Helm-OCI: reads 1.5.0_build.1 as 1.5.0+build.1 and deploys that tag; Flux does the same only by sorting', async () => {
    const chart = `rules-${suffix}/payment`;
    const argo = await registries.resolve(access(chart, '1.x', 'argocd-helm'));
    expect(argo).toMatchObject({ tag: '1.5.0_build.1', digest: charts.get('1.5.0+build.1')?.digest });
    // Flux reads `_` as no version at all and picks 1.2.0.
    expect(await registries.resolve(access(chart, '1.x'))).toMatchObject({ tag: '1.2.0' });
  });

  it('Argo CD native OCI: a tag spelled like the constraint wins; lax tags count; Flux ignores two-part tags', async () => {
    const repo = `rules-${suffix}/manifests`;
    expect(await registries.resolve(access(repo, '1.x', 'argocd-oci'))).toMatchObject({
      tag: '1.x',
      digest: artifacts.get('1.x')?.digest,
    });
    expect(await registries.resolve(access(repo, '>=1.0.0', 'argocd-oci'))).toMatchObject({
      tag: 'v1.9',
      digest: artifacts.get('v1.9')?.digest,
    });
    expect(await registries.resolve(access(repo, '>=1.0.0'))).toMatchObject({ tag: '1.4.0' });
  });

  it('Argo CD native OCI: a `_` tag as the best match cannot be pulled', async () => {
    const error = await registries.resolve(access(`rules-${suffix}/payment`, '>=1.3', 'argocd-oci')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).code).toBe('InvalidReference');
  });
});
