// The one YAML reader: go-yaml v2 semantics where the scan depends on them (YAML 1.1 booleans and integers,
// merge order, last key wins), Kubernetes' document splitting, and every limit with its code.
import { describe, expect, it } from 'vitest';
import {
  defaultYamlLimits,
  parseYaml,
  splitYamlDocuments,
  type YamlErrorCode,
} from '../../src/yaml/bounded-yaml.ts';

const codeOf = (run: () => unknown): YamlErrorCode | 'ok' => {
  try {
    run();
    return 'ok';
  } catch (error) {
    return (error as { code: YamlErrorCode }).code;
  }
};

/** 9 levels of 9 aliases each: 9^9 nodes once expanded. */
export const billionLaughs = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...'bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
].join('\n');

describe('parseYaml reads scalars as go-yaml v2 (sigs.k8s.io/yaml) does', () => {
  it.each([
    ['yes', true],
    ['On', true],
    ['y', true],
    ['NO', false],
    ['off', false],
    ['~', null],
    ['', null],
    ['0x1F', 31],
    ['0o17', 15],
    ['017', 15],
    ['0b101', 5],
    ['-0b101', -5],
    ['1_000', 1000],
    ['08', 8],
    ['1e3', 1000],
    ['.5', 0.5],
    ['+1', 1],
    ['1:20', '1:20'],
    ['2001-12-14', '2001-12-14'],
    ['0x', '0x'],
    ['__proto__', '__proto__'],
    ['0xFFFFFFFFFFFFFFFFFF', '0xFFFFFFFFFFFFFFFFFF'],
    ['"yes"', 'yes'],
    ["'0x1F'", '0x1F'],
    ['!!str yes', 'yes'],
  ])('%s → %j', (text, value) => {
    expect(parseYaml(`v: ${text}`)).toEqual({ v: value });
  });

  it('applies a merge at its place: merged keys replace earlier keys, later keys replace merged ones', () => {
    expect(parseYaml('a: 1\n<<: {a: 2, b: 2}\nb: 3')).toEqual({ a: 2, b: 3 });
    expect(parseYaml('x: &x {privileged: true}\ns: {privileged: false, <<: *x}')).toMatchObject({
      s: { privileged: true },
    });
    // In a sequence of merges the earlier mapping wins; a quoted "<<" is an ordinary key.
    expect(parseYaml('<<: [{a: 1}, {a: 2, b: 2}]\n"<<": 5')).toEqual({ a: 1, b: 2, '<<': 5 });
  });

  it("lets an anchor name its node from the node's start until the name is given again, as go-yaml v2", () => {
    expect(parseYaml('x: &a [&a 1]\nz: *a')).toEqual({ x: [1], z: 1 });
    expect(parseYaml('x: &a [&a [1], *a]')).toEqual({ x: [[1], [1]] });
    expect(codeOf(() => parseYaml('x: &a [1, {b: *a}]'))).toBe('YamlUnsupported');
  });

  it('keeps the last of duplicate keys, turns boolean and integer keys into strings, keeps __proto__ as data', () => {
    const value = parseYaml('a: 1\na: 2\nyes: x\n0x10: z\n__proto__: {polluted: true}') as Record<
      string,
      unknown
    >;
    expect(value).toEqual({ a: 2, true: 'x', '16': 'z', ['__proto__']: { polluted: true } });
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('ends a block scalar at the end of a file without a line break, as libyaml does', () => {
    expect(parseYaml('path: |\n  /var/run/docker.sock')).toEqual({ path: '/var/run/docker.sock' });
    expect(parseYaml('path: |\n  /var/run/docker.sock\n')).toEqual({ path: '/var/run/docker.sock\n' });
  });

  it('refuses what Go would read differently or not at all', () => {
    for (const text of [
      'v: !!int "1"',
      'v: !custom x',
      '? [a]\n: v',
      '~: v',
      '1.5: v',
      'a: &a [*a]',
      'v: .nan',
      '1: a\n"1": b',
    ]) {
      expect(
        codeOf(() => parseYaml(text)),
        text,
      ).toBe('YamlUnsupported');
    }
    expect(codeOf(() => parseYaml('a: 1\n---\nb: 2'))).toBe('InvalidYaml');
    expect(codeOf(() => parseYaml('a: [unclosed'))).toBe('InvalidYaml');
    expect(codeOf(() => parseYaml('<<: 5'))).toBe('InvalidYaml');
    expect(codeOf(() => parseYaml('s: &s [{a: 1}]\nm: {<<: *s}'))).toBe('InvalidYaml');
  });
});

describe('parseYaml limits', () => {
  it('refuses a billion-laughs document by its alias count, and by its size once aliases are allowed', () => {
    const started = performance.now();
    expect(codeOf(() => parseYaml(billionLaughs, { ...defaultYamlLimits, maxAliases: 25 }))).toBe(
      'YamlTooManyAliases',
    );
    expect(codeOf(() => parseYaml(billionLaughs, { ...defaultYamlLimits, maxAliases: 1000 }))).toBe(
      'YamlTooManyNodes',
    );
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('refuses deep nesting, in the text and through aliases', () => {
    expect(codeOf(() => parseYaml('['.repeat(100_000)))).toBe('YamlTooDeep');
    expect(codeOf(() => parseYaml(`${'- '.repeat(50_000)}x`))).toBe('YamlTooDeep');
    const chain = ['a0: &a0 [[[[[[[[[[x]]]]]]]]]]'];
    for (let i = 1; i < 10; i++) chain.push(`a${i}: &a${i} [[[[[[[[[*a${i - 1}]]]]]]]]]`);
    expect(codeOf(() => parseYaml(chain.join('\n')))).toBe('YamlTooDeep');
  });

  it('refuses a dense flow collection by its node count before parsing it (no million parser events)', () => {
    const started = performance.now();
    expect(
      codeOf(() => parseYaml(`{${'a,'.repeat(2_000_000)}a}`, { ...defaultYamlLimits, maxBytes: 8 << 20 })),
    ).toBe('YamlTooManyNodes');
    expect(performance.now() - started).toBeLessThan(1000);
    expect(codeOf(() => parseYaml(`[${'1,'.repeat(1000)}1]`, { ...defaultYamlLimits, maxNodes: 2000 }))).toBe(
      'ok',
    );
  });

  it('refuses input above maxBytes before parsing it', () => {
    expect(codeOf(() => parseYaml(`a: ${'x'.repeat(100)}`, { ...defaultYamlLimits, maxBytes: 64 }))).toBe(
      'YamlTooLarge',
    );
    expect(codeOf(() => parseYaml(`a: ${'é'.repeat(40)}`, { ...defaultYamlLimits, maxBytes: 64 }))).toBe(
      'YamlTooLarge',
    );
  });
});

describe('splitYamlDocuments', () => {
  it('splits at --- lines as Kubernetes does, and refuses text after ---', () => {
    const parts = [...splitYamlDocuments('a: 1\n---\nb: 2\n--- # c\n---\n\nc: "---"\n  ---x\n')];
    expect(parts.map((p) => p.text)).toEqual(['a: 1\n', 'b: 2\n', '\nc: "---"\n  ---x\n']);
    // As Kubernetes' LineReader: CRLF becomes LF and the last line ends with one.
    expect([...splitYamlDocuments('a: |\r\n  x\r\n---\r\nb: |\n  y')].map((p) => p.text)).toEqual([
      'a: |\n  x\n',
      'b: |\n  y\n',
    ]);
    expect(parts.map((p) => p.line)).toEqual([1, 3, 6]);
    expect(codeOf(() => [...splitYamlDocuments('a: 1\n--- {b: 2}\n')])).toBe('InvalidYaml');
  });

  it('is linear in the input', () => {
    const time = (n: number): number => {
      const text = 'a: 1\n---\n'.repeat(n);
      const started = performance.now();
      let count = 0;
      for (const _ of splitYamlDocuments(text)) count++;
      expect(count).toBe(n);
      return performance.now() - started;
    };
    time(10_000);
    const small = time(100_000);
    const large = time(800_000);
    expect(large / Math.max(small, 1)).toBeLessThan(30);
  });
});
