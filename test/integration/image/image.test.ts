// The container image, built from the Dockerfile by podman with bases assembled from Debian packages
// (scripts/image.sh --bases debian), and run as config/manager runs it: the Deployment's args, environment and
// security context (uid 65532, read-only root, /tmp the only writable path, no capabilities), authenticated
// in-cluster with a ServiceAccount token under config/rbac. It must reach Ready, verify and scan a signed chart
// with the helm inside the image, and hold the OCIRepository when the tag is re-pushed with a signed chart that
// only rendering catches. Image size, cold start and RSS are measured and written to the run directory.
// Needs root (podman's root storage, mmdebstrap's root mode), podman, runc and mmdebstrap: README Prerequisites.
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { KubeTestClient } from '../../env/kube.ts';
import { freePort } from '../../env/ports.ts';
import { waitFor } from '../../env/processes.ts';
import { probe } from '../../env/https-get.ts';
import { operatorKubeconfig } from '../../env/operator.ts';
import { packageChart } from '../../env/charts.ts';
import { pushChart, type PushedArtifact } from '../../env/oci.ts';
import { generateCosignKeyPair, signCosignLegacy, type CosignKeyPair } from '../../env/sign.ts';
import { createToolHome, type ToolHome } from '../../env/tool-home.ts';
import { avObject, condition, judged, requestCheck, waitForAv } from '../../env/av.ts';
import {
  containerPid,
  imageRunArgs,
  managerDeployment,
  mustRunWithPodman as must,
  processKiB,
  processStatus,
  runWithPodman as run,
  serviceAccountVolume,
} from '../../env/image-run.ts';

const env = inject('testEnv');
const registry = env.registries.referrers;
const suffix = randomBytes(3).toString('hex');
const ns = `image-${suffix}`;
const IMAGE = `localhost/tagguard:test-${suffix}`;
const CONTAINER = `tagguard-image-test-${suffix}`;
const isRoot = process.getuid?.() === 0;

interface Figures {
  buildSeconds: number;
  imageBytes: number;
  coldStartToReadyMs: number;
  rssKiB: { ready: number; afterHold: number; peak: number };
}
const figures: Partial<Figures> = {};

let kube: KubeTestClient;
let home: ToolHome;
let key: CosignKeyPair;
let good: PushedArtifact;
let healthPort: number;
let metricsPort: number;
let pid: number;

const kib = (field: 'VmRSS' | 'VmHWM'): Promise<number> => processKiB(pid, field);

const chart = async (malicious: boolean): Promise<PushedArtifact> => {
  const dir = await mkdtemp(join(tmpdir(), 'tagguard-image-chart-'));
  const pushed = await pushChart(
    home,
    registry,
    `${ns}-charts`,
    await packageChart(home, dir, { name: 'payment', version: '3.1.0', maliciousInitContainer: malicious }),
  );
  // Both are signed with the release key: the re-pushed one can only be refused by its rendered templates.
  await signCosignLegacy(home, registry, pushed, key);
  return pushed;
};

const logs = async (): Promise<string> => {
  const result = await run('podman', ['logs', '--tail', '40', CONTAINER]);
  return `${result.stdout}${result.stderr}`;
};

/** A failed wait names the container's last log lines. */
const withLogs = <T>(wait: Promise<T>): Promise<T> =>
  wait.catch(async (error: unknown) => {
    throw new Error(`${String(error)}\n${await logs()}`);
  });

