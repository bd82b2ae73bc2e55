// Per-object series of the operator's metrics (observability/metrics.ts), in both --object-metrics modes,
// read back from the real prom-client registry as Prometheus would scrape it.
import { describe, expect, it } from 'vitest';
import { countVerdict, createMetrics, forgetObject, reportObject } from '../../src/observability/metrics.ts';

const series = async (metrics: ReturnType<typeof createMetrics>, name: string): Promise<string[]> =>
  (await metrics.registry.metrics())
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .sort();

const a = { namespace: 'apps', name: 'a' };
const b = { namespace: 'apps', name: 'b' };

describe('per-object metrics', () => {
  it('all: every CR has its series', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    reportObject(metrics, a, { trusted: true, blocking: 0, findings: {} });
    reportObject(metrics, b, { trusted: false, blocking: 2 });
    countVerdict(metrics, a, 'Trusted');
    expect(await series(metrics, 'tagguard_artifact_trusted')).toEqual([
      'tagguard_artifact_trusted{namespace="apps",name="a"} 1',
      'tagguard_artifact_trusted{namespace="apps",name="b"} 0',
    ]);
    expect(await series(metrics, 'tagguard_scan_findings')).toHaveLength(4);
    expect(await series(metrics, 'tagguard_verifications_total')).toEqual([
      'tagguard_verifications_total{namespace="apps",name="a",result="Trusted"} 1',
    ]);
  });

  it('unhealthy: a healthy CR has no series of its own; an unhealthy one has them until it recovers', async () => {
    const metrics = createMetrics({ defaultMetrics: false, objectMetrics: 'unhealthy' });
    reportObject(metrics, a, { trusted: true, blocking: 0, findings: {} });
    countVerdict(metrics, a, 'Trusted');
    reportObject(metrics, b, { trusted: false, blocking: 1, findings: { high: 2 } });
    countVerdict(metrics, b, 'Untrusted');
    expect(await series(metrics, 'tagguard_artifact_trusted')).toEqual([
      'tagguard_artifact_trusted{namespace="apps",name="b"} 0',
    ]);
    expect(await series(metrics, 'tagguard_held_targets')).toEqual([
      'tagguard_held_targets{namespace="apps",name="b"} 1',
    ]);
    expect(await series(metrics, 'tagguard_scan_findings')).toContain(
      'tagguard_scan_findings{namespace="apps",name="b",severity="high"} 2',
    );
    expect(await series(metrics, 'tagguard_verifications_total')).toEqual([
      'tagguard_verifications_total{namespace="apps",name="b",result="Untrusted"} 1',
    ]);
    expect(await series(metrics, 'tagguard_artifact_verifications')).toEqual([
      'tagguard_artifact_verifications{state="trusted"} 1',
      'tagguard_artifact_verifications{state="untrusted"} 1',
    ]);

    // b is trusted again and releases: its gauges go; the counts follow.
    reportObject(metrics, b, { trusted: true, blocking: 0, findings: {} });
    expect(await series(metrics, 'tagguard_artifact_trusted')).toEqual([]);
    expect(await series(metrics, 'tagguard_held_targets')).toEqual([]);
    expect(await series(metrics, 'tagguard_scan_findings')).toEqual([]);
    expect(await series(metrics, 'tagguard_artifact_verifications')).toEqual([
      'tagguard_artifact_verifications{state="trusted"} 2',
      'tagguard_artifact_verifications{state="untrusted"} 0',
    ]);

    // Trusted with findings below failOn still needs attention: exported.
    reportObject(metrics, a, { trusted: true, blocking: 0, findings: { low: 1 } });
    expect(await series(metrics, 'tagguard_scan_findings')).toContain(
      'tagguard_scan_findings{namespace="apps",name="a",severity="low"} 1',
    );
    forgetObject(metrics, a);
    forgetObject(metrics, b);
    expect(await series(metrics, 'tagguard_artifact_verifications')).toEqual([
      'tagguard_artifact_verifications{state="trusted"} 0',
      'tagguard_artifact_verifications{state="untrusted"} 0',
    ]);
  });

  it('unhealthy keeps /metrics small with thousands of healthy CRs', async () => {
    const sizes: Record<string, number> = {};
    for (const mode of ['all', 'unhealthy'] as const) {
      const metrics = createMetrics({ defaultMetrics: false, objectMetrics: mode });
      for (let i = 0; i < 5000; i += 1) {
        const labels = { namespace: `ns${i % 50}`, name: `cr-${i}` };
        reportObject(metrics, labels, {
          trusted: i % 100 !== 0,
          blocking: i % 100 === 0 ? 1 : 0,
          findings: {},
        });
        countVerdict(metrics, labels, i % 100 === 0 ? 'Untrusted' : 'Trusted');
      }
      sizes[mode] = (await metrics.registry.metrics()).length;
    }
    // 50 unhealthy CRs of 5,000: a hundredth of the series.
    expect(sizes.unhealthy).toBeLessThan((sizes.all ?? 0) / 20);
    console.log(
      `/metrics with 5,000 CRs (50 unhealthy): all ${sizes.all} bytes, unhealthy ${sizes.unhealthy} bytes`,
    );
  });
});
