// A classic HTTP Helm repository for end-to-end tests and the demo: charts packaged and signed by the real
// `helm package --sign` (GnuPG keys of a release signer and of an attacker), indexed by the real
// `helm repo index`, served by a real nginx. `publish` (re-)writes one chart version and the index as a
// maintainer would — or an attacker with write access to the web root.
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageChart } from './charts.ts';
import { createGpgHome, type GpgHome } from './gpg.ts';
import { startNginx, type NginxServer } from './nginx.ts';
import type { ProcessSupervisor } from './processes.ts';
import { runTool } from './run-tool.ts';
import type { ToolHome } from './tool-home.ts';

export const RELEASE_SIGNER = 'Release Signer <release@example.com>';
export const ATTACKER_SIGNER = 'Intruder <intruder@example.com>';

export type ChartSigner = 'release' | 'attacker' | 'none';

export interface PublishedChart {
  readonly name: string;
  readonly version: string;
  /** The archive as packaged (kept outside the web root, so it can be published again). */
  readonly archive: string;
  /** `sha256:<hex>` of the archive: the digest `helm repo index` writes and tagguard reports. */
  readonly digest: string;
  readonly signer: ChartSigner;
  readonly malicious: boolean;
}

export interface HttpChartRepository {
  /** http://127.0.0.1:port: the HelmRepository's spec.url. */
  readonly url: string;
  readonly server: NginxServer;
  /** The web root: index.yaml, <chart>-<version>.tgz and .tgz.prov. */
  readonly root: string;
  /** The release signer's public key, binary (gpg --export): a keyring Secret's value. */
  readonly releasePublicKey: Buffer;
  /** Packages (and signs) a chart, writes archive and .prov into the web root, then runs helm repo index. */
  publish(
    name: string,
    version: string,
    options: { malicious?: boolean; signer: ChartSigner },
  ): Promise<PublishedChart>;
  /** Puts an archive published before (and its .prov) back under its name and indexes again. */
  republish(chart: PublishedChart): Promise<void>;
  stop(): Promise<void>;
}

const sha256 = async (file: string): Promise<string> =>
  `sha256:${createHash('sha256')
    .update(await readFile(file))
    .digest('hex')}`;

/** Copy then rename: nginx never serves a half-written file. */
const place = async (from: string, to: string): Promise<void> => {
  const temporary = `${to}.partial`;
  await copyFile(from, temporary);
  await rename(temporary, to);
};

export const startHttpChartRepository = async (
  supervisor: ProcessSupervisor,
  baseDir: string,
  home: ToolHome,
  name = 'charts',
): Promise<HttpChartRepository> => {
  const dir = join(baseDir, `${name}-repository`);
  const root = join(dir, 'www');
  const work = join(dir, 'work');
  await mkdir(root, { recursive: true });
  await mkdir(work, { recursive: true });
  const keyrings: Record<Exclude<ChartSigner, 'none'>, { key: string; keyring: string }> = {
    release: { key: RELEASE_SIGNER, keyring: join(work, 'release-secring.gpg') },
    attacker: { key: ATTACKER_SIGNER, keyring: join(work, 'attacker-secring.gpg') },
  };
  // gpg only makes the keys: helm signs from the exported keyrings, so the home (and its agent) goes at once.
  const gpg: GpgHome = await createGpgHome();
  let releasePublicKey: Buffer;
  try {
    for (const { key, keyring } of Object.values(keyrings)) {
      await gpg.generateKey(key);
      // helm package --sign reads a legacy secret keyring; one per signer, so --key cannot pick the other.
      await writeFile(keyring, await gpg.run(['--passphrase', '', '--export-secret-keys', key]));
    }
    releasePublicKey = await gpg.exportPublic(RELEASE_SIGNER);
  } finally {
    await gpg.remove();
  }
  // An empty repository is a valid one: Flux and tagguard can read its index before the first chart.
  await runTool('helm', ['repo', 'index', root], { env: home.env });
  const server = await startNginx(supervisor, dir, { name: `${name}-nginx`, root });

  const writeChart = async (chart: PublishedChart): Promise<void> => {
    const file = join(root, `${chart.name}-${chart.version}.tgz`);
    // Archive and .prov first, the index last: in between, the index's digest and the archive disagree.
    await place(chart.archive, file);
    if (chart.signer === 'none') await rm(`${file}.prov`, { force: true });
    else await place(`${chart.archive}.prov`, `${file}.prov`);
    await runTool('helm', ['repo', 'index', root], { env: home.env });
  };

  return {
    url: server.url,
    server,
    root,
    releasePublicKey,
    publish: async (chartName, version, options) => {
      const archive = await packageChart(home, work, {
        name: chartName,
        version,
        maliciousInitContainer: options.malicious ?? false,
        ...(options.signer !== 'none' ? { sign: keyrings[options.signer] } : {}),
      });
      const chart: PublishedChart = {
        name: chartName,
        version,
        archive,
        digest: await sha256(archive),
        signer: options.signer,
        malicious: options.malicious ?? false,
      };
      await writeChart(chart);
      return chart;
    },
    republish: writeChart,
    stop: () => server.stop(),
  };
};
