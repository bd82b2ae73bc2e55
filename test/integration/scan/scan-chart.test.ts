// scanChart with the pinned helm binary over charts generated and packaged by helm at run time: the seed
// scenario, values-dependent templates, subcharts, library charts, exceptions, and templates that never
// terminate or eat memory (killed, with helm's whole process group).
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { scanChart } from '../../../src/scan/scan-chart.ts';
import type { ScanSpec } from '../../../src/api/artifact-verification.ts';
import type { ScanErrorCode } from '../../../src/scan/errors.ts';
import type { ScanOptions } from '../../../src/scan/types.ts';
import { packageChart, type ChartOptions } from '../../env/charts.ts';
import { toolPath } from '../../env/paths.ts';
import { createToolHome, type ToolHome } from '../../env/tool-home.ts';
import { scanInChild } from '../../scan/support/scan-in-child.ts';

const env = inject('testEnv');
const MEMORY_BOUND = 300 * 1024 * 1024;

const debugDaemonSet = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: {{ .Release.Name }}-agent
spec:
  template:
    spec:
      {{- if .Values.debug.enabled }}
      hostPID: true
      {{- end }}
      containers:
        - name: agent
          image: "{{ .Values.image }}"
          securityContext:
            {{- toYaml .Values.agent.securityContext | nindent 12 }}
`;

const socketDaemonSet = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: log-shipper
  namespace: {{ .Release.Namespace }}
spec:
  template:
    spec:
      volumes:
        - name: docker
          hostPath: {path: /var/run/docker.sock}
      containers:
        - name: shipper
          image: registry.example.com/shipper@sha256:${'1'.repeat(64)}
          securityContext: {runAsNonRoot: true}
`;

const rulesOf = (findings: readonly { rule: string }[]): string[] =>
  [...new Set(findings.map((f) => f.rule))].sort();

