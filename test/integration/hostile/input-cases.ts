// Hostile templates, YAML, policies and references, each read by the tagguard command that takes it.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildTgz, chartEntries } from '../../scan/support/tar-builder.ts';
import type { CorpusCase, CorpusClass, CorpusContext } from './corpus-case.ts';

const write = async (ctx: CorpusContext, name: string, content: string | Buffer): Promise<string> => {
  const file = join(ctx.dir, name);
  await writeFile(file, content);
  return file;
};

/** A chart with these templates, and 1 MiB of random bytes beside them so that highly repetitive hostile
 * templates stay under the archive's compression-ratio limit and reach the stage they attack. */
const chart = (ctx: CorpusContext, templates: Record<string, string>): Promise<string> =>
  write(
    ctx,
    'chart.tgz',
    buildTgz([
      ...chartEntries('demo', templates),
      { name: 'demo/files/noise.bin', data: randomBytes(1024 * 1024) },
    ]),
  );

const billionLaughs = (indent = ''): string =>
  [
    `${indent}a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]`,
    ...'bcdefghi'
      .split('')
      .map((c, i) => `${indent}${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
  ].join('\n');

const policy = (spec: string): string =>
  `apiVersion: tagguard.dev/v1alpha1\nkind: ArtifactVerification\nmetadata: {name: p}\nspec:\n  artifact: {url: oci://example.invalid/c, tag: '1'}\n${spec}`;

const keyless = (subjectRegex: string): string =>
  policy(
    `  verify:\n    cosign:\n      - name: ci\n        keyless: {issuer: https://issuer.example, subjectRegex: ${JSON.stringify(subjectRegex)}}\n`,
  );

const make = (
  klass: CorpusClass,
  name: string,
  prepare: CorpusCase['prepare'],
  exit: number,
  code: string,
  extra: Partial<CorpusCase> = {},
): CorpusCase => ({ class: klass, name, prepare, exit, code, ...extra });

const scanChart =
  (templates: Record<string, string>, extra: string[] = [], helm = true) =>
  async (ctx: CorpusContext) => [
    'scan',
    await chart(ctx, templates),
    '--helm',
    helm ? ctx.helm : 'none',
    '--output',
    'json',
    ...extra,
  ];

const configMaps = (n: number): string =>
  `{{ range until ${n} }}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c{{ . }}}\n{{ end }}`;

const privilegedPod =
  'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: i, securityContext: {privileged: true}}]\n';

export const templateCases: readonly CorpusCase[] = [
  make(
    'template',
    'a render that loops past its time limit',
    scanChart({ 'loop.yaml': '{{ range until 20000 }}{{ range until 20000 }}{{ end }}{{ end }}' }, [
      '--timeout-ms',
      '3000',
    ]),
    2,
    'RenderTimeout',
  ),
  make(
    'template',
    'a template calling fail',
    scanChart({ 'f.yaml': '{{ fail "refused" }}' }),
    2,
    'RenderFailed',
  ),
  make(
    'template',
    '400,000 lines of rendered output (over the output cap)',
    scanChart({ 'big.yaml': '{{ range until 400000 }}# {{ printf "%0100d" 0 }}\n{{ end }}' }),
    2,
    'RenderMemoryExceeded',
  ),
  make(
    'template',
    '30,000 rendered objects (over the object cap)',
    scanChart({ 'many.yaml': configMaps(30_000) }),
    2,
    'TooManyObjects',
  ),
  make(
    'template',
    'a rendered ConfigMap with 500,000 flow-map keys',
    scanChart({
      'flow.yaml':
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: f}\ndata: { {{- range until 500000 }}k{{ . }}: v, {{ end -}} }\n',
    }),
    2,
    'RenderMemoryExceeded',
  ),
  make(
    'template',
    'a rendered billion-laughs document',
    scanChart({
      'lol.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n${billionLaughs('  ')}\n`,
    }),
    2,
    'RenderFailed',
  ),
  make(
    'template',
    'a privileged Pod rendered by helm',
    scanChart({ 'pod.yaml': privilegedPod }),
    1,
    'privileged-container',
  ),
  make(
    'template',
    'static scan: 1 MiB of "{{"',
    scanChart({ 'x.yaml': '{{'.repeat(512 * 1024) }, [], false),
    2,
    'YamlTooManyNodes',
    { maxMs: 10_000 },
  ),
  make(
    'template',
    'static scan: 1 MiB of unterminated comments',
    scanChart({ 'x.yaml': '{{/*'.repeat(256 * 1024) }, [], false),
    2,
    'YamlTooManyNodes',
    { maxMs: 10_000 },
  ),
  make(
    'template',
    'static scan: 2 million objects over 128 templates (a per-chart cap)',
    scanChart(
      Object.fromEntries(
        Array.from({ length: 128 }, (_, i) => [
          `t${i}.yaml`,
          '{apiVersion: v, kind: K}\n---\n'.repeat(16_000),
        ]),
      ),
      [],
      false,
    ),
    2,
    'TooManyObjects',
  ),
  make(
    'template',
    'static scan: a privileged Pod',
    scanChart({ 'pod.yaml': privilegedPod }, [], false),
    1,
    'privileged-container',
  ),
];

export const yamlCases: readonly CorpusCase[] = [
  make(
    'yaml',
    '--values keyed __proto__ turning on a privileged Pod (helm sees the key; so must tagguard)',
    async (ctx) => [
      'scan',
      await chart(ctx, {
        'pod.yaml': `{{- if index .Values "__proto__" }}\n${privilegedPod}{{- end }}\n`,
      }),
      '--helm',
      ctx.helm,
      '--output',
      'json',
      '--values',
      await write(ctx, 'v.yaml', '__proto__: {on: true}\n'),
    ],
    1,
    'privileged-container',
  ),
  make(
    'yaml',
    '--values with a billion-laughs document',
    async (ctx) => [
      'scan',
      await chart(ctx, {}),
      '--helm',
      ctx.helm,
      '--values',
      await write(ctx, 'v.yaml', `${billionLaughs()}\n`),
    ],
    2,
    'YamlTooManyNodes',
  ),
  make(
    'yaml',
    '--values nested 100,000 deep',
    async (ctx) => [
      'scan',
      await chart(ctx, {}),
      '--helm',
      ctx.helm,
      '--values',
      await write(ctx, 'v.yaml', `a: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`),
    ],
    2,
    'YamlTooDeep',
  ),
  make(
    'yaml',
    '--values of 40 MiB',
    async (ctx) => [
      'scan',
      await chart(ctx, {}),
      '--helm',
      ctx.helm,
      '--values',
      await write(ctx, 'v.yaml', `a: "${'x'.repeat(40 * 1024 * 1024)}"\n`),
    ],
    2,
    'YamlTooLarge',
  ),
  make(
    'yaml',
    '--values that is a list',
    async (ctx) => [
      'scan',
      await chart(ctx, {}),
      '--helm',
      ctx.helm,
      '--values',
      await write(ctx, 'v.yaml', '- a\n- b\n'),
    ],
    2,
    'InvalidField',
  ),
  make(
    'yaml',
    '--values with 1,000,000 keys',
    async (ctx) => [
      'scan',
      await chart(ctx, {}),
      '--helm',
      ctx.helm,
      '--values',
      await write(ctx, 'v.yaml', Array.from({ length: 1_000_000 }, (_, i) => `k${i}: 1`).join('\n')),
    ],
    2,
    'YamlTooLarge',
  ),
  make(
    'yaml',
    'a policy file with a billion-laughs document',
    async (ctx) => [
      'scan',
      await chart(ctx, {}),
      '--helm',
      'none',
      '--policy',
      await write(ctx, 'p.yaml', `${billionLaughs()}\n`),
    ],
    2,
    'YamlTooManyNodes',
  ),
  make(
    'yaml',
    'a policy file nested 100,000 deep',
    async (ctx) => [
      'scan',
      await chart(ctx, {}),
      '--helm',
      'none',
      '--policy',
      await write(ctx, 'p.yaml', `${'['.repeat(100_000)}${']'.repeat(100_000)}\n`),
    ],
    2,
    'YamlTooDeep',
  ),
  make(
    'yaml',
    'a policy with a billion-laughs scan.helm.values',
    async (ctx) => [
      'scan',
      await chart(ctx, {}),
      '--helm',
      ctx.helm,
      '--policy',
      await write(ctx, 'p.yaml', policy(`  scan:\n    helm:\n      values:\n${billionLaughs('        ')}\n`)),
    ],
    2,
    'YamlTooManyNodes',
  ),
  make(
    'yaml',
    'a policy file that is a YAML scalar',
    async (ctx) => [
      'scan',
      await chart(ctx, {}),
      '--helm',
      'none',
      '--policy',
      await write(ctx, 'p.yaml', 'just a string\n'),
    ],
    2,
    'WrongKind',
  ),
  make(
    'yaml',
    'a policy file that is not UTF-8',
    async (ctx) => [
      'scan',
      await chart(ctx, {}),
      '--helm',
      'none',
      '--policy',
      await write(ctx, 'p.yaml', Buffer.from([0xff, 0xfe, 0x00, 0x41, 0xc3, 0x28])),
    ],
    2,
    'InvalidYaml',
  ),
];

/** `tagguard verify` against a port where nothing listens: the policy must be refused before it is tried. */
const verifyWithPolicy = (text: string) => async (ctx: CorpusContext) => [
  'verify',
  '127.0.0.1:1/charts/x:1',
  '--policy',
  await write(ctx, 'p.yaml', text),
];

const withPolicy = (text: string) => async (ctx: CorpusContext) => [
  'scan',
  await chart(ctx, {}),
  '--helm',
  'none',
  '--policy',
  await write(ctx, 'p.yaml', text),
];

export const policyCases: readonly CorpusCase[] = [
  make(
    'policy',
    'subjectRegex with a lookbehind (not RE2)',
    withPolicy(keyless('(?<=x)acme')),
    2,
    'InvalidField',
  ),
  make(
    'policy',
    'subjectRegex with a backreference (not RE2)',
    withPolicy(keyless('^(a)\\1$')),
    2,
    'InvalidField',
  ),
  make(
    'policy',
    'subjectRegex of 100,000 characters',
    withPolicy(keyless('a'.repeat(100_000))),
    2,
    'InvalidField',
  ),
  make(
    'policy',
    'an unknown field in spec.verify',
    withPolicy(policy('  verify:\n    cosgin: []\n')),
    2,
    'InvalidField',
  ),
  make(
    'policy',
    'a public key that is not PEM (refused before any registry request)',
    verifyWithPolicy(
      policy('  verify:\n    cosign:\n      - name: release\n        publicKey: "not a key"\n'),
    ),
    2,
    'InvalidKey',
  ),
  make(
    'policy',
    'minSignatures of -1',
    withPolicy(
      policy(
        '  verify:\n    minSignatures: -1\n    cosign:\n      - name: ci\n        keyless: {issuer: https://i.example, subject: s}\n',
      ),
    ),
    2,
    'InvalidField',
  ),
  make(
    'policy',
    'failOn that is not a severity',
    withPolicy(policy('  scan:\n    failOn: everything\n')),
    2,
    'InvalidField',
  ),
  make(
    'policy',
    'a notation trust store that is not PEM (refused before any registry request)',
    verifyWithPolicy(
      policy(
        "  verify:\n    notation:\n      - name: acme\n        trustStore: {pem: 'garbage'}\n        trustedIdentities: ['*']\n",
      ),
    ),
    2,
    'InvalidCertificate',
  ),
];

const resolve = (reference: string) => () => Promise.resolve(['resolve', reference, '--output', 'json']);

export const referenceCases: readonly CorpusCase[] = [
  make(
    'reference',
    'credentials in the URL',
    resolve('oci://admin:hunter2-secret@127.0.0.1:1/charts/x:1'),
    2,
    'InvalidReference',
    { secret: 'hunter2-secret' },
  ),
  make('reference', 'an empty oci:// URL', resolve('oci://'), 2, 'InvalidReference'),
  make('reference', 'an upper-case repository', resolve('127.0.0.1:1/Charts/X:1'), 2, 'InvalidReference'),
  make(
    'reference',
    'a tag of 200 characters',
    resolve(`127.0.0.1:1/charts/x:${'a'.repeat(200)}`),
    2,
    'InvalidReference',
  ),
  make(
    'reference',
    'a reference of 100,000 characters',
    resolve(`127.0.0.1:1/${'a/'.repeat(50_000)}x:1`),
    2,
    'InvalidReference',
  ),
  make('reference', 'a short digest', resolve('127.0.0.1:1/charts/x@sha256:abc'), 2, 'InvalidReference'),
  make(
    'reference',
    'a digest with upper-case hex',
    resolve(`127.0.0.1:1/charts/x@sha256:${'A'.repeat(64)}`),
    2,
    'InvalidReference',
  ),
  make(
    'reference',
    'a newline in the reference',
    resolve('127.0.0.1:1/charts/x:1\nHost: evil'),
    2,
    'InvalidReference',
  ),
  make('reference', 'a port out of range', resolve('127.0.0.1:99999/charts/x:1'), 2, 'InvalidReference'),
  make(
    'reference',
    'a mistyped local chart file',
    (ctx) => Promise.resolve(['scan', join(ctx.dir, 'payment-3.1.0.tgz'), '--helm', 'none']),
    2,
    'TargetNotFound',
  ),
];
