// tagguard's YAML reader against the Go readers the GitOps tools use (yaml-oracle: k8s.io/apimachinery's
// YAMLReader + sigs.k8s.io/yaml, as helm v3.19.5 pins them), on tricky hand-written inputs and on documents
// generated from YAML 1.1/1.2 edge cases. The only outcome that could hide something from the scan is both
// readers accepting a document and reading it differently: that must never happen. tagguard refusing what
// Go accepts, or accepting what Go refuses (nothing is applied then), is allowed and counted.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseYaml, splitYamlDocuments } from '../../../src/yaml/bounded-yaml.ts';
import { toolPath } from '../../env/paths.ts';

type Outcome = { documents: unknown[] } | { error: string };

const ours = (text: string, mode: 'stream' | 'one'): Outcome => {
  try {
    if (mode === 'one') return { documents: [parseYaml(text)] };
    const documents: unknown[] = [];
    for (const document of splitYamlDocuments(text)) {
      const value = parseYaml(document.text);
      if (value !== null) documents.push(value);
    }
    return { documents };
  } catch (error) {
    return { error: (error as { code: string }).code };
  }
};

const go = (text: string, mode: 'stream' | 'one'): Outcome =>
  JSON.parse(execFileSync(toolPath('yaml-oracle'), [mode], { input: text }).toString()) as Outcome;

/** JSON with object keys sorted: Go prints maps sorted, JavaScript in insertion order. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );

interface Tally {
  same: number;
  bothRefuse: number;
  weRefuse: number;
  goRefuses: number;
  different: string[];
}

const compare = (texts: readonly string[], mode: 'stream' | 'one'): Tally => {
  const tally: Tally = { same: 0, bothRefuse: 0, weRefuse: 0, goRefuses: 0, different: [] };
  for (const text of texts) {
    const a = ours(text, mode);
    const b = go(text, mode);
    if ('error' in a && 'error' in b) tally.bothRefuse++;
    else if ('error' in a) tally.weRefuse++;
    else if ('error' in b) tally.goRefuses++;
    else if (canonical(a.documents) === canonical(b.documents)) tally.same++;
    else
      tally.different.push(
        `${JSON.stringify(text)}: tagguard ${canonical(a.documents)}, Go ${canonical(b.documents)}`,
      );
  }
  return tally;
};

const SCALARS = [
  'yes',
  'Yes',
  'YES',
  'y',
  'Y',
  'no',
  'n',
  'N',
  'on',
  'On',
  'off',
  'OFF',
  'true',
  'True',
  'false',
  'FALSE',
  'tRUE',
  '~',
  'null',
  'Null',
  '',
  '0',
  '-0',
  '+1',
  '017',
  '08',
  '0o17',
  '0O17',
  '0x1F',
  '0X1f',
  '0b101',
  '-0b101',
  '1_000',
  '_1',
  '1_',
  '0_7',
  '1e3',
  '1E-2',
  '.5',
  '-.5',
  '+.5',
  '1.',
  '0.1e',
  '.inf',
  '-.Inf',
  '.nan',
  '1:20',
  '2001-12-14',
  '9223372036854775807',
  '9223372036854775808',
  '18446744073709551615',
  '18446744073709551616',
  '0xFFFFFFFFFFFFFFFFF',
  '"yes"',
  "'on'",
  '"0x1F"',
  '!!str yes',
  '!!str 017',
  '"\\u00e9"',
  '"\\/"',
  '"\\uD83D"',
  "'it''s'",
  'a b',
  'a#b',
  'a # c',
  '-b',
  '<<',
  '"<<"',
  '!!binary aGk=',
  '!x y',
  '[]',
  '{}',
  '[a, b]',
  '{a: 1}',
  '|\n  x',
  '>-\n  x\n  y',
];
const KEYS = [
  'a',
  'b',
  'privileged',
  'yes',
  'on',
  'y',
  '1',
  '0x10',
  '017',
  '"1"',
  '<<',
  '"<<"',
  '~',
  '1.5',
  'true',
];

/** A small deterministic generator (mulberry32), so a failure names its seed and can be replayed. */
const random = (seed: number): (() => number) => {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const generate = (seed: number): string => {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const anchors: string[] = [];
  const value = (depth: number): string => {
    const r = next();
    if (anchors.length > 0 && r < 0.1) return `*${pick(anchors)}`;
    if (depth < 2 && r < 0.25) {
      const entries = Array.from(
        { length: 1 + Math.floor(next() * 3) },
        () => `${pick(KEYS)}: ${value(depth + 1)}`,
      );
      const map = `{${entries.join(', ')}}`;
      if (next() < 0.3) {
        const name = `n${anchors.length}`;
        anchors.push(name);
        return `&${name} ${map}`;
      }
      return map;
    }
    if (depth < 2 && r < 0.35)
      return `[${Array.from({ length: 1 + Math.floor(next() * 3) }, () => value(depth + 1)).join(', ')}]`;
    const scalar = pick(SCALARS);
    // Block scalars only at the end of a block entry.
    return scalar.includes('\n') || scalar === '' ? 'x' : scalar;
  };
  const lines = Array.from({ length: 1 + Math.floor(next() * 5) }, () => {
    const v = next() < 0.2 ? pick(SCALARS.filter((s) => s.includes('\n'))) : value(0);
    return `${pick(KEYS)}: ${v.replaceAll('\n', '\n  ')}`;
  });
  return lines.join('\n') + (next() < 0.2 ? `\n---\n${lines.reverse().join('\n')}` : '');
};

const HANDWRITTEN = [
  ...SCALARS.map((s) => `v: ${s}`),
  ...KEYS.map((k) => `${k}: v`),
  'a: 1\na: 2',
  'a: 1\n<<: {a: 2}',
  '<<: {a: 2}\na: 1',
  '<<: [{a: 1}, {a: 2, b: 2}]',
  'x: &x {a: 1}\nz: {<<: *x, b: 2}',
  'x: &x [{a: 1}]\nz: {<<: *x}',
  'x: &a [&a 1]\nz: *a',
  'x: &a {b: &a 1}\nz: *a',
  'a: 1\n...\n',
  'a: 1\n---\nb: 2',
  'a: 1\n--- # c\nb: 2',
  'a: 1\n--- x\n',
  '%YAML 1.1\n---\na: 1',
  'a: [b, , c]',
  'a: {b, c}',
  '? a\n: b',
  '? [a]\n: b',
  'a:\n  - b\n  -\n  - c',
  '\ufeffa: 1',
  'a: 1\r\nb: 2\r\n',
  'a: "x\n  y"',
  'a: x\n  y',
  'a: [b,\tc]',
  'a: b\n\t# c',
  'spec:\n  containers:\n    - securityContext: {privileged: yes}\n      <<: {securityContext: {privileged: false}}',
];

describe('YAML: tagguard against Go (sigs.k8s.io/yaml over go-yaml v2)', () => {
  it.each(['stream', 'one'] as const)('never reads an accepted document differently (%s mode)', (mode) => {
    const generated = Array.from({ length: 500 }, (_, i) => generate(i + 1));
    const tally = compare([...HANDWRITTEN, ...generated], mode);
    expect(tally.different).toEqual([]);
    // Most inputs are read by both, and read the same.
    expect(tally.same).toBeGreaterThan(200);
    console.log(
      `yaml differential (${mode}): ${JSON.stringify({ ...tally, different: tally.different.length })}`,
    );
  });
});
