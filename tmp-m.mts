import { execFileSync } from 'node:child_process';
import { parseYaml, splitYamlDocuments } from './src/yaml/bounded-yaml.ts';
const ours = (text: string): unknown => {
  try { const docs: unknown[] = []; for (const d of splitYamlDocuments(text)) { const v = parseYaml(d.text); if (v !== null) docs.push(v); } return { documents: docs }; }
  catch (e) { return { error: (e as any).code }; }
};
const go = (text: string): any => JSON.parse(execFileSync('/tmp/h13/yaml-oracle', ['stream'], { input: text }).toString());
const corpus = [
  'a: yes', 'a: Y', 'a: n', 'a: on', 'a: 0o17', 'a: 017', 'a: 08', 'a: 0x1F', 'a: 1_000', 'a: 1e3', 'a: .5', 'a: -.inf', 'a: .nan',
  'a: 2001-12-14', 'a: 2001-12-14t21:59:43.10-05:00', 'a: 1:20', 'a: +1', 'a: -0', 'a: 0b101', 'a: 9223372036854775808', 'a: 18446744073709551616',
  'a: ~', 'a:', 'a: null', 'a: NULL', 'a: Null', 'a: "yes"', "a: 'on'", 'a: !!str yes', 'a: |\n  x\n  y', 'a: >\n  x\n  y\n', 'a: x\n  y',
  '1: a', 'yes: a', '0x10: a', 'a: 1\na: 2', 'a: 1\n<<: {a: 2}', '<<: {a: 2}\na: 1', '<<: [{a: 1}, {a: 2, b: 2}]', 'x: &x {a: 1}\ny: {<<: *x, b: 2}',
  'x: &x [1]\ny: {<<: *x}', 'x: &a [&a 1]\nz: *a', '"<<": 1', 'a: "\\u00e9\\t"', "a: 'it''s'", 'a: b # c', 'a: b#c', 'a: [1, 2, {b: c}]', 'a: {b, c}',
  '? a\n: b', '- a\n- b', 'a: \t1', 'a: "x\n  y"', 'a: !!binary aGVsbG8=', 'a: !foo x', '~: 1', '1.5: a', '[a]: 1', 'a: 1\n...\n', 'a: 1\n---\nb: 2',
  'a: 1\n--- # c\nb: 2', '--- \na: 1', 'a: 1\n--- x\n', '%YAML 1.1\n---\na: 1', 'a: "\\/"', 'a: "\\N"', 'a: "\\x41"', 'a: 0.1e', 'a: 1.', 'a: +.5', 'a: 0_1',
  'privileged: True', 'privileged: TRUE', 'privileged: tRUE', 'a: 0X1f', 'a: 0O17', 'a: 0B11', 'a: -0x1', 'a: 1__0', 'a: _1', 'a: 1_', 'a: 00', 'a: -08',
  'a: &x b\nc: *x', 'a:\n  - b\n  -\n  - c', 'a: [b, , c]', 'a: {b: }', 'a: [b: c]', 'a: "b" c', 'key with spaces: v', 'a: b: c', 'a:\n b: 1\n  c: 2',
  '\ufeffa: 1', 'a: 1\r\nb: 2\r\n', 'a: "\\ud83d"', 'a:    \n  b', '- - a\n  - b', 'a: !!int "3"', 'a: !!map {b: 1}',
];
let diff = 0;
for (const text of corpus) {
  const o = ours(text) as any; const g = go(text);
  const same = JSON.stringify(o) === JSON.stringify(g) || (o.error && g.error) || (o.error && !g.error);
  const note = o.error && !g.error ? 'REFUSED' : '';
  if (!same || note) { console.log(same ? 'refuse' : 'DIFF  ', JSON.stringify(text), JSON.stringify(o), JSON.stringify(g)); if (!same) diff++; }
}
console.log('corpus', corpus.length, 'diffs', diff);