describe.skipIf(!isRoot)('the tagguard image (built and run with podman)', () => {
  beforeAll(async () => {
    kube = KubeTestClient.fromFile(env.kubeconfig);
    await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const start = Date.now();
    await must('scripts/image.sh', ['--bases', 'debian', '--tag', IMAGE], 900_000);
    figures.buildSeconds = Math.round((Date.now() - start) / 1000);
    home = await createToolHome(env);
    key = await generateCosignKeyPair(home, 'release');
    good = await chart(false);
  }, 960_000);

  afterAll(async () => {
    await run('podman', ['rm', '--force', '--time', '5', CONTAINER]);
    // Only the tag: its layers are shared with other builds of the Dockerfile (the release test builds one at
    // the same time), and podman's layer cache makes the next build quick.
    await run('podman', ['rmi', '--force', IMAGE]);
    await kube?.objects
      .delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })
      .catch(() => undefined);
    await mkdir(env.runDir, { recursive: true });
    await writeFile(join(env.runDir, 'image-figures.json'), `${JSON.stringify(figures, null, 2)}\n`);
    console.log(`[image] ${JSON.stringify(figures)}`);
  });

  it('runs as 65532 with no shell, node and helm at the places the Dockerfile names', async () => {
    const config = JSON.parse(await must('podman', ['image', 'inspect', IMAGE])) as {
      Size: number;
      Config: { User: string; Entrypoint: string[]; Cmd: string[]; Labels: Record<string, string> };
    }[];
    const [image] = config;
    figures.imageBytes = image?.Size ?? 0;
    expect(image?.Config.User).toBe('65532:65532');
    expect(image?.Config.Entrypoint).toEqual(['/nodejs/bin/node', '/app/dist/cli/main.js']);
    expect(image?.Config.Cmd).toEqual(['run']);
    expect(image?.Config.Labels['dev.tagguard.image.bases']).toBe('debian');
    for (const shell of ['/bin/sh', '/bin/bash', '/usr/bin/sh', '/bin/dash', '/bin/busybox']) {
      const result = await run('podman', ['run', '--rm', '--entrypoint', shell, IMAGE, '-c', 'true']);
      expect(result.code, `${shell} ran in the image`).not.toBe(0);
      expect(result.stderr).toMatch(/no such file or directory|not found/i);
    }
    const helm = await must('podman', [
      'run',
      '--rm',
      '--entrypoint',
      '/usr/local/bin/helm',
      IMAGE,
      'version',
    ]);
    expect(helm).toContain('v3.19.5');
  });

  it('reaches Ready in-cluster as the ServiceAccount, with the Deployment security context', async () => {
    await operatorKubeconfig(env); // applies config/rbac: the ServiceAccount and what it may do
    const deployment = await managerDeployment();
    const container = deployment.spec?.template.spec?.containers[0];
    const security = container?.securityContext;
    const pod = deployment.spec?.template.spec?.securityContext;
    // What config/manager promises, translated to podman flags below.
    expect(security).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(security?.capabilities?.drop).toEqual(['ALL']);
    expect(pod?.runAsUser).toBe(65532);
    const nodeOptions = container?.env?.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '';
    expect(nodeOptions).toContain('--max-old-space-size');
    const memoryLimit = container?.resources?.limits?.memory ?? '';
    expect(memoryLimit).toBe('512Mi');
    expect(container?.args?.[0]).toBe('run');
    [healthPort, metricsPort] = [await freePort(), await freePort()];
    const secrets = await serviceAccountVolume(env);
    const start = Date.now();
    const runArgs = imageRunArgs(deployment, {
      image: IMAGE,
      name: CONTAINER,
      apiServer: env.apiServer,
      secretsDir: secrets,
      metricsPort,
      healthPort,
      // Its own Lease and namespace: other test files run operators against this API server.
      extraArgs: [`--leader-election-id=image-${suffix}`, `--watch-namespace=${ns}`],
    });
    // The Deployment's promises as podman flags (what they do is checked from the host below).
    expect(runArgs).toEqual(
      expect.arrayContaining([
        '--read-only',
        'ALL',
        'no-new-privileges',
        '512m',
        `NODE_OPTIONS=${nodeOptions}`,
      ]),
    );
    expect(runArgs).toContain('/tmp:rw,size=256m,mode=1777');
    await must('podman', runArgs);
    await withLogs(
      waitFor(
        '/readyz of the operator in the image',
        async () =>
          (await probe(`http://127.0.0.1:${healthPort}/readyz`)).status === 200 ? true : undefined,
        { timeoutMs: 90_000, intervalMs: 100 },
      ),
    );
    figures.coldStartToReadyMs = Date.now() - start;
    pid = await containerPid(CONTAINER);
    expect(pid).toBeGreaterThan(0);
    // The operator process itself (not podman) runs as 65532: real, effective, saved and file-system uid.
    expect((await processStatus(pid, 'Uid')).split(/\s+/)).toEqual(['65532', '65532', '65532', '65532']);
    const mounts = await readFile(`/proc/${pid}/mounts`, 'utf8');
    expect(mounts).toMatch(/^\S+ \/ \S+ ro[,\s]/m);
    expect(mounts).toMatch(/^\S+ \/tmp tmpfs rw[,\s]/m);
    figures.rssKiB = { ready: await kib('VmRSS'), afterHold: 0, peak: 0 };
  });

  it('verifies and scans a signed chart, then holds the OCIRepository when its tag is re-pushed', async () => {
    await kube.apply({
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'OCIRepository',
      metadata: { name: 'payment', namespace: ns },
      spec: { url: `oci://${good.repository}`, ref: { tag: good.tag }, interval: '10m', insecure: true },
    } as KubernetesObject);
    await kube.apply(
      avObject(ns, 'payment', {
        sourceRef: { kind: 'OCIRepository', name: 'payment' },
        action: 'Suspend',
        interval: '10s',
        verify: { cosign: [{ name: 'release', publicKey: key.publicKeyPem }] },
      }),
    );
    const trusted = await withLogs(
      waitForAv(kube, ns, 'payment', 'Ready=True', (o) => condition(o, 'Ready')?.status === 'True', 90_000),
    );
    expect(condition(trusted, 'Verified')?.status).toBe('True');
    expect(condition(trusted, 'Scanned')?.status).toBe('True');

    // Signed with the release key: only helm's render, inside the image, sees the privileged init container.
    const evil = await chart(true);
    expect(evil.digest).not.toBe(good.digest);
    await requestCheck(kube, ns, 'payment');
    const held = await withLogs(
      waitForAv(
        kube,
        ns,
        'payment',
        'Held=True',
        (o) => condition(o, 'Held')?.status === 'True' && judged(o),
        90_000,
      ),
    );
    expect(condition(held, 'TagMutated')?.status).toBe('True');
    expect(condition(held, 'Verified')?.status).toBe('True');
    expect(condition(held, 'Scanned')?.status).toBe('False');
    expect(held.status?.findings?.some((f) => f.rule === 'privileged-container')).toBe(true);
    const repository = await kube.read<KubernetesObject & { spec: { suspend?: boolean } }>(
      'source.toolkit.fluxcd.io/v1',
      'OCIRepository',
      'payment',
      ns,
    );
    expect(repository.spec.suspend).toBe(true);
    expect(repository.metadata?.annotations?.['tagguard.dev/held-by']).toBe(`${ns}/payment`);
    const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(new RegExp(`^tagguard_held_targets\\{[^}]*name="payment"[^}]*\\} 1$`, 'm'));
    figures.rssKiB = {
      ready: figures.rssKiB?.ready ?? 0,
      afterHold: await kib('VmRSS'),
      peak: await kib('VmHWM'),
    };
  });
});