describe('scanChart with helm', () => {
  let home: ToolHome;
  let helm: string;
  const chart = async (options: ChartOptions): Promise<Buffer> =>
    readFile(await packageChart(home, home.dir, options));
  const scan = async (options: ChartOptions, spec: ScanSpec = {}, scanOptions: ScanOptions = {}) =>
    scanChart(await chart(options), spec, { helmBinary: helm, ...scanOptions });

  beforeAll(async () => {
    home = await createToolHome(env);
    helm = toolPath('helm');
  });

  it('passes the good chart and catches its re-push with a privileged init container', async () => {
    const good = await scan({});
    expect(good.rendered).toBe(true);
    expect(good.chart).toEqual({ name: 'payment', version: '3.1.0' });
    expect(good.findings).toEqual([]);
    expect(good.failed).toBe(false);

    const poisoned = await scan({ maliciousInitContainer: true });
    expect(poisoned.failed).toBe(true);
    expect(poisoned.reasons).toEqual(['FindingsAtFailOn']);
    expect(poisoned.findings[0]).toMatchObject({
      rule: 'privileged-container',
      severity: 'critical',
      resource: 'Deployment/payment',
      path: 'spec.template.spec.initContainers[0].securityContext.privileged',
    });
  });

  it('scans with the consumer values: a template dangerous only with certain values', async () => {
    const options: ChartOptions = {
      templates: { 'agent.yaml': debugDaemonSet },
      extraValues: `debug: {enabled: false}\nagent:\n  securityContext: {runAsNonRoot: true}`,
    };
    const archive = await chart(options);
    const defaults = await scanChart(archive, {}, { helmBinary: helm });
    expect(rulesOf(defaults.findings)).toEqual([]);

    const consumer = { debug: { enabled: true }, agent: { securityContext: { privileged: true } } };
    const withConsumerValues = await scanChart(archive, {}, { helmBinary: helm, values: consumer });
    expect(rulesOf(withConsumerValues.findings)).toEqual(['host-pid', 'privileged-container']);
    expect(withConsumerValues.findings.find((f) => f.rule === 'host-pid')?.resource).toBe(
      'DaemonSet/payment-agent',
    );

    // spec.helm.values sit under the consumer's values: the consumer wins.
    const layered = await scanChart(
      archive,
      { helm: { values: { debug: { enabled: true } } } },
      { helmBinary: helm, values: { debug: { enabled: false } } },
    );
    expect(rulesOf(layered.findings)).toEqual([]);
    expect(
      rulesOf(
        (await scanChart(archive, { helm: { values: { debug: { enabled: true } } } }, { helmBinary: helm }))
          .findings,
      ),
    ).toEqual(['host-pid']);
  });

  it('renders subcharts under charts/, packaged and vendored as directories', async () => {
    const result = await scan(
      {
        subcharts: [
          { name: 'shipper', templates: { 'ds.yaml': socketDaemonSet } },
          {
            name: 'rbac',
            packaged: false,
            templates: {
              'crb.yaml': `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: everything}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: default, namespace: default}]
`,
            },
          },
        ],
      },
      {},
      { namespace: 'logging' },
    );
    expect(result.findings.map((f) => `${f.rule} ${f.resource}`)).toEqual([
      'cluster-admin-binding ClusterRoleBinding/everything',
      'container-runtime-socket logging/DaemonSet/log-shipper',
      'host-path-volume logging/DaemonSet/log-shipper',
    ]);
  });

  it('follows named templates from a library chart into the parent', async () => {
    const result = await scan({
      withoutDeployment: true,
      templates: { 'pod.yaml': '{{ include "lib.pod" . }}\n' },
      subcharts: [
        {
          name: 'lib',
          type: 'library',
          templates: {
            '_pod.tpl': `{{- define "lib.pod" -}}
apiVersion: v1
kind: Pod
metadata: {name: {{ .Release.Name }}-debug}
spec:
  hostNetwork: true
  containers:
    - {name: shell, image: "busybox@sha256:${'2'.repeat(64)}", securityContext: {runAsNonRoot: true}}
{{- end -}}`,
          },
        },
      ],
    });
    expect(result.findings.map((f) => `${f.rule} ${f.resource} ${f.path}`)).toEqual([
      'host-network Pod/payment-debug spec.hostNetwork',
    ]);
  });

  it('applies exceptions and the failOn threshold', async () => {
    const archive = await chart({ maliciousInitContainer: true });
    const excepted = await scanChart(
      archive,
      { helm: { exceptions: [{ rule: 'privileged-container', resource: 'Deployment/payment' }] } },
      { helmBinary: helm },
    );
    expect(excepted.suppressed).toBe(1);
    expect(rulesOf(excepted.findings)).toEqual(['image-not-pinned']);
    expect(excepted.failed).toBe(false);
    const strict = { failOn: 'low' as const, helm: { exceptions: [{ rule: 'privileged-container' }] } };
    expect((await scanChart(archive, strict, { helmBinary: helm })).failed).toBe(true);
    expect((await scanChart(archive, { failOn: 'none' }, { helmBinary: helm })).failed).toBe(false);
  });

  it('reports a failing template as RenderFailed, and a disabled helm scan as nothing to do', async () => {
    const broken = await chart({ templates: { 'bad.yaml': '{{ fail "refusing to render" }}\n' } });
    await expect(scanChart(broken, {}, { helmBinary: helm })).rejects.toMatchObject({
      code: 'RenderFailed' satisfies ScanErrorCode,
    });
    const disabled = await scanChart(broken, { helm: { enabled: false } }, { helmBinary: helm });
    expect(disabled).toMatchObject({ rendered: false, findings: [], failed: false });
  });

  it('refuses release names, namespaces and versions that helm could read as flags', async () => {
    const archive = await chart({});
    for (const options of [
      { releaseName: '--post-renderer=/bin/sh' },
      { namespace: '--kubeconfig=/etc/x' },
      { kubeVersion: '-1' },
    ]) {
      await expect(scanChart(archive, {}, { helmBinary: helm, ...options })).rejects.toMatchObject({
        code: 'InvalidRenderOptions' satisfies ScanErrorCode,
      });
    }
  });

  it('passes --kube-version to helm', async () => {
    const archive = await chart({
      withoutDeployment: true,
      templates: {
        'v.yaml': `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  {{- if semverCompare ">=1.34.0-0" .Capabilities.KubeVersion.Version }}
  hostIPC: true
  {{- end }}
  containers: []
`,
      },
    });
    expect(
      rulesOf((await scanChart(archive, {}, { helmBinary: helm, kubeVersion: '1.34.0' })).findings),
    ).toEqual(['host-ipc']);
    expect(
      rulesOf((await scanChart(archive, {}, { helmBinary: helm, kubeVersion: '1.30.0' })).findings),
    ).toEqual([]);
  });

  describe('runaway templates, in a separate process', () => {
    const renderProcesses = async (marker: string): Promise<number> => {
      let count = 0;
      for (const pid of await readdir('/proc')) {
        if (!/^\d+$/.test(pid)) continue;
        const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
        if (cmdline.includes('tagguard-render-') && cmdline.includes(marker)) count++;
      }
      return count;
    };

    it('kills a template that never terminates (RenderTimeout) with its process group', async () => {
      const file = await packageChart(home, home.dir, {
        name: 'spinner',
        withoutDeployment: true,
        templates: {
          'spin.yaml':
            '{{- range $i := until 100000 }}{{- range $j := until 100000 }}{{- end }}{{- end }}\nkind: X\n',
        },
      });
      const report = await scanInChild(file, helm, '2000');
      expect(report.code).toBe('RenderTimeout');
      expect(report.elapsedMs).toBeLessThan(10_000);
      expect(report.maxRssBytes).toBeLessThan(MEMORY_BOUND);
      expect(report.helmPeakRssBytes).toBeGreaterThan(0);
      expect(report.helmPeakRssBytes).toBeLessThan(MEMORY_BOUND);
      expect(await renderProcesses('spinner')).toBe(0);
    });

    it('kills a template that eats memory (RenderMemoryExceeded)', async () => {
      const file = await packageChart(home, home.dir, {
        name: 'hog',
        withoutDeployment: true,
        templates: {
          'hog.yaml':
            '{{- $x := "aaaaaaaaaaaaaaaa" }}{{- range until 30 }}{{- $x = print $x $x }}{{- end }}\nkind: X\ndata: {{ len $x }}\n',
        },
      });
      const report = await scanInChild(file, helm, '20000');
      expect(report.code).toBe('RenderMemoryExceeded');
      expect(report.maxRssBytes).toBeLessThan(MEMORY_BOUND);
      expect(await renderProcesses('hog')).toBe(0);
    });

    it('stops output beyond the cap (OutputTooLarge) and a billion-laughs document (helm refuses it, or InvalidYaml)', async () => {
      const flood = await packageChart(home, home.dir, {
        name: 'flood',
        withoutDeployment: true,
        templates: {
          'flood.yaml':
            'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: flood}\ndata: {x: "{{ repeat 3000000 "x" }}"}\n',
        },
      });
      const floodReport = await scanInChild(flood, helm, '20000', { maxRenderedBytes: 2 * 1024 * 1024 });
      expect(floodReport.code).toBe('OutputTooLarge');
      expect(floodReport.maxRssBytes).toBeLessThan(MEMORY_BOUND);

      const laughs = join(home.dir, 'laughs.yaml');
      await writeFile(
        laughs,
        `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n${'bcdefghi'
          .split('')
          .map((c, i) => `  ${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`)
          .join('\n')}\n`,
      );
      const lol = await packageChart(home, home.dir, {
        name: 'lol',
        withoutDeployment: true,
        templates: { 'lol.yaml': await readFile(laughs, 'utf8') },
      });
      const lolReport = await scanInChild(lol, helm, '20000');
      expect(['InvalidYaml', 'RenderFailed']).toContain(lolReport.code);
      expect(lolReport.maxRssBytes).toBeLessThan(MEMORY_BOUND);
    });
  });
});
