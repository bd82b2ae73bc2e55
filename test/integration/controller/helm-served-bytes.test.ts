// The poll of a chart of an HTTP Helm repository looks at the bytes served, not only at the index:
// source-controller downloads urls[0] at its next cache miss without comparing it with the index digest,
// so an archive replaced under an unchanged index must fail the resolution (ChartDigestMismatch, which
// holds). Real nginx, charts by the real helm package --sign and helm repo index; the access log shows that
// an unchanged repository costs two 304s per poll.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  HelmRepositories,
  helmChartUrl,
  type HelmChartAccess,
} from '../../../src/controller/helm-repositories.ts';
import { isHelmRepositoryError } from '../../../src/registry/helm-repository/errors.ts';
import {
  startHttpChartRepository,
  type HttpChartRepository,
  type PublishedChart,
} from '../../env/helm-http-repo.ts';
import { ProcessSupervisor } from '../../env/processes.ts';
import { createToolHome } from '../../env/tool-home.ts';

const env = inject('testEnv');

describe('HelmRepositories: the bytes served are part of the poll', () => {
  let supervisor: ProcessSupervisor;
  let repo: HttpChartRepository;
  let chart: PublishedChart;
  let access: HelmChartAccess;
  const repositories = new HelmRepositories();
  const served = (): string => join(repo.root, `${chart.name}-${chart.version}.tgz`);
  const sinceShared = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1_100));

  beforeAll(async () => {
    const dir = join(env.runDir, `served-bytes-${randomBytes(3).toString('hex')}`);
    await mkdir(dir, { recursive: true });
    supervisor = new ProcessSupervisor(dir);
    repo = await startHttpChartRepository(supervisor, dir, await createToolHome(env));
    chart = await repo.publish('payment', '1.0.0', { signer: 'release' });
    // Validators read within 5 s of a file's Last-Modified are not trusted (nginx's ETag has whole-second
    // mtimes): the 304s below need files older than that.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const host = new URL(repo.url).host;
    access = {
      kind: 'helm-http',
      url: helmChartUrl(repo.url, 'payment'),
      repositoryUrl: repo.url,
      host,
      chart: 'payment',
      version: '1.0.0',
      auth: {},
      passCredentials: false,
      credentialId: 'served-bytes',
    };
  });

  afterAll(async () => {
    await repositories.close();
    await repo?.stop();
    await supervisor?.stopAll();
  });

  it('resolves the index digest while the archive hashes to it, with 304s once unchanged', async () => {
    expect((await repositories.resolve(access)).digest).toBe(chart.digest);
    const before = (await repo.server.accessLog()).length;
    await sinceShared();
    expect((await repositories.resolve(access)).digest).toBe(chart.digest);
    const poll = (await repo.server.accessLog()).slice(before);
    expect(poll.map((e) => `${e.method} ${e.uri} ${e.status}`)).toEqual([
      'GET /index.yaml 304',
      'GET /payment-1.0.0.tgz 304',
    ]);
  });

  it('fails the resolution when the archive is replaced under an unchanged index, and recovers', async () => {
    await writeFile(served(), randomBytes(2048));
    await sinceShared();
    const error: unknown = await repositories.resolve(access).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isHelmRepositoryError(error, 'ChartDigestMismatch')).toBe(true);
    // Still refused on the next poll.
    await sinceShared();
    const again: unknown = await repositories.resolve(access).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isHelmRepositoryError(again, 'ChartDigestMismatch')).toBe(true);
    await copyFile(chart.archive, served());
    await sinceShared();
    expect((await repositories.resolve(access)).digest).toBe(chart.digest);
  });

  it('reads a reused index again when it lacks a chart published since, before failing', async () => {
    // The index is younger than the hour allowed below: reused, and it has no "billing".
    expect((await repositories.resolve(access)).digest).toBe(chart.digest);
    const billing = await repo.publish('billing', '2.0.0', { signer: 'release' });
    await sinceShared();
    const before = (await repo.server.accessLog()).length;
    const resolution = await repositories.resolve(
      { ...access, url: helmChartUrl(repo.url, 'billing'), chart: 'billing', version: '2.0.0' },
      3_600_000,
    );
    expect(resolution.digest).toBe(billing.digest);
    const reads = (await repo.server.accessLog()).slice(before).filter((e) => e.uri === '/index.yaml');
    expect(reads.map((e) => e.status)).toEqual([200]);
    // A chart that is in no index still fails, after that one read.
    const missing: unknown = await repositories
      .resolve({ ...access, chart: 'absent', url: helmChartUrl(repo.url, 'absent') }, 3_600_000)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isHelmRepositoryError(missing, 'ChartNotFound')).toBe(true);
  });
});
