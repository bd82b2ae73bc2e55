// Pushing test artifacts with the real clients: charts with helm, anything else with oras.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
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

export const FLUX_CONFIG = 'application/vnd.cncf.flux.config.v1+json';
export const FLUX_CONTENT = 'application/vnd.cncf.flux.content.v1.tar+gzip';

/**
 * A Flux artifact in the shape `flux push artifact` gives it (Flux's config media type, one tar+gzip layer
 * of the files), pushed with oras: what an OCIRepository feeding a Kustomization fetches. The archive is
 * made by the system tar, as `flux push artifact` makes it with Go's archive/tar: a plain ustar stream.
 */
export const pushFluxArtifact = async (
  home: ToolHome,
  registry: RegistryEndpoint,
  repo: string,
  tag: string,
  files: Readonly<Record<string, string>>,
): Promise<PushedArtifact> => {
  const work = await mkdtemp(join(home.dir, 'flux-artifact-'));
  const content = join(work, 'content');
  await mkdir(content);
  for (const [name, text] of Object.entries(files)) await writeFile(join(content, name), text);
  await promisify(execFile)('tar', ['-czf', join(work, 'artifact.tgz'), '-C', content, '.']);
  await writeFile(join(work, 'config.json'), '{}');
  const { stdout } = await runTool(
    'oras',
    [
      'push',
      `${registry.host}/${repo}:${tag}`,
      '--config',
      `config.json:${FLUX_CONFIG}`,
      `artifact.tgz:${FLUX_CONTENT}`,
      '--format',
      'json',
      ...tlsFlags(registry),
    ],
    { env: home.env, cwd: work },
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
