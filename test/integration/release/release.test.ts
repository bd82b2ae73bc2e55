// make release (scripts/release.sh): the chart package that the real helm loads, install.yaml from
// kustomize, a CycloneDX SBOM of the production dependencies at the lock file's versions, the image as an OCI
// archive (built by podman on the Debian-assembled bases, so as root: docs/image.md) with syft's CycloneDX SBOM
// of it, and SHA256SUMS that sha256sum -c accepts.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadAllYaml, type KubernetesObject } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../env/paths.ts';
import { runTool } from '../../env/run-tool.ts';

const exec = promisify(execFile);
const isRoot = process.getuid?.() === 0;

interface Sbom {
  bomFormat: string;
  specVersion: string;
  metadata: { component: { name: string; version: string } };
  components: { name: string; group?: string; version: string; purl?: string }[];
}

const pkg = JSON.parse(await readFile(join(projectRoot, 'package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const lock = JSON.parse(await readFile(join(projectRoot, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string }>;
};

describe.skipIf(!isRoot)('make release', () => {
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'tagguard-release-'));
    await exec(join(projectRoot, 'scripts', 'release.sh'), [out], {
      cwd: projectRoot,
      timeout: 900_000,
      maxBuffer: 16 * 1024 * 1024,
      env: {
        ...process.env,
        TAGGUARD_IMAGE_BASES: 'debian',
        CONTAINERS_CONF: join(projectRoot, 'test', 'env', 'containers.conf'),
      },
    });
  }, 960_000);

  it('writes SHA256SUMS over the chart, install.yaml and the SBOM that sha256sum -c accepts', async () => {
    const sums = await readFile(join(out, 'SHA256SUMS'), 'utf8');
    expect(
      sums
        .trim()
        .split('\n')
        .map((line) => line.split(/\s+/)[1]),
    ).toEqual([
      `tagguard-${pkg.version}.tgz`,
      'install.yaml',
      `tagguard-${pkg.version}.cdx.json`,
      `tagguard-${pkg.version}.oci.tar`,
      `tagguard-${pkg.version}.oci.cdx.json`,
    ]);
    const { stdout } = await exec('sha256sum', ['-c', 'SHA256SUMS'], { cwd: out });
    expect(
      stdout
        .trim()
        .split('\n')
        .every((line) => line.endsWith(': OK')),
    ).toBe(true);
  });

  it('packages the chart at the version of package.json, loadable by the real helm', async () => {
    const { stdout } = await runTool('helm', ['show', 'chart', join(out, `tagguard-${pkg.version}.tgz`)]);
    expect(stdout).toMatch(new RegExp(`^version: ${pkg.version.replace(/\./g, '\\.')}$`, 'm'));
    expect(stdout).toMatch(/^name: tagguard$/m);
  });

  it('writes install.yaml with the CRD, the RBAC and the Deployment of config/default', async () => {
    const objects = loadAllYaml(await readFile(join(out, 'install.yaml'), 'utf8')) as KubernetesObject[];
    const kinds = new Set(objects.map((o) => o.kind));
    for (const kind of ['CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'Deployment'])
      expect(kinds).toContain(kind);
    const crd = objects.find((o) => o.kind === 'CustomResourceDefinition');
    expect(crd?.metadata?.name).toBe('artifactverifications.tagguard.dev');
  });

  it('lists every production dependency at its locked version in a CycloneDX 1.6 SBOM, and no dev tool', async () => {
    const sbom = JSON.parse(await readFile(join(out, `tagguard-${pkg.version}.cdx.json`), 'utf8')) as Sbom;
    expect([sbom.bomFormat, sbom.specVersion]).toEqual(['CycloneDX', '1.6']);
    expect(sbom.metadata.component).toMatchObject({ name: 'tagguard', version: pkg.version });
    const listed = new Map(
      sbom.components.map((c) => [c.group ? `${c.group}/${c.name}` : c.name, c.version]),
    );
    for (const name of Object.keys(pkg.dependencies)) {
      const locked = lock.packages[`node_modules/${name}`]?.version;
      expect(locked, `${name} in package-lock.json`).toBeDefined();
      expect([name, listed.get(name)]).toEqual([name, locked]);
    }
    for (const name of ['vitest', 'typescript', 'eslint', '@cyclonedx/cyclonedx-npm'])
      expect(listed.has(name)).toBe(false);
  });

  it('saves the image as an OCI layout: uid 65532, the distroless entrypoint, this commit', async () => {
    const archive = join(out, `tagguard-${pkg.version}.oci.tar`);
    const member = async (name: string): Promise<string> =>
      (await exec('tar', ['-xOf', archive, name], { maxBuffer: 64 * 1024 * 1024 })).stdout;
    expect(JSON.parse(await member('oci-layout'))).toEqual({ imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(await member('index.json')) as {
      manifests: { digest: string; annotations?: Record<string, string> }[];
    };
    expect(index.manifests).toHaveLength(1);
    const [entry] = index.manifests;
    expect(entry?.annotations?.['org.opencontainers.image.ref.name']).toBe(
      `localhost/tagguard:${pkg.version}`,
    );
    const blob = (digest: string) => member(`blobs/sha256/${digest.replace(/^sha256:/, '')}`);
    const manifest = JSON.parse(await blob(entry?.digest ?? '')) as { config: { digest: string } };
    const config = JSON.parse(await blob(manifest.config.digest)) as {
      config: { User: string; Entrypoint: string[]; Labels: Record<string, string> };
    };
    expect(config.config.User).toBe('65532:65532');
    expect(config.config.Entrypoint).toEqual(['/nodejs/bin/node', '/app/dist/cli/main.js']);
    const head = (await exec('git', ['rev-parse', 'HEAD'], { cwd: projectRoot })).stdout.trim();
    expect(config.config.Labels).toMatchObject({
      'org.opencontainers.image.version': pkg.version,
      'org.opencontainers.image.revision': head,
      'dev.tagguard.image.bases': 'debian',
    });
  });

  it("lists the image's Debian packages, its npm packages at their locked versions and helm in a CycloneDX SBOM", async () => {
    const sbom = JSON.parse(
      await readFile(join(out, `tagguard-${pkg.version}.oci.cdx.json`), 'utf8'),
    ) as Sbom;
    expect([sbom.bomFormat, sbom.specVersion]).toEqual(['CycloneDX', '1.6']);
    // Package URLs percent-encode '+' (libstdc%2B%2B6) and npm scopes' '@' (%40).
    const purls = sbom.components.map((c) => decodeURIComponent(c.purl ?? ''));
    for (const deb of ['libc6', 'libstdc++6', 'ca-certificates', 'tzdata'])
      expect(
        purls.some((p) => p.startsWith(`pkg:deb/debian/${deb}@`)),
        deb,
      ).toBe(true);
    expect(purls.some((p) => p.startsWith('pkg:golang/helm.sh/helm/v3@v3.19.5'))).toBe(true);
    expect(purls).toContain(`pkg:generic/node@${process.versions.node}`);
    for (const name of Object.keys(pkg.dependencies)) {
      const locked = lock.packages[`node_modules/${name}`]?.version ?? '';
      const purl = `pkg:npm/${name}@${locked}`;
      expect(purls, `${name}@${locked}`).toContain(purl);
    }
    // No devDependency is in the image (npm prune --omit=dev).
    for (const name of ['vitest', 'typescript', 'eslint'])
      expect(
        purls.some((p) => p.startsWith(`pkg:npm/${name}@`)),
        name,
      ).toBe(false);
  });
});
