// Scenario 3: a HelmRelease with chart.spec from an OCI HelmRepository (helm-controller makes the
// HelmChart); the ArtifactVerification names the HelmRelease (a HelmRepository sourceRef is refused today,
// issue 16). Three variants: an exact version with the version re-pushed; a `1.x` range with 1.0.0
// re-pushed; a `1.x` range with a new malicious 1.0.1; and the exact version again with a cache miss soon
// after the push and then a values change (source-controller does not download a version it has, and
// helm-controller does not upgrade for a chart of the same version). The attacker's charts are unsigned.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageChart } from '../../../test/env/charts.ts';
import { pushChart } from '../../../test/env/oci.ts';
import { signCosignLegacy } from '../../../test/env/sign.ts';
import { HELM_API, SOURCE_API, WORKLOAD, type Scenario, type TrialContext } from '../scenario.ts';

const chart = async (ctx: TrialContext, version: string, malicious: boolean): Promise<string> =>
  packageChart(ctx.home, await mkdtemp(join(ctx.workDir, 'chart-')), {
    name: WORKLOAD,
    version,
    maliciousInitContainer: malicious,
  });

/**
 * A cache miss, then the team's next upgrade. source-controller downloads a chart again only when the
 * HelmChart's generation changed or its stored artifact is gone (a restart without a persistent volume):
 * here its spec changes (the interval by 1 s), which makes the next reconcile download. helm-controller
 * does not upgrade a release whose chart version did not change, so the fetched chart waits for the next
 * upgrade: one interval later a values change (replicas) on the HelmRelease, as a team makes any day.
 * Flux skips suspended objects either way, as a restarted source-controller does.
 */
const cacheMissThenUpgrade = async (ctx: TrialContext): Promise<void> => {
  await ctx.kube.mergePatch(
    {
      apiVersion: SOURCE_API,
      kind: 'HelmChart',
      metadata: { name: `${ctx.ns}-${WORKLOAD}`, namespace: ctx.ns },
    },
    { spec: { interval: `${Number.parseInt(ctx.interval, 10) + 1}s` } },
  );
  await new Promise((r) => setTimeout(r, Number.parseInt(ctx.interval, 10) * 1000));
  await ctx.kube.mergePatch(
    { apiVersion: HELM_API, kind: 'HelmRelease', metadata: { name: WORKLOAD, namespace: ctx.ns } },
    { spec: { values: { replicas: 3 } } },
  );
};

const helmChartScenario = (
  id: string,
  title: string,
  specVersion: string,
  attackVersion: string,
  withCacheMiss = false,
): Scenario => ({
  id,
  title,
  ...(withCacheMiss ? { afterAttack: cacheMissThenUpgrade } : {}),
  deploy: async (ctx) => {
    const good = await pushChart(ctx.home, ctx.registry, ctx.ns, await chart(ctx, '1.0.0', false));
    await signCosignLegacy(ctx.home, ctx.registry, good, ctx.release);
    return {
      objects: [
        {
          apiVersion: SOURCE_API,
          kind: 'HelmRepository',
          metadata: { name: 'charts', namespace: ctx.ns },
          spec: {
            interval: ctx.interval,
            type: 'oci',
            url: `oci://${ctx.registry.host}/${ctx.ns}`,
            insecure: true,
          },
        },
        {
          apiVersion: HELM_API,
          kind: 'HelmRelease',
          metadata: { name: WORKLOAD, namespace: ctx.ns },
          spec: {
            interval: ctx.interval,
            timeout: '1m',
            chart: {
              spec: {
                chart: WORKLOAD,
                version: specVersion,
                interval: ctx.interval,
                sourceRef: { kind: 'HelmRepository', name: 'charts' },
              },
            },
            install: { disableWait: true },
            upgrade: { disableWait: true },
          },
        },
      ],
      avSourceRef: { kind: 'HelmRelease', name: WORKLOAD },
      sourceKind: 'HelmChart',
      pinnable: false,
    };
  },
  prepareAttack: async (ctx) => {
    const evil = await chart(ctx, attackVersion, true);
    // source-controller stores the fetched chart archive as is: its sha256 is the artifact's digest.
    const archive = `sha256:${createHash('sha256')
      .update(await readFile(evil))
      .digest('hex')}`;
    return async () => {
      const pushed = await pushChart(ctx.home, ctx.registry, ctx.ns, evil);
      return {
        markers: [pushed.digest, archive, ...(attackVersion !== '1.0.0' ? [`"${attackVersion}"`] : [])],
      };
    };
  },
});

export const helmChartExact = helmChartScenario(
  'helmchart-exact',
  'HelmRepository (oci) → HelmRelease chart.spec, version 1.0.0, 1.0.0 re-pushed',
  '1.0.0',
  '1.0.0',
);
export const helmChartExactMiss = helmChartScenario(
  'helmchart-exact-miss',
  'as helmchart-exact; a chart cache miss within an interval of the push, a values change one interval later',
  '1.0.0',
  '1.0.0',
  true,
);
export const helmChartRangeRepush = helmChartScenario(
  'helmchart-range-repush',
  'HelmRepository (oci) → HelmRelease chart.spec, version 1.x, 1.0.0 re-pushed',
  '1.x',
  '1.0.0',
);
export const helmChartRangeNew = helmChartScenario(
  'helmchart-range-new',
  'HelmRepository (oci) → HelmRelease chart.spec, version 1.x, new 1.0.1',
  '1.x',
  '1.0.1',
);
