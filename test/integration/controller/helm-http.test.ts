// The operator on charts of HTTP(S) HelmRepositories against the real API server: charts packaged and signed
// by the real `helm package --sign` (GnuPG keyring), indexes by the real `helm repo index`, served by the real
// nginx (one instance with TLS + basic auth reached through the HelmRepository's secretRef / certSecretRef).
// Trust, a re-published version, bytes other than the index names, provenance failures, a range pin, the
// HelmRepository fan-out, and the cost of the shared index poll as nginx's access log tells it.
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { avObject, condition, eventReasons, judged, requestCheck, until, waitForAv } from '../../env/av.ts';
import { createGpgHome, type GpgHome } from '../../env/gpg.ts';
import { KubeTestClient } from '../../env/kube.ts';
import { startNginx, type AccessEntry, type NginxServer } from '../../env/nginx.ts';
import { startInProcessOperator } from '../../env/operator.ts';
import { createCA, issueCertificate } from '../../env/pki.ts';
import { ProcessSupervisor } from '../../env/processes.ts';
import { runTool } from '../../env/run-tool.ts';
import { createToolHome, type ToolHome } from '../../env/tool-home.ts';
import type { ArtifactVerification } from '../../../src/api/artifact-verification.ts';
import type { RunningOperator } from '../../../src/cli/run-command.ts';
import { childName } from '../../../src/controller/fanout/child-plan.ts';

const env = inject('testEnv');
const ns = `hhttp-${Math.random().toString(36).slice(2, 7)}`;
const SOURCE_API = 'source.toolkit.fluxcd.io/v1';
const HELM_API = 'helm.toolkit.fluxcd.io/v2';
const AV_API = 'tagguard.dev/v1alpha1';
const RELEASE = 'Release Signer <release@example.com>';
const INTRUDER = 'Intruder <intruder@example.com>';
const USER = 'flux';
const PASSWORD = 'chart-reader-pw';

let kube: KubeTestClient;
let home: ToolHome;
let gpg: GpgHome;
let base: string;
let www: string;
let supervisor: ProcessSupervisor;
let plain: NginxServer;
let secure: NginxServer;
let operator: RunningOperator;

type Flux = KubernetesObject & {
  spec: { suspend?: boolean; version?: string; chart?: { spec?: { version?: string } } };
  metadata: { annotations?: Record<string, string> };
};

const deployment = (malicious: boolean): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  replicas: 1
  selector:
    matchLabels: {app: {{ .Release.Name }}}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}}
    spec:
${
  malicious
    ? `      initContainers:
        - name: setup
          image: ghcr.io/attacker/miner:latest
          securityContext: {privileged: true}
`
    : ''
}      containers:
        - name: app
          image: registry.example.com/payment@sha256:${'0'.repeat(64)}
          securityContext: {runAsNonRoot: true, allowPrivilegeEscalation: false}
