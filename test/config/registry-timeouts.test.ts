// The registry deadline flags of `tagguard run` and the duration notation they share with the CLI.
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/config/duration.ts';
import { parseOperatorConfig } from '../../src/config/operator-config.ts';

const environment = { isTty: false };

describe('registry deadline flags', () => {
  it('default to 30s per request and 2m per operation', () => {
    expect(parseOperatorConfig([], environment)).toMatchObject({
      registryRequestTimeoutMs: 30_000,
      registryOperationTimeoutMs: 120_000,
    });
  });

  it('take Go-style durations', () => {
    const config = parseOperatorConfig(
      ['--registry-request-timeout', '1500ms', '--registry-operation-timeout', '1m30s'],
      environment,
    );
    expect(config).toMatchObject({ registryRequestTimeoutMs: 1500, registryOperationTimeoutMs: 90_000 });
  });

  it('refuse what is not a duration from 1ms to 1h with InvalidValue', () => {
    for (const value of ['30', '0s', '-1s', '2h', 's', '1.5s', '30 s', '']) {
      expect(() => parseOperatorConfig([`--registry-request-timeout=${value}`], environment), value).toThrow(
        expect.objectContaining({ code: 'InvalidValue' }),
      );
    }
  });

  it('parseDuration sums units and refuses bare numbers', () => {
    expect(parseDuration('1h2m3s4ms')).toBe(3_723_004);
    expect(parseDuration('250')).toBeUndefined();
    expect(parseDuration('1d')).toBeUndefined();
  });
});
