// Parsing of rendered and raw templates: multi-document, List kinds, merge keys, duplicate keys,
// non-Kubernetes documents, alias bombs.
import { describe, expect, it } from 'vitest';
import { parseManifests, parseManifestsLeniently } from '../../src/scan/manifests.ts';
import { defaultScanLimits } from '../../src/scan/limits.ts';
import { evaluateRules } from '../../src/scan/rules/evaluate-rules.ts';
import { staticTemplates } from '../../src/scan/helm/static-templates.ts';
import type { ScanErrorCode } from '../../src/scan/errors.ts';

const billionLaughs = [
  'apiVersion: v1',
  'kind: ConfigMap',
  'metadata: {name: lol}',
  'data:',
  '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...'bcdefghi'.split('').map((c, i) => `  ${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
].join('\n');

const codeOf = (run: () => unknown): ScanErrorCode | 'ok' => {
  try {
    run();
    return 'ok';
  } catch (error) {
    return (error as { code: ScanErrorCode }).code;
  }
};

describe('parseManifests', () => {
  it('reads every document, flattens List kinds and ignores what is not a Kubernetes object', () => {
    const text = [
      '# Source: x/templates/a.yaml',
      'apiVersion: v1\nkind: Service\nmetadata: {name: a}',
      'just: data',
      '',
      'apiVersion: v1\nkind: List\nitems:\n  - {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n  - {apiVersion: v1, kind: Secret, metadata: {name: c}}',
      '- a list',
    ].join('\n---\n');
    expect(
      parseManifests(text, defaultScanLimits).map((o) => `${o.kind}/${String(o.metadata?.name)}`),
    ).toEqual(['Service/a', 'ConfigMap/b', 'Secret/c']);
  });

  it('applies merge keys, so a field hidden behind `<<` is still seen', () => {
    const text = `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - name: c
      image: x
      securityContext:
        <<: &evil {privileged: true}`;
    expect(evaluateRules(parseManifests(text, defaultScanLimits)).map((f) => f.rule)).toContain(
      'privileged-container',
    );
  });

  it('resolves duplicate keys last-wins, as sigs.k8s.io/yaml (go-yaml v2) decodes them', () => {
    const text = `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  hostPID: false
  hostPID: true
  containers: []`;
    expect(evaluateRules(parseManifests(text, defaultScanLimits)).map((f) => f.rule)).toEqual(['host-pid']);
  });

  it('refuses a billion-laughs document by its alias count, quickly, strict or lenient', () => {
    const started = performance.now();
    expect(codeOf(() => parseManifests(billionLaughs, defaultScanLimits))).toBe('YamlTooManyAliases');
    expect(codeOf(() => parseManifestsLeniently(billionLaughs, defaultScanLimits))).toBe(
      'YamlTooManyAliases',
    );
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it("reads YAML 1.1 booleans as the API server's decoder does: privileged: yes is privileged", () => {
    const text = `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  hostNetwork: on
  containers:
    - {name: c, image: x, securityContext: {privileged: yes}}`;
    expect(evaluateRules(parseManifests(text, defaultScanLimits)).map((f) => f.rule)).toEqual(
      expect.arrayContaining(['privileged-container', 'host-network']),
    );
  });

  it('stops at the object cap document by document (TooManyObjects), and at the byte cap (OutputTooLarge)', () => {
    const pods = 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n---\n'.repeat(50);
    const limits = { ...defaultScanLimits, maxObjects: 10 };
    expect(codeOf(() => parseManifests(pods, limits))).toBe('TooManyObjects');
    expect(codeOf(() => parseManifests(pods, { ...defaultScanLimits, maxRenderedBytes: 100 }))).toBe(
      'OutputTooLarge',
    );
    const nested = `apiVersion: v1\nkind: List\nitems: [${'{apiVersion: v1, kind: Pod}, '.repeat(20)}]`;
    expect(codeOf(() => parseManifests(nested, limits))).toBe('TooManyObjects');
  });

  it('caps the YAML nodes of a whole render (YamlTooManyNodes), not just of one document', () => {
    const flow = `a: [${'{b: 1}, '.repeat(1000)}]\n---\n`.repeat(10);
    const limits = { ...defaultScanLimits, maxYamlNodes: 5000, maxTotalYamlNodes: 10_000 };
    expect(codeOf(() => parseManifests(flow, limits))).toBe('YamlTooManyNodes');
    expect(codeOf(() => parseManifests(flow, { ...limits, maxTotalYamlNodes: 100_000 }))).toBe('ok');
  });

  it('refuses output that is not UTF-8', () => {
    expect(codeOf(() => parseManifests(Buffer.from([0x61, 0x3a, 0x20, 0xff]), defaultScanLimits))).toBe(
      'InvalidYaml',
    );
  });

  it('refuses output that is not YAML', () => {
    expect(codeOf(() => parseManifests('a: [unclosed', defaultScanLimits))).toBe('InvalidYaml');
  });

  it('parses raw templates leniently: actions removed, unparsable documents skipped', () => {
    const template = `{{- if .Values.enabled }}
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: {{ include "x.fullname" . }}
  labels:
    {{- include "x.labels" . | nindent 4 }}
spec:
  template:
    spec:
      {{/* a comment
           over lines */}}
      hostNetwork: true
      containers:
        - name: agent
          image: "{{ .Values.image }}"
{{- end }}
---
this: is: not: yaml: {{ .Values.broken }`;
    const chart = {
      name: 'x',
      version: '1',
      directory: 'x',
      files: new Map([
        ['templates/ds.yaml', Buffer.from(template)],
        ['templates/_helpers.tpl', Buffer.from('{{ define "x" }}kind: Pod{{ end }}')],
      ]),
    };
    const texts = [...staticTemplates(chart)];
    expect(texts.map((t) => t.path)).toEqual(['templates/ds.yaml']);
    const objects = texts.flatMap((t) => parseManifestsLeniently(t.text, defaultScanLimits));
    expect(objects.map((o) => o.kind)).toEqual(['DaemonSet']);
    expect(evaluateRules(objects).map((f) => `${f.rule} ${f.resource}`)).toEqual([
      'host-network DaemonSet/templated',
      'image-not-pinned DaemonSet/templated',
    ]);
  });
});
