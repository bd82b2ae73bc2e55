// Benchmark: scanning a chart of real-world size (≥ 60 templates across a parent chart and packaged
// subcharts, generated here) with tagguard against `helm template` alone on the same archive, run side by
// side and interleaved. Reports medians, the ratio, and how much tagguard adds on top of helm's own
// rendering (target: at most 30%). No absolute asserts. Usage: node bench/scan.ts [runs]
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanChart } from '../src/scan/scan-chart.ts';
import { toolPath } from '../test/env/paths.ts';
import { runTool } from '../test/env/run-tool.ts';

const RUNS = Number(process.argv[2] ?? 10);
const COMPONENTS = 8;
const SUBCHARTS = 4;

const helpers = (chart: string): string => `{{- define "${chart}.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.Version | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}
{{- define "${chart}.fullname" -}}
{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
`;

const workload = (chart: string, component: string, kind = 'Deployment'): string => `apiVersion: apps/v1
kind: ${kind}
metadata:
  name: {{ include "${chart}.fullname" . }}-${component}
  labels:
    {{- include "${chart}.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels: {app: ${component}}
  template:
    metadata:
      labels:
        app: ${component}
        {{- include "${chart}.labels" . | nindent 8 }}
      annotations:
        checksum/config: {{ print .Values | sha256sum }}
    spec:
      serviceAccountName: {{ include "${chart}.fullname" . }}
      securityContext: {runAsNonRoot: true, runAsUser: 1000, fsGroup: 2000}
      initContainers:
        - name: migrate
          image: "{{ .Values.image.repository }}/${component}-migrate@{{ .Values.image.digest }}"
          securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true}
      containers:
        - name: ${component}
          image: "{{ .Values.image.repository }}/${component}@{{ .Values.image.digest }}"
          ports:
            {{- range .Values.ports }}
            - {name: {{ .name }}, containerPort: {{ .port }}}
            {{- end }}
          env:
            {{- range $k, $v := .Values.env }}
            - {name: {{ $k }}, value: {{ $v | quote }}}
            {{- end }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          securityContext:
            allowPrivilegeEscalation: false
            capabilities: {drop: [ALL]}
          volumeMounts:
            - {name: config, mountPath: /etc/${component}}
      volumes:
        - name: config
          configMap: {name: {{ include "${chart}.fullname" . }}-${component}}
`;

const service = (chart: string, component: string): string => `apiVersion: v1
kind: Service
metadata:
  name: {{ include "${chart}.fullname" . }}-${component}
  labels:
    {{- include "${chart}.labels" . | nindent 4 }}
spec:
  selector: {app: ${component}}
  ports:
    {{- range .Values.ports }}
    - {name: {{ .name }}, port: {{ .port }}, targetPort: {{ .name }}}
    {{- end }}
`;

const configMap = (chart: string, component: string): string => `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "${chart}.fullname" . }}-${component}
data:
  config.yaml: |
    {{- toYaml .Values.config | nindent 4 }}
`;

const rbac = (chart: string): Record<string, string> => ({
  'serviceaccount.yaml': `apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {{ include "${chart}.fullname" . }}\n`,
  'role.yaml': `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ include "${chart}.fullname" . }}
rules:
  - {apiGroups: [""], resources: [configmaps, pods], verbs: [get, list, watch]}
`,
  'rolebinding.yaml': `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ include "${chart}.fullname" . }}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: {{ include "${chart}.fullname" . }}}
subjects: [{kind: ServiceAccount, name: {{ include "${chart}.fullname" . }}}]
`,
  'pdb.yaml': `apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "${chart}.fullname" . }}
spec: {minAvailable: 1, selector: {matchLabels: {app.kubernetes.io/instance: {{ .Release.Name }}}}}
`,
});

const values = `replicas: 2
image: {repository: registry.example.com/platform, digest: "sha256:${'c'.repeat(64)}"}
ports: [{name: http, port: 8080}, {name: metrics, port: 9090}, {name: grpc, port: 9000}]
env: {LOG_LEVEL: info, REGION: eu-west-1, FEATURE_A: "true", FEATURE_B: "false", TIMEOUT: "30s"}
resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: "1", memory: 512Mi}}
config: {server: {port: 8080, timeouts: {read: 30s, write: 30s}}, db: {pool: 20, host: db.internal}}
`;

const writeChart = async (dir: string, name: string, templates: Record<string, string>): Promise<void> => {
  await mkdir(join(dir, 'templates'), { recursive: true });
  await writeFile(join(dir, 'Chart.yaml'), `apiVersion: v2\nname: ${name}\nversion: 1.0.0\n`);
  await writeFile(join(dir, 'values.yaml'), values);
  await writeFile(join(dir, 'templates', '_helpers.tpl'), helpers(name));
  for (const [file, content] of Object.entries(templates))
    await writeFile(join(dir, 'templates', file), content);
};

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};

