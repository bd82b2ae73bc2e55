import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, parseJsonBody } from '../../src/webhook/json-body.ts';
import type { WebhookError } from '../../src/webhook/push-event.ts';

const codeOf = (body: Buffer): string | undefined => {
  try {
    parseJsonBody(body);
    return undefined;
  } catch (error) {
    return (error as WebhookError).code;
  }
};

describe('parseJsonBody', () => {
  it('parses JSON up to the depth limit, brackets inside strings not counted', () => {
    const deep = `${'['.repeat(MAX_JSON_DEPTH)}"[[[[{{{{\\"]]"${']'.repeat(MAX_JSON_DEPTH)}`;
    expect(codeOf(Buffer.from(deep))).toBeUndefined();
    expect(parseJsonBody(Buffer.from('{"a":"]}"}'))).toEqual({ a: ']}' });
  });

  it.each([
    ['one level too deep', `${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`],
    ['100 000 levels (no recursion, no stack overflow)', '{"a":'.repeat(100_000)],
    ['not JSON', '{"events": [}'],
    ['empty', ''],
  ])('refuses %s as Malformed', (_, text) => {
    expect(codeOf(Buffer.from(text))).toBe('Malformed');
  });

  it('refuses invalid UTF-8 and a byte order mark', () => {
    expect(codeOf(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]))).toBe('Malformed');
    expect(codeOf(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{}')]))).toBe('Malformed');
  });

  it('keeps a "__proto__" key as data, not as a prototype', () => {
    const parsed = parseJsonBody(Buffer.from('{"__proto__": {"polluted": true}}')) as Record<string, unknown>;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
  });
});
