// Pushing test artifacts with the real clients: charts with helm, anything else with oras.
import { writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { runTool } from './run-tool.ts';
import type { RegistryEndpoint } from './registries.ts';
import type { ToolHome } from './tool-home.ts';

export interface PushedArtifact {
  /** host:port/repository */
  repository: string;
  tag: string;
  digest: string;
  /** host:port/repository@sha256:… */
  byDigest: string;
}

const tlsFlags = (registry: RegistryEndpoint): string[] =>
  registry.plainHttp ? ['--plain-http'] : registry.caFile ? ['--ca-file', registry.caFile] : [];

const pushed = (registry: RegistryEndpoint, repo: string, tag: string, digest: string): PushedArtifact => {
  if (!/^sha256:[0-9a-f]{64}$/.test(digest))
    throw new Error(`push reported no digest (got ${JSON.stringify(digest)})`);
  const repository = `${registry.host}/${repo}`;
  return { repository, tag, digest, byDigest: `${repository}@${digest}` };
};

/** helm push of a packaged chart to oci://<registry>/<namespace>; the tag is the chart version. */
export const pushChart = async (
  home: ToolHome,
  registry: RegistryEndpoint,
  namespace: string,
  chartTgz: string,
): Promise<PushedArtifact> => {
  const { stdout, stderr } = await runTool(
    'helm',
    ['push', chartTgz, `oci://${registry.host}/${namespace}`, ...tlsFlags(registry)],
    { env: home.env },
  );
  const output = `${stdout}\n${stderr}`;
  const digest = /Digest:\s*(sha256:[0-9a-f]{64})/.exec(output)?.[1] ?? '';
  const [, name, tag] = /^(.*)-(\d+\.\d+\.\d+.*)\.tgz$/.exec(basename(chartTgz)) ?? [];
  if (!name || !tag) throw new Error(`cannot tell chart name and version from ${chartTgz}`);
  return pushed(registry, `${namespace}/${name}`, tag, digest);
};

/** oras push of one file as a single-layer artifact. */
export const pushArtifact = async (
  home: ToolHome,
  registry: RegistryEndpoint,
  repo: string,
  tag: string,
  content: string | Buffer,
  mediaType = 'application/vnd.tagguard.test.layer.v1',
  artifactType = 'application/vnd.tagguard.test.v1',
): Promise<PushedArtifact> => {
  const file = join(home.dir, `artifact-${Math.random().toString(36).slice(2, 8)}`);
  await writeFile(file, content);
  const { stdout } = await runTool(
    'oras',
    [
      'push',
      `${registry.host}/${repo}:${tag}`,
      `${basename(file)}:${mediaType}`,
      '--artifact-type',
      artifactType,
      '--format',
      'json',
      ...tlsFlags(registry),
    ],
    { env: home.env, cwd: dirname(file) },
  );
  const digest = (JSON.parse(stdout) as { digest?: string }).digest ?? '';
  return pushed(registry, repo, tag, digest);
};

/** oras tag: points `tag` at the pushed artifact's digest again (how the tests "push the good chart back"). */
export const retagArtifact = async (
  home: ToolHome,
  registry: RegistryEndpoint,
  artifact: PushedArtifact,
  tag: string,
): Promise<void> => {
  await runTool('oras', ['tag', ...tlsFlags(registry), artifact.byDigest, tag], { env: home.env });
};
