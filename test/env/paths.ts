// Where the test environment finds the project, the pinned tools and the third-party CRDs. Everything is
// inside the checkout: scripts/testbin.sh links the tools into .testbin/bin and the CRDs into .testbin/crds.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const testbinDir = join(projectRoot, '.testbin', 'bin');
export const runsDir = join(projectRoot, '.testbin', 'runs');
export const testbinCrdsDir = join(projectRoot, '.testbin', 'crds');
export const projectCrdsDir = join(projectRoot, 'crds');

export type ToolName =
  | 'etcd'
  | 'kube-apiserver'
  | 'olareg'
  | 'registry'
  | 'cosign'
  | 'cosign2'
  | 'notation'
  | 'oras'
  | 'helm'
  | 'kubectl'
  | 'token-server'
  | 'semver-oracle'
  | 'chart-oracle'
  | 'yaml-oracle'
  | 'source-controller'
  | 'helm-controller'
  | 'kustomize-controller'
  | 'promtool'
  | 'prometheus';

/** Absolute path of a pinned tool; fails with the command that provides it. */
export const toolPath = (name: ToolName): string => {
  const path = join(testbinDir, name);
  if (!existsSync(path)) {
    throw new Error(`test tool ${name} is missing at ${path}: run 'make testbin' first`);
  }
  return path;
};

/**
 * Where each group of third-party CRDs comes from: a Flux controller's own module (config/crd/bases at the
 * version scripts/testbin.sh builds it from), or Argo CD's module (manifests/crds at its pinned release).
 */
export const CRD_COMPONENTS = [
  'source-controller',
  'helm-controller',
  'kustomize-controller',
  'argocd',
] as const;
export type CrdComponent = (typeof CRD_COMPONENTS)[number];

/** The directory scripts/testbin.sh linked a component's CRDs to; fails with the command that provides it. */
export const crdDir = (component: CrdComponent): string => {
  const dir = join(testbinCrdsDir, component);
  if (!existsSync(join(dir, 'source.txt'))) {
    throw new Error(`CRDs of ${component} are missing at ${dir}: run 'make testbin' first`);
  }
  return dir;
};

/** tagguard's own CRDs and every third-party group: what a test control plane installs. */
export const allCrdDirs = (): string[] => [projectCrdsDir, ...CRD_COMPONENTS.map(crdDir)];
