// The real operator (`tagguard run`, a child process) under what the chart installs: authenticated as the
// chart's ServiceAccount (so only the chart's RBAC decides what it may do), with the chart's args, reading
// the webhook Secret the chart created. It must reach Ready, and its /metrics must export every metric
// family the Grafana dashboard queries.
import { mkdir, mkdtemp } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { V1Deployment } from '@kubernetes/client-node';
import { parseManifests } from '../../env/kube.ts';
import { projectRoot } from '../../env/paths.ts';
import { runTool } from '../../env/run-tool.ts';
import { writeKubeconfig } from '../../env/control-plane.ts';
import { issueCertificate } from '../../env/pki.ts';
import { ProcessSupervisor, waitFor } from '../../env/processes.ts';
import { freePort } from '../../env/ports.ts';
import { startOperatorProcess, type OperatorProcess } from '../../env/operator-process.ts';
import { kubectl } from '../crd/kubectl.ts';

const env = inject('testEnv');
const CHART = join(projectRoot, 'charts', 'tagguard');
const suffix = randomBytes(3).toString('hex');
// Short: the certificate CN system:serviceaccount:<namespace>:<name> may not exceed 64 characters.
const namespace = `tg-run-${suffix}`;
const release = `run${suffix}`;
const serviceAccount = `${release}-tagguard`;

const helmHome = await mkdtemp(join(tmpdir(), 'tagguard-helm-'));
const helm = (args: readonly string[]) =>
  runTool('helm', [...args, '--kubeconfig', env.kubeconfig], {
    env: {
      HOME: helmHome,
      HELM_CONFIG_HOME: join(helmHome, 'config'),
      HELM_CACHE_HOME: join(helmHome, 'cache'),
      HELM_DATA_HOME: join(helmHome, 'data'),
    },
  });

const supervisorDir = join(env.runDir, `chart-run-${suffix}`);
await mkdir(supervisorDir, { recursive: true });
const supervisor = new ProcessSupervisor(supervisorDir);
let operator: OperatorProcess;
let webhookPort: number;

beforeAll(async () => {
  expect((await kubectl(env.kubeconfig, ['create', 'namespace', namespace])).exitCode).toBe(0);
  webhookPort = await freePort();
  const values = [
    '--set',
    `watchNamespace=${namespace}`,
    '--set',
    `leaderElection.id=${release}-leader`,
    '--set',
    'objectMetrics=unhealthy',
    '--set',
    'webhook.enabled=true',
    '--set',
    `webhook.port=${webhookPort}`,
    '--set',
    `webhook.secret.token=${randomBytes(16).toString('hex')}`,
  ];
  await helm(['install', release, CHART, '--namespace', namespace, '--skip-crds', '--wait=false', ...values]);
  const rendered = parseManifests(
    (await helm(['get', 'manifest', release, '--namespace', namespace])).stdout,
  );
  const deployment = rendered.find((o): o is V1Deployment => o.kind === 'Deployment');
  const [command, ...args] = deployment?.spec?.template.spec?.containers[0]?.args ?? [];
  expect(command).toBe('run');
  // The helper picks free metrics and health ports; everything else is the chart's. The Lease lives in the
  // release namespace, where the chart's Role grants it (in a Pod, POD_NAMESPACE says so).
  const chartArgs = args.filter((a) => !a.startsWith('--metrics-addr=') && !a.startsWith('--health-addr='));
  expect(chartArgs).toContain('--leader-elect');
  // A client certificate for the chart's ServiceAccount user: RBAC binds it exactly as it binds the Pod's token.
  const dir = await mkdtemp(join(tmpdir(), 'tagguard-chart-identity-'));
  const cert = await issueCertificate({ ...env.kubeCa, certPem: '' }, dir, 'chart-operator', {
    subject: `/O=system:serviceaccounts/O=system:serviceaccounts:${namespace}/CN=system:serviceaccount:${namespace}:${serviceAccount}`,
    usage: 'client',
  });
  const kubeconfig = await writeKubeconfig(
    { server: env.apiServer, ca: { ...env.kubeCa, certPem: '' } },
    cert,
    join(dir, 'kubeconfig'),
  );
  operator = await startOperatorProcess(supervisor, {
    name: `chart-${suffix}`,
    kubeconfig,
    extraArgs: [...chartArgs, `--leader-election-namespace=${namespace}`],
  });
});

afterAll(async () => {
  await operator?.kill('SIGTERM').catch(() => undefined);
  await supervisor.stopAll();
  await helm(['uninstall', release, '--namespace', namespace]).catch(() => undefined);
  await kubectl(env.kubeconfig, ['delete', 'namespace', namespace, '--wait=false']);
});

describe('tagguard run with the chart identity and args', () => {
  it('is Ready as the leader of its own Lease, in the release namespace', async () => {
    // Ready does not imply leadership (a standby is ready too): wait for the Lease to name this instance.
    const holder = await waitFor(
      `Lease ${release}-leader held`,
      async () => {
        const lease = await kubectl(env.kubeconfig, [
          'get',
          'lease',
          `${release}-leader`,
          '-n',
          namespace,
          '-o',
          'json',
        ]);
        if (lease.exitCode !== 0) return undefined;
        const identity = (JSON.parse(lease.stdout) as { spec: { holderIdentity?: string } }).spec
          .holderIdentity;
        return identity === operator.identity ? identity : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${operator.logTail()}`);
    });
    expect(holder).toBe(operator.identity);
  });

  it("answers push notifications with the chart's Secret (a wrong token is 401, not 503)", async () => {
    const res = await fetch(`http://127.0.0.1:${webhookPort}/webhook/distribution`, {
      method: 'POST',
      headers: { authorization: 'Bearer wrong-token-0123456789', 'content-type': 'application/json' },
      body: '{"events":[]}',
    });
    expect(res.status, operator.logTail()).toBe(401);
  });

  it('exports every metric family the Grafana dashboard queries', async () => {
    const text = await operator.metrics();
    const exported = new Set<string>();
    for (const [, name, kind] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      exported.add(name ?? '');
      if (kind === 'histogram' || kind === 'summary')
        for (const part of ['_bucket', '_sum', '_count']) exported.add(`${name}${part}`);
    }
    const dashboard = readFileSync(join(projectRoot, 'config', 'grafana', 'tagguard.json'), 'utf8');
    const queried = new Set([...dashboard.matchAll(/\b(tagguard_[a-zA-Z0-9_]+)/g)].map((m) => m[1] ?? ''));
    expect(queried.size).toBeGreaterThan(10);
    expect([...queried].filter((name) => !exported.has(name))).toEqual([]);
  });
});
