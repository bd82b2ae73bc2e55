// Every complete manifest (a YAML block with apiVersion and kind) in the README and docs/ is accepted by
// the test API server (kubectl apply --dry-run=server), so the documentation cannot drift from the CRD.
import { describe, expect, inject, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { KubeTestClient } from '../../env/kube.ts';
import { projectRoot } from '../../env/paths.ts';
import { kubectl } from '../crd/kubectl.ts';

const env = inject('testEnv');

const documents = [
  'README.md',
  ...readdirSync(join(projectRoot, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

interface Manifest {
  readonly file: string;
  readonly text: string;
  readonly namespaces: readonly string[];
}

const manifests: Manifest[] = documents.flatMap((file) =>
  [...readFileSync(join(projectRoot, file), 'utf8').matchAll(/```yaml\n([\s\S]*?)```/g)].flatMap(
    ([, block]) => {
      const docs = loadAll(block ?? '') as ({
        apiVersion?: string;
        kind?: string;
        metadata?: { namespace?: string };
      } | null)[];
      const complete = docs.filter((d) => d?.apiVersion && d.kind);
      if (complete.length === 0) return [];
      return [
        {
          file,
          text: block ?? '',
          namespaces: [
            ...new Set(complete.flatMap((d) => (d?.metadata?.namespace ? [d.metadata.namespace] : []))),
          ],
        },
      ];
    },
  ),
);

describe('manifests in the documentation', () => {
  it('exist (the README shows one per source kind)', () => {
    expect(manifests.filter((m) => m.file === 'README.md').length).toBeGreaterThanOrEqual(4);
  });

  it.each(manifests.map((m, i) => [`${m.file} #${i + 1}`, m] as const))(
    '%s applies with --dry-run=server',
    async (_name, manifest) => {
      const kube = KubeTestClient.fromFile(env.kubeconfig);
      for (const name of manifest.namespaces)
        await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
      const file = join(mkdtempSync(join(tmpdir(), 'tagguard-docs-')), 'manifest.yaml');
      writeFileSync(file, manifest.text);
      const result = await kubectl(env.kubeconfig, [
        'apply',
        '--dry-run=server',
        '-n',
        manifest.namespaces[0] ?? 'default',
        '-f',
        file,
      ]);
      expect(result.exitCode, `${result.stderr}\n${manifest.text}`).toBe(0);
    },
  );
});
