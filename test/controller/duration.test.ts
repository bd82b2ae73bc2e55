import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/controller/duration.ts';

describe('parseDuration', () => {
  it.each([
    ['1m', 60_000],
    ['10s', 10_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['1.5s', 1500],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '10', 'm', '1d', '-1s', '1m '])('rejects %j', (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );
});
