import { describe, expect, it } from 'vitest';
import { mergeValues, parseValuesYaml, setValueAtPath, typedValue } from '../../src/sources/helm-values.ts';

describe('mergeValues', () => {
  it('merges maps key by key and lets the later value replace scalars and lists', () => {
    const merged = mergeValues(
      { image: { repo: 'a', tag: '1' }, list: [1, 2], keep: true },
      { image: { tag: '2' }, list: [3] },
    );
    expect(merged).toEqual({ image: { repo: 'a', tag: '2' }, list: [3], keep: true });
  });

  it('replaces a map with a scalar and does not modify its inputs', () => {
    const a = { x: { y: 1 } };
    expect(mergeValues(a, { x: 'flat' })).toEqual({ x: 'flat' });
    expect(a).toEqual({ x: { y: 1 } });
  });
});

describe('setValueAtPath (helm --set)', () => {
  it.each([
    ['a.b', '3', false, { a: { b: 3 } }],
    ['a.b', 'true', false, { a: { b: true } }],
    ['a.b', 'null', false, { a: { b: null } }],
    ['a.b', '0123', false, { a: { b: '0123' } }],
    ['a.b', '3', true, { a: { b: '3' } }],
    ['list[1].name', 'x', false, { list: [null, { name: 'x' }] }],
    ['annotations.example\\.com/key', 'v', false, { annotations: { 'example.com/key': 'v' } }],
  ])('%s=%s (string: %s)', (path, value, asString, expected) => {
    expect(setValueAtPath({}, path, value, asString)).toEqual(expected);
  });

  it('keeps sibling values', () => {
    expect(setValueAtPath({ a: { c: 1 } }, 'a.b', 'x', false)).toEqual({ a: { c: 1, b: 'x' } });
  });

  it('rejects a path that does not start with a key', () => {
    expect(() => setValueAtPath({}, '[0]', 'x', false)).toThrow();
    expect(() => setValueAtPath({}, 'a..b', 'x', false)).toThrow();
  });

  it('types like strvals', () => {
    expect(typedValue('FALSE')).toBe(false);
    expect(typedValue('0')).toBe(0);
    expect(typedValue('-12')).toBe(-12);
    expect(typedValue('1.5')).toBe('1.5');
  });
});

describe('parseValuesYaml', () => {
  it('parses a map, treats an empty document as {} and refuses a list', () => {
    expect(parseValuesYaml('replicas: 3\nimage: {tag: "1"}\n')).toEqual({ replicas: 3, image: { tag: '1' } });
    expect(parseValuesYaml('  \n')).toEqual({});
    expect(() => parseValuesYaml('- a\n- b\n')).toThrow();
  });
});

describe('values keyed __proto__ are data, as helm sees them', () => {
  it('mergeValues keeps a __proto__ key as an own key and JSON carries it to helm', () => {
    const over = JSON.parse('{"__proto__": {"privileged": true}}') as Record<string, unknown>;
    const merged = mergeValues({ replicas: 1 }, over);
    expect(Object.hasOwn(merged, '__proto__')).toBe(true);
    expect(JSON.parse(JSON.stringify(merged))).toEqual(
      JSON.parse('{"replicas": 1, "__proto__": {"privileged": true}}'),
    );
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
  });
  it('setValueAtPath writes under a __proto__ key without touching the prototype', () => {
    const values = setValueAtPath({}, '__proto__.privileged', 'true', false);
    expect(JSON.stringify(values)).toBe('{"__proto__":{"privileged":true}}');
    expect(({} as Record<string, unknown>).privileged).toBeUndefined();
  });
});