`;

/**
 * `helm package [--sign]` of chart `name` at `version` into the repository directory `repo` (the .tgz and,
 * signed, its .prov). `key`: the signer's user id (helm picks the key by name from the legacy keyring).
 */
const publish = async (
  repo: string,
  name: string,
  version: string,
  options: { key?: string; malicious?: boolean } = {},
): Promise<string> => {
  const work = await mkdtemp(join(base, 'chart-'));
  const src = join(work, name);
  await mkdir(join(src, 'templates'), { recursive: true });
  await writeFile(join(src, 'Chart.yaml'), `apiVersion: v2\nname: ${name}\nversion: ${version}\n`);
  await writeFile(join(src, 'values.yaml'), `note: ${options.malicious ? 'evil' : 'good'}\n`);
  await writeFile(join(src, 'templates', 'deployment.yaml'), deployment(options.malicious ?? false));
  const sign =
    options.key !== undefined ? ['--sign', '--key', options.key, '--keyring', join(base, 'secring.gpg')] : [];
  await mkdir(repo, { recursive: true });
  await runTool('helm', ['package', src, '--destination', repo, ...sign], { env: home.env });
  await rm(work, { recursive: true, force: true });
  return join(repo, `${name}-${version}.tgz`);
};

const index = async (repo: string): Promise<void> => {
  await runTool('helm', ['repo', 'index', repo], { env: home.env });
};

const sha256 = async (file: string): Promise<string> =>
  `sha256:${createHash('sha256')
    .update(await readFile(file))
    .digest('hex')}`;

/** The repository directory of one case (served at `<nginx>/<name>`). */
const repoDir = (name: string): string => join(www, name);

const helmRepository = (name: string, url: string, extra: Record<string, unknown> = {}): KubernetesObject =>
  ({
    apiVersion: SOURCE_API,
    kind: 'HelmRepository',
    metadata: { name, namespace: ns },
    spec: { url, interval: '10m', ...extra },
  }) as KubernetesObject;

const helmChart = (name: string, chart: string, version: string, repository: string): KubernetesObject =>
  ({
    apiVersion: SOURCE_API,
    kind: 'HelmChart',
    metadata: { name, namespace: ns },
    spec: { chart, version, sourceRef: { kind: 'HelmRepository', name: repository }, interval: '10m' },
  }) as KubernetesObject;

const helmRelease = (name: string, chart: string, version: string, repository: string): KubernetesObject =>
  ({
    apiVersion: HELM_API,
    kind: 'HelmRelease',
    metadata: { name, namespace: ns },
    spec: {
      interval: '10m',
      chart: { spec: { chart, version, sourceRef: { kind: 'HelmRepository', name: repository } } },
    },
  }) as KubernetesObject;

const provenancePolicy = { provenance: [{ name: 'release', keyring: { secretRef: { name: 'helm-keys' } } }] };

const guard = (name: string, sourceRef: Record<string, string>, extra: Record<string, unknown> = {}) =>
  kube.apply(avObject(ns, name, { sourceRef, interval: '10s', verify: provenancePolicy, ...extra }));

const readFlux = (kind: 'HelmChart' | 'HelmRelease', name: string): Promise<Flux> =>
  kube.read<Flux>(kind === 'HelmChart' ? SOURCE_API : HELM_API, kind, name, ns);

const isHeld = (o: Flux): boolean =>
  o.spec.suspend === true && o.metadata.annotations?.['tagguard.dev/held-by'] !== undefined;

const untouched = (o: Flux): boolean =>
  o.spec.suspend === undefined &&
  o.metadata.annotations?.['tagguard.dev/held-by'] === undefined &&
  o.metadata.annotations?.['tagguard.dev/pre-hold'] === undefined;

const trustedAv = (name: string): Promise<ArtifactVerification> =>
  waitForAv(
    kube,
    ns,
    name,
    'Ready=True',
    (o) => condition(o, 'Ready')?.status === 'True' && judged(o),
    90_000,
  );

const heldAv = (name: string, extra: (o: ArtifactVerification) => boolean = () => true) =>
  waitForAv(
    kube,
    ns,
    name,
    'Held=True',
    (o) => condition(o, 'Held')?.status === 'True' && judged(o) && extra(o),
    90_000,
  );

/** Copies the files of a repository directory aside, to put them back byte for byte later. */
const snapshotFiles = async (dir: string, files: readonly string[]): Promise<() => Promise<void>> => {
  const aside = await mkdtemp(join(base, 'aside-'));
  for (const file of files) await copyFile(join(dir, file), join(aside, file));
  return async () => {
    for (const file of files) await copyFile(join(aside, file), join(dir, file));
  };
};

const indexGets = (log: readonly AccessEntry[], path: string): AccessEntry[] =>
  log.filter((e) => e.method === 'GET' && e.uri === `${path}/index.yaml`);

/** tagguard_helm_index_polls_total by result, and tagguard_helm_index_bytes_total, of the plain nginx. */
const indexPollMetrics = async (): Promise<Record<string, number>> => {
  const body = await (await fetch(`http://127.0.0.1:${operator.endpoints.metrics}/metrics`)).text();
  const host = new URL(plain.url).host;
  const values: Record<string, number> = {};
  for (const line of body.split('\n')) {
    const polls = /^tagguard_helm_index_polls_total\{host="([^"]+)",result="(\w+)"\} (\d+)/.exec(line);
    if (polls?.[1] === host) values[polls[2] ?? ''] = Number(polls[3]);
    const bytes = /^tagguard_helm_index_bytes_total\{host="([^"]+)"\} (\d+)/.exec(line);
    if (bytes?.[1] === host) values.bytes = Number(bytes[2]);
  }
  return values;
};

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'tg-helm-http-'));
  www = join(base, 'www');
  await mkdir(www, { recursive: true });
  supervisor = new ProcessSupervisor(base);
  kube = KubeTestClient.fromFile(env.kubeconfig);
  home = await createToolHome(env);
  gpg = await createGpgHome();
  await gpg.generateKey(RELEASE);
  await gpg.generateKey(INTRUDER);
  await writeFile(join(base, 'secring.gpg'), await gpg.exportSecret());
  const ca = await createCA(base, 'ca');
  const serving = await issueCertificate(ca, base, 'serving', {
    subject: '/CN=127.0.0.1',
    usage: 'server',
    ipAddresses: ['127.0.0.1'],
    dnsNames: ['localhost'],
  });
  plain = await startNginx(supervisor, base, { name: 'nginx-plain', root: www });
  secure = await startNginx(supervisor, base, {
    name: 'nginx-secure',
    root: www,
    tls: { serving, caFile: ca.certFile },
    basicAuth: { username: USER, password: PASSWORD },
  });
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  await kube.applyAll([
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'helm-keys', namespace: ns },
      data: { 'pubring.gpg': (await gpg.exportPublic(RELEASE)).toString('base64') },
    } as KubernetesObject,
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'repo-auth', namespace: ns },
      stringData: { username: USER, password: PASSWORD },
    } as KubernetesObject,
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'repo-ca', namespace: ns },
      stringData: { 'ca.crt': ca.certPem },
    } as KubernetesObject,
  ]);
  operator = await startInProcessOperator(env, ['--watch-namespace', ns]);
}, 180_000);

