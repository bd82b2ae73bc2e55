// A scratch home for the CLI tools of one test: their config, cache and credentials live in a temporary
// directory, the registry CA is trusted, and the authenticated registry's credentials are in a Docker
// config.json. Nothing from the developer's own home is read.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { TestEnvInfo } from './test-env.ts';

export interface ToolHome {
  dir: string;
  env: Record<string, string>;
}

export const createToolHome = async (info: TestEnvInfo): Promise<ToolHome> => {
  const dir = await mkdtemp(join(tmpdir(), 'tagguard-tools-'));
  const dockerConfig = join(dir, '.docker');
  await mkdir(dockerConfig, { recursive: true });
  const auths: Record<string, { auth: string }> = {};
  for (const registry of Object.values(info.registries)) {
    if (registry.username && registry.password) {
      auths[registry.host] = {
        auth: Buffer.from(`${registry.username}:${registry.password}`).toString('base64'),
      };
    }
  }
  await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({ auths }), { mode: 0o600 });
  return {
    dir,
    env: {
      HOME: dir,
      DOCKER_CONFIG: dockerConfig,
      XDG_CONFIG_HOME: join(dir, '.config'),
      XDG_CACHE_HOME: join(dir, '.cache'),
      XDG_DATA_HOME: join(dir, '.local', 'share'),
      HELM_CONFIG_HOME: join(dir, 'helm', 'config'),
      HELM_CACHE_HOME: join(dir, 'helm', 'cache'),
      HELM_DATA_HOME: join(dir, 'helm', 'data'),
      HELM_REGISTRY_CONFIG: join(dockerConfig, 'config.json'),
      TUF_ROOT: join(dir, '.sigstore'),
      // Go tools (helm, oras, cosign, notation) trust exactly the test registries' CA.
      SSL_CERT_FILE: info.registryCaFile,
    },
  };
};