const dir = await mkdtemp(join(tmpdir(), 'tagguard-bench-scan-'));
try {
  const env = {
    HOME: dir,
    HELM_CACHE_HOME: join(dir, 'cache'),
    HELM_CONFIG_HOME: join(dir, 'config'),
    HELM_DATA_HOME: join(dir, 'data'),
  };
  const parent = join(dir, 'src', 'platform');
  const parentTemplates: Record<string, string> = {};
  for (let i = 0; i < COMPONENTS; i++) {
    parentTemplates[`c${i}-deployment.yaml`] = workload(
      'platform',
      `c${i}`,
      i % 4 === 3 ? 'StatefulSet' : 'Deployment',
    );
    parentTemplates[`c${i}-service.yaml`] = service('platform', `c${i}`);
    parentTemplates[`c${i}-configmap.yaml`] = configMap('platform', `c${i}`);
  }
  await writeChart(parent, 'platform', { ...parentTemplates, ...rbac('platform') });
  for (let s = 0; s < SUBCHARTS; s++) {
    const name = `sub${s}`;
    const subDir = join(dir, 'src', name);
    await writeChart(subDir, name, {
      ...rbac(name),
      'api-deployment.yaml': workload(name, 'api'),
      'api-service.yaml': service(name, 'api'),
      'api-configmap.yaml': configMap(name, 'api'),
      'worker-deployment.yaml': workload(name, 'worker'),
      'worker-configmap.yaml': configMap(name, 'worker'),
      'cron.yaml': `apiVersion: batch/v1
kind: CronJob
metadata:
  name: {{ include "${name}.fullname" . }}-cleanup
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: cleanup
              image: "{{ .Values.image.repository }}/cleanup@{{ .Values.image.digest }}"
              securityContext: {runAsNonRoot: true, allowPrivilegeEscalation: false}
`,
    });
    await runTool('helm', ['package', subDir, '--destination', join(parent, 'charts')], { env });
  }
  await runTool('helm', ['package', parent, '--destination', dir], { env });
  const archivePath = join(dir, 'platform-1.0.0.tgz');
  const archive = await readFile(archivePath);
  const helm = toolPath('helm');
  const templateCount = Object.keys(parentTemplates).length + 4 + SUBCHARTS * 10;

  const helmMs: number[] = [];
  const tagguardMs: number[] = [];
  const renderMs: number[] = [];
  let findings = -1;
  let objects = 0;
  for (let run = -1; run < RUNS; run++) {
    // run -1 warms both paths (page cache, module compilation) and is not counted.
    const h = performance.now();
    const { stdout } = await runTool('helm', ['template', 'bench', archivePath, '--namespace', 'default'], {
      env,
    });
    const helmElapsed = performance.now() - h;
    objects = stdout.split(/^---$/m).length - 1;
    let render = 0;
    const t = performance.now();
    const result = await scanChart(
      archive,
      {},
      { helmBinary: helm, onRender: (s) => (render = s.durationMs) },
    );
    const tagguardElapsed = performance.now() - t;
    findings = result.findings.length;
    if (run < 0) continue;
    helmMs.push(helmElapsed);
    tagguardMs.push(tagguardElapsed);
    renderMs.push(render);
  }
  const helmMedian = median(helmMs);
  const tagguardMedian = median(tagguardMs);
  const ownMedian = median(tagguardMs.map((t, i) => t - (renderMs[i] ?? 0)));
  const result = {
    benchmark: 'scan',
    runs: RUNS,
    templates: templateCount,
    subcharts: SUBCHARTS,
    renderedObjects: objects,
    findings,
    helmTemplateMs: Number(helmMedian.toFixed(1)),
    tagguardScanMs: Number(tagguardMedian.toFixed(1)),
    ratio: Number((tagguardMedian / helmMedian).toFixed(3)),
    addedOverHelmPercent: Number((((tagguardMedian - helmMedian) / helmMedian) * 100).toFixed(1)),
    tagguardOwnMs: Number(ownMedian.toFixed(1)),
  };
  process.stdout.write(
    `scan: ${templateCount} templates (${SUBCHARTS} subcharts, ${objects} objects), median of ${RUNS}: ` +
      `helm template ${result.helmTemplateMs} ms, tagguard scan ${result.tagguardScanMs} ms ` +
      `(ratio ${result.ratio}, +${result.addedOverHelmPercent}% over helm; unpack+parse+rules ${result.tagguardOwnMs} ms; target ≤ +30%)\n`,
  );
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
