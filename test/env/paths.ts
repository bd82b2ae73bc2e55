// Where the test environment finds the project, the pinned tools and the shared third-party CRDs.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const testbinDir = join(projectRoot, '.testbin', 'bin');
export const runsDir = join(projectRoot, '.testbin', 'runs');
export const sharedCrdsDir = resolve(projectRoot, '..', 'shared', 'crds');
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
  | 'yaml-oracle';

/** Absolute path of a pinned tool; fails with the command that provides it. */
export const toolPath = (name: ToolName): string => {
  const path = join(testbinDir, name);
  if (!existsSync(path)) {
    throw new Error(`test tool ${name} is missing at ${path}: run 'make testbin' first`);
  }
  return path;
};
