// Charts packaged (some signed) by the real `helm package --sign` with a GnuPG key, in a directory indexed by
// the real `helm repo index`, for the HTTP Helm repository tests and the polling bench.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGpgHome, type GpgHome } from '../../../env/gpg.ts';
import { runTool, type RunResult } from '../../../env/run-tool.ts';

export const SIGNER = 'Chart Signer <charts@example.com>';

export interface HelmWorkspace {
  readonly dir: string;
  readonly env: Record<string, string>;
  readonly gpg: GpgHome;
  helm(args: readonly string[]): Promise<RunResult>;
  /** Packages chart `name` at `version` into `into` (signed with SIGNER when `sign`); returns the .tgz path. */
  packageChart(
    into: string,
    name: string,
    version: string,
    options?: { sign?: boolean; note?: string },
  ): Promise<string>;
  /** `helm repo index <dir> [--url url]`. */
  index(repoDir: string, url?: string): Promise<void>;
  remove(): Promise<void>;
}

export const sha256File = async (file: string): Promise<string> =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');

export const createHelmWorkspace = async (): Promise<HelmWorkspace> => {
  const dir = await mkdtemp(join(tmpdir(), 'tg-helmrepo-'));
  const env = {
    HOME: dir,
    HELM_CACHE_HOME: join(dir, 'cache'),
    HELM_CONFIG_HOME: join(dir, 'config'),
    HELM_DATA_HOME: join(dir, 'data'),
  };
  const gpg = await createGpgHome();
  await gpg.generateKey(SIGNER);
  const secring = join(dir, 'secring.gpg');
  await writeFile(secring, await gpg.exportSecret());
  const helm = (args: readonly string[]): Promise<RunResult> =>
    runTool('helm', args, { env, timeoutMs: 300_000 });
  let counter = 0;
  return {
    dir,
    env,
    gpg,
    helm,
    packageChart: async (into, name, version, options = {}) => {
      const src = join(dir, `src-${++counter}`, name);
      await mkdir(join(src, 'templates'), { recursive: true });
      await writeFile(
        join(src, 'Chart.yaml'),
        `apiVersion: v2\nname: ${name}\nversion: ${version}\ndescription: ${options.note ?? 'a chart'}\n`,
      );
      await writeFile(join(src, 'values.yaml'), `note: ${JSON.stringify(options.note ?? '')}\n`);
      await writeFile(
        join(src, 'templates', 'configmap.yaml'),
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Release.Name }}}\n',
      );
      await mkdir(into, { recursive: true });
      const sign = options.sign === true ? ['--sign', '--key', SIGNER, '--keyring', secring] : [];
      await helm(['package', src, '--destination', into, ...sign]);
      await rm(join(dir, `src-${counter}`), { recursive: true });
      return join(into, `${name}-${version}.tgz`);
    },
    index: async (repoDir, url) => {
      await helm(['repo', 'index', repoDir, ...(url !== undefined ? ['--url', url] : [])]);
    },
    remove: async () => {
      await gpg.remove();
      await rm(dir, { recursive: true, force: true });
    },
  };
};
