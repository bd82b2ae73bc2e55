// make release (scripts/release.sh): the chart package that the real helm loads, install.yaml from
// kustomize, a CycloneDX SBOM of the production dependencies at the lock file's versions, and SHA256SUMS that
// sha256sum -c accepts.
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

interface Sbom {
  bomFormat: string;
  specVersion: string;
  metadata: { component: { name: string; version: string } };
  components: { name: string; group?: string; version: string; purl: string }[];
}

const pkg = JSON.parse(await readFile(join(projectRoot, 'package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const lock = JSON.parse(await readFile(join(projectRoot, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string }>;
};

describe('make release', () => {
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'tagguard-release-'));
    await exec(join(projectRoot, 'scripts', 'release.sh'), [out], { cwd: projectRoot, timeout: 300_000 });
  }, 320_000);

  it('writes SHA256SUMS over the chart, install.yaml and the SBOM that sha256sum -c accepts', async () => {
    const sums = await readFile(join(out, 'SHA256SUMS'), 'utf8');
    expect(
      sums
        .trim()
        .split('\n')
        .map((line) => line.split(/\s+/)[1]),
    ).toEqual([`tagguard-${pkg.version}.tgz`, 'install.yaml', `tagguard-${pkg.version}.cdx.json`]);
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
});
