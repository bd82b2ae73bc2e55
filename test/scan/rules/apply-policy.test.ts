import { describe, expect, it } from 'vitest';
import { applyExceptions, failsAt } from '../../../src/scan/rules/apply-policy.ts';
import type { Finding } from '../../../src/api/artifact-verification.ts';

const finding = (rule: string, severity: Finding['severity'], resource: string): Finding => ({
  rule,
  severity,
  resource,
  path: 'spec',
  message: '',
});

describe('exceptions and failOn', () => {
  const findings = [
    finding('host-path-volume', 'high', 'monitoring/DaemonSet/node-exporter'),
    finding('host-path-volume', 'high', 'DaemonSet/other'),
    finding('host-port', 'low', 'DaemonSet/node-exporter'),
  ];

  it('an exception without a namespace matches the resource in any namespace, for its rule only', () => {
    const { kept, suppressed } = applyExceptions(findings, [
      { rule: 'host-path-volume', resource: 'DaemonSet/node-exporter' },
    ]);
    expect(kept.map((f) => `${f.rule} ${f.resource}`)).toEqual([
      'host-path-volume DaemonSet/other',
      'host-port DaemonSet/node-exporter',
    ]);
    expect(suppressed).toBe(1);
  });

  it('an exception with a namespace matches only that namespace', () => {
    expect(
      applyExceptions(findings, [{ rule: 'host-path-volume', resource: 'other/DaemonSet/node-exporter' }])
        .suppressed,
    ).toBe(0);
    expect(
      applyExceptions(findings, [
        { rule: 'host-path-volume', resource: 'monitoring/DaemonSet/node-exporter' },
      ]).suppressed,
    ).toBe(1);
  });

  it('an exception without a resource covers the rule everywhere', () => {
    expect(applyExceptions(findings, [{ rule: 'host-path-volume' }]).kept.map((f) => f.rule)).toEqual([
      'host-port',
    ]);
  });

  it('fails at or above the threshold; none never fails; the default is high', () => {
    const low = [finding('host-port', 'low', 'Pod/p')];
    expect(failsAt(low, 'low')).toBe(true);
    expect(failsAt(low, 'medium')).toBe(false);
    expect(failsAt(findings, 'critical')).toBe(false);
    expect(failsAt(findings)).toBe(true);
    expect(failsAt(low)).toBe(false);
    expect(failsAt(findings, 'none')).toBe(false);
  });
});
