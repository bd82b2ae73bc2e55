// The operator's values parsing (Flux valuesFrom, Argo CD helm.values) goes through the bounded YAML reader:
// anchor bombs and deep documents are coded errors, and scalars read as helm (go-yaml v2) reads them.
import { describe, expect, it } from 'vitest';
import { parseValuesYaml } from '../../src/sources/helm-values.ts';
import type { YamlErrorCode } from '../../src/yaml/bounded-yaml.ts';

const codeOf = (text: string): YamlErrorCode | 'ok' => {
  try {
    parseValuesYaml(text);
    return 'ok';
  } catch (error) {
    return (error as { code: YamlErrorCode }).code;
  }
};

describe('parseValuesYaml limits', () => {
  it('refuses a billion-laughs values document and a deep one with their codes', () => {
    const laughs = [
      'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
      ...'bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
    ].join('\n');
    expect(codeOf(laughs)).toBe('YamlTooManyNodes');
    expect(codeOf(`a: ${'['.repeat(1000)}`)).toBe('YamlTooDeep');
  });

  it('reads values as helm does: on is true, 0o17 is 15, an empty document is {}', () => {
    expect(parseValuesYaml('debug: on\nmode: 0o17\n')).toEqual({ debug: true, mode: 15 });
    expect(parseValuesYaml('# nothing\n')).toEqual({});
  });
});