afterAll(async () => {
  await operator?.shutdown('test done');
  await supervisor?.stopAll();
  await gpg?.remove();
  if (base) await rm(base, { recursive: true, force: true });
});

describe('charts of HTTP(S) HelmRepositories in the operator', () => {
  it(
    'trusts a signed exact version over TLS + basic auth, holds HelmChart and HelmRelease when the version is re-published, and releases them exactly when it is restored',
    { timeout: 300_000 },
    async () => {
      const dir = repoDir('main');
      const archive = await publish(dir, 'payment', '3.1.0', { key: 'Release Signer' });
      await index(dir);
      const goodDigest = await sha256(archive);
      const indexYaml = await readFile(join(dir, 'index.yaml'), 'utf8');
      expect(indexYaml).toContain(`digest: ${goodDigest.slice('sha256:'.length)}`);
      const restore = await snapshotFiles(dir, ['payment-3.1.0.tgz', 'payment-3.1.0.tgz.prov', 'index.yaml']);

      await kube.applyAll([
        helmRepository('secure', `${secure.url}/main`, {
          secretRef: { name: 'repo-auth' },
          certSecretRef: { name: 'repo-ca' },
        }),
        helmRelease('payment', 'payment', '3.1.0', 'secure'),
        // What helm-controller would generate from the HelmRelease's chart.spec (no Flux controllers here).
        helmChart(`${ns}-payment`, 'payment', '3.1.0', 'secure'),
      ]);
      await guard('payment', { kind: 'HelmChart', name: `${ns}-payment` });
      const trusted = await trustedAv('payment');
      expect(condition(trusted, 'Verified')?.status).toBe('True');
      expect(condition(trusted, 'Held')?.status).toBe('False');
      expect(trusted.status?.trustedDigest).toBe(goodDigest);
      expect(trusted.status?.artifact).toMatchObject({
        url: `${secure.url}/main/payment`,
        tag: '3.1.0',
        digest: goodDigest,
      });
      expect(trusted.status?.signers).toEqual([
        expect.objectContaining({ name: 'release', type: 'provenance', format: 'provenance' }),
      ]);
      // Only the release key's requests: every one carried the basic-auth user (certSecretRef's CA trusted).
      const requests = (await secure.accessLog()).filter((e) => e.uri.startsWith('/main/'));
      expect(requests.map((e) => e.uri)).toEqual(
        expect.arrayContaining([
          '/main/index.yaml',
          '/main/payment-3.1.0.tgz',
          '/main/payment-3.1.0.tgz.prov',
        ]),
      );
      expect(requests.every((e) => e.user === USER && e.status < 400)).toBe(true);
      const chartBefore = await readFlux('HelmChart', `${ns}-payment`);
      const releaseBefore = await readFlux('HelmRelease', 'payment');
      expect(untouched(chartBefore)).toBe(true);
      expect(untouched(releaseBefore)).toBe(true);

      // The attacker re-publishes 3.1.0 (a privileged init container) and re-indexes; the .prov stays.
      await rm(archive);
      const evilArchive = await publish(join(base, 'evil'), 'payment', '3.1.0', { malicious: true });
      await copyFile(evilArchive, archive);
      await index(dir);
      const evilDigest = await sha256(archive);
      expect(evilDigest).not.toBe(goodDigest);
      await requestCheck(kube, ns, 'payment');
      const held = await heldAv('payment', (o) => o.status?.artifact?.digest === evilDigest);
      expect(condition(held, 'Verified')?.status).toBe('False');
      expect(condition(held, 'Verified')?.message).toMatch(/Provenance/);
      expect(condition(held, 'TagMutated')?.status).toBe('True');
      expect(held.status?.trustedDigest).toBe(goodDigest);
      const history = held.status?.history ?? [];
      expect(history.find((h) => h.digest === evilDigest)).toMatchObject({ tag: '3.1.0' });
      expect(history.find((h) => h.digest === goodDigest)).toMatchObject({
        tag: '3.1.0',
        verdict: 'Trusted',
      });
      // An exact version cannot be pinned tighter: both targets are suspended.
      expect(isHeld(await readFlux('HelmChart', `${ns}-payment`))).toBe(true);
      expect(isHeld(await readFlux('HelmRelease', 'payment'))).toBe(true);
      await until('VerificationFailed event', 20_000, async () =>
        (await eventReasons(kube, ns, 'payment')).includes('VerificationFailed'),
      );

      // The original archive and index, byte for byte: released, the objects as they were.
      await restore();
      await requestCheck(kube, ns, 'payment');
      const back = await waitForAv(
        kube,
        ns,
        'payment',
        'released',
        (o) =>
          condition(o, 'Held')?.status === 'False' &&
          condition(o, 'Ready')?.status === 'True' &&
          o.status?.artifact?.digest === goodDigest,
        90_000,
      );
      expect(back.status?.trustedDigest).toBe(goodDigest);
      const chartAfter = await readFlux('HelmChart', `${ns}-payment`);
      const releaseAfter = await readFlux('HelmRelease', 'payment');
      expect(chartAfter.spec).toEqual(chartBefore.spec);
      expect(releaseAfter.spec).toEqual(releaseBefore.spec);
      expect(untouched(chartAfter)).toBe(true);
      expect(untouched(releaseAfter)).toBe(true);
    },
  );

  it(
    'holds with ChartDigestMismatch when nginx serves other bytes than the index names, before and after trust',
    { timeout: 300_000 },
    async () => {
      const dir = repoDir('swap');
      const archive = await publish(dir, 'ledger', '1.0.0', { key: 'Release Signer' });
      await publish(dir, 'audit', '1.0.0', { key: 'Release Signer' });
      await index(dir);
      const goodDigest = await sha256(archive);
      await kube.applyAll([
        helmRepository('swap', `${plain.url}/swap`),
        helmChart('ledger', 'ledger', '1.0.0', 'swap'),
        helmChart('audit', 'audit', '1.0.0', 'swap'),
      ]);
      await guard('ledger', { kind: 'HelmChart', name: 'ledger' });
      await trustedAv('ledger');

      // Trusted first; then the archive alone is swapped (same version, index untouched). No check is
      // requested: the poll's conditional GET of the archive sees it within an interval or two.
      const restore = await snapshotFiles(dir, ['ledger-1.0.0.tgz']);
      const other = await publish(join(base, 'swap-evil'), 'ledger', '1.0.0', { malicious: true });
      await copyFile(other, archive);
      const held = await heldAv('ledger');
      expect(condition(held, 'Ready')).toMatchObject({ status: 'False', reason: 'RegistryError' });
      expect(condition(held, 'Ready')?.message).toMatch(/ChartDigestMismatch/);
      expect(held.status?.trustedDigest).toBe(goodDigest);
      expect(isHeld(await readFlux('HelmChart', 'ledger'))).toBe(true);
      // The archive put back: released without a requested check either.
      await restore();
      await waitForAv(
        kube,
        ns,
        'ledger',
        'released',
        (o) => condition(o, 'Held')?.status === 'False' && condition(o, 'Ready')?.status === 'True',
        90_000,
      );
      expect(untouched(await readFlux('HelmChart', 'ledger'))).toBe(true);

      // Never trusted: a chart whose bytes never matched the index is held from the start.
      const audit = join(dir, 'audit-1.0.0.tgz');
      await copyFile(await publish(join(base, 'swap-evil2'), 'audit', '1.0.0', { malicious: true }), audit);
      await guard('audit', { kind: 'HelmChart', name: 'audit' });
      const heldNew = await heldAv('audit');
      expect(JSON.stringify(heldNew.status)).toMatch(/ChartDigestMismatch/);
      expect(heldNew.status?.trustedDigest).toBeUndefined();
      expect(isHeld(await readFlux('HelmChart', 'audit'))).toBe(true);
    },
  );

  it(
    'judges a missing .prov, one signed by another key and a tampered one as untrusted with provenance reasons',
    { timeout: 300_000 },
    async () => {
      const dir = repoDir('prov');
      await publish(dir, 'noprov', '1.0.0');
      await publish(dir, 'otherkey', '1.0.0', { key: 'Intruder' });
      await publish(dir, 'tampered', '1.0.0', { key: 'Release Signer' });
      const provFile = join(dir, 'tampered-1.0.0.tgz.prov');
      // One byte of the signed document changed (its description), the signature left as it was.
      const prov = await readFile(provFile, 'utf8');
      expect(prov).toContain('name: tampered');
      await writeFile(provFile, prov.replace('name: tampered', 'name: tamperex'));
      await index(dir);
      await kube.apply(helmRepository('prov', `${plain.url}/prov`));
      const cases = {
        noprov: /SignatureMissing \(release: noprov 1\.0\.0 has no provenance/,
        otherkey: /ProvenanceUnknownSigner/,
        tampered: /Provenance(?!UnknownSigner)/,
      };
      for (const name of Object.keys(cases)) {
        await kube.apply(helmChart(name, name, '1.0.0', 'prov'));
        await guard(name, { kind: 'HelmChart', name });
      }
      for (const [name, reason] of Object.entries(cases)) {
        const held = await heldAv(name);
        expect(condition(held, 'Verified')?.status, name).toBe('False');
        expect(condition(held, 'Verified')?.message, name).toMatch(reason);
        expect(isHeld(await readFlux('HelmChart', name)), name).toBe(true);
      }
    },
  );

  it(
    'pins a version range to the newest trusted version and keeps the pin when a newer untrusted one appears',
    { timeout: 300_000 },
    async () => {
      const dir = repoDir('range');
      await publish(dir, 'web', '3.1.0', { key: 'Release Signer' });
      await index(dir);
      await kube.applyAll([
        helmRepository('range', `${plain.url}/range`),
        helmChart('web', 'web', '3.x', 'range'),
      ]);
      await guard('web', { kind: 'HelmChart', name: 'web' });
      const first = await trustedAv('web');
      expect(first.status?.artifact?.tag).toBe('3.1.0');
      const pinnedTo = async (version: string): Promise<true> =>
        until(`HelmChart web pinned to ${version}`, 60_000, async () => {
          const o = await readFlux('HelmChart', 'web');
          return o.spec.version === version && o.spec.suspend !== true;
        });
      await pinnedTo('3.1.0');
      const pinnedChart = await readFlux('HelmChart', 'web');
      expect(JSON.parse(pinnedChart.metadata.annotations?.['tagguard.dev/pre-hold'] ?? '{}')).toEqual({
        'spec.version': '3.x',
      });

      const v320 = await publish(dir, 'web', '3.2.0', { key: 'Release Signer' });
      await index(dir);
      await requestCheck(kube, ns, 'web');
      await waitForAv(
        kube,
        ns,
        'web',
        'trusted 3.2.0',
        (o) =>
          o.status?.trustedDigest !== first.status?.trustedDigest && condition(o, 'Ready')?.status === 'True',
        90_000,
      );
      expect((await trustedAv('web')).status?.trustedDigest).toBe(await sha256(v320));
      await pinnedTo('3.2.0');

      await publish(dir, 'web', '3.3.0', { key: 'Intruder' });
      await index(dir);
      await requestCheck(kube, ns, 'web');
      const untrusted = await waitForAv(
        kube,
        ns,
        'web',
        '3.3.0 judged',
        (o) =>
          o.status?.artifact?.tag === '3.3.0' && judged(o) && condition(o, 'Verified')?.status === 'False',
        90_000,
      );
      expect(untrusted.status?.trustedDigest).toBe(await sha256(v320));
      // docs/holds.md: a range stays pinned to the verified version; no suspend needed while pinned.
      const after = await readFlux('HelmChart', 'web');
      expect(after.spec.version).toBe('3.2.0');
      expect(after.metadata.annotations?.['tagguard.dev/held-by']).toBeDefined();
    },
  );

  it(
    'sourceRef HelmRepository (type default): one child per consumer, only the mutated chart’s consumers held',
    { timeout: 300_000 },
    async () => {
      const dir = repoDir('fan');
      const orders = await publish(dir, 'orders', '2.0.0', { key: 'Release Signer' });
      await publish(dir, 'users', '2.0.0', { key: 'Release Signer' });
      await index(dir);
      await kube.applyAll([
        helmRepository('fan', `${plain.url}/fan`),
        helmRelease('orders', 'orders', '2.0.0', 'fan'),
        helmRelease('users', 'users', '2.0.0', 'fan'),
      ]);
      await guard('fan', { kind: 'HelmRepository', name: 'fan' }, { action: 'Suspend' });
      const consumer = (name: string) => ({ kind: 'HelmRelease' as const, namespace: ns, name });
      const ordersChild = childName('fan', consumer('orders'));
      const usersChild = childName('fan', consumer('users'));
      await trustedAv(ordersChild);
      await trustedAv(usersChild);
      const parent = await waitForAv(
        kube,
        ns,
        'fan',
        'charts trusted',
        (o) => (o.status?.charts ?? []).filter((c) => c.verdict === 'Trusted').length === 2,
      );
      expect(parent.status?.chartCounts).toMatchObject({ trusted: 2 });

      await rm(orders);
      await copyFile(await publish(join(base, 'fan-evil'), 'orders', '2.0.0', { malicious: true }), orders);
      await index(dir);
      await requestCheck(kube, ns, ordersChild);
      await heldAv(ordersChild);
      expect(isHeld(await readFlux('HelmRelease', 'orders'))).toBe(true);
      await requestCheck(kube, ns, usersChild);
      await trustedAv(usersChild);
      expect(untouched(await readFlux('HelmRelease', 'users'))).toBe(true);
      const children = await kube.objects.list(
        AV_API,
        'ArtifactVerification',
        ns,
        undefined,
        undefined,
        undefined,
        undefined,
        'tagguard.dev/parent=fan',
      );
      expect(children.items.map((c) => c.metadata?.name).sort()).toEqual([ordersChild, usersChild].sort());
    },
  );

  it(
    'polls one index.yaml per interval for N CRs on one repository, answered 304 while unchanged',
    { timeout: 300_000 },
    async () => {
      const N = 6;
      const dir = repoDir('poll');
      for (let i = 0; i < N; i++) await publish(dir, `svc${i}`, '1.0.0', { key: 'Release Signer' });
      await index(dir);
      await kube.apply(helmRepository('poll', `${plain.url}/poll`));
      for (let i = 0; i < N; i++) {
        await kube.apply(helmChart(`svc${i}`, `svc${i}`, '1.0.0', 'poll'));
        await guard(`svc${i}`, { kind: 'HelmChart', name: `svc${i}` });
      }
      for (let i = 0; i < N; i++) await trustedAv(`svc${i}`);
      // A quiet window of several intervals (10 s) once every CR is trusted.
      // Validators read within 5 s of the files' mtime are not used (racy, helm-repositories.ts): one
      // interval of warm-up, in which each key reads its archive and the index once more, unconditionally.
      await new Promise((resolve) => setTimeout(resolve, 12_000));
      const metricsBefore = await indexPollMetrics();
      const before = (await plain.accessLog()).length;
      const windowMs = 45_000;
      await new Promise((resolve) => setTimeout(resolve, windowMs));
      const log = (await plain.accessLog()).slice(before);
      const gets = indexGets(log, '/poll');
      const metricsAfter = await indexPollMetrics();
      const archives = log.filter((e) => e.uri.startsWith('/poll/svc') && e.uri.endsWith('.tgz'));
      const full = indexGets(await plain.accessLog(), '/poll').find((g) => g.status === 200);
      console.log(
        `[helm-http] ${N} CRs, ${windowMs / 1000}s: ${gets.length} index GETs (${gets.map((g) => g.status).join(',')}, ${gets.reduce((s, g) => s + g.bytesSent, 0)} body bytes); ${archives.length} archive looks (${archives.reduce((s, g) => s + g.bytesSent, 0)} body bytes); an unconditional index GET: 200, ${full?.bytesSent ?? 0} bytes`,
      );
      // Each of the N keys ticks every 9.5-10.5 s; an index younger than indexMaxAge (8.5 s) answers the
      // others: at most one GET per 8 s (not N per tick), and at least one per 18 s.
      expect(gets.length).toBeLessThanOrEqual(Math.ceil(windowMs / 8_000));
      expect(gets.length).toBeGreaterThanOrEqual(Math.floor(windowMs / 18_000));
      expect(gets.every((g) => g.status === 304 && g.bytesSent === 0)).toBe(true);
      // Each chart's archive is looked at once per tick of its key, conditionally: 304, no body.
      expect(archives.length).toBeGreaterThanOrEqual(N * Math.floor(windowMs / 10_000));
      expect(archives.every((g) => g.status === 304 && g.bytesSent === 0)).toBe(true);
      // The metric counts the same GETs (every index of this nginx: other cases' repositories too).
      const index304 = log.filter((e) => e.uri.endsWith('/index.yaml') && e.status === 304).length;
      const delta = (key: string): number => (metricsAfter[key] ?? 0) - (metricsBefore[key] ?? 0);
      expect(Math.abs(delta('unchanged') - index304)).toBeLessThanOrEqual(2);
      expect(delta('changed')).toBe(0);
      expect(delta('error')).toBe(0);
      expect(delta('bytes')).toBe(0);
    },
  );
});
