// Scenario 1: an OCIRepository holding a Helm chart, consumed by a HelmRelease through spec.chartRef; the
// ArtifactVerification names the OCIRepository (the HelmRelease is found as its consumer). The attack
// re-pushes the same tag with the malicious chart, unsigned.
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { packageChart } from '../../../test/env/charts.ts';
import { pushChart } from '../../../test/env/oci.ts';
import { signCosignLegacy } from '../../../test/env/sign.ts';
import {
  HELM_API,
  HELM_CHART_LAYER,
  SOURCE_API,
  WORKLOAD,
  type Scenario,
  type TrialContext,
} from '../scenario.ts';

const TAG = '1.0.0';

const chart = async (ctx: TrialContext, malicious: boolean): Promise<string> =>
  packageChart(ctx.home, await mkdtemp(join(ctx.workDir, 'chart-')), {
    name: WORKLOAD,
    version: TAG,
    maliciousInitContainer: malicious,
  });

export const ociHelmRelease: Scenario = {
  id: 'oci-helmrelease',
  title: 'OCIRepository → HelmRelease (chartRef)',
  deploy: async (ctx) => {
    const good = await pushChart(ctx.home, ctx.registry, ctx.ns, await chart(ctx, false));
    await signCosignLegacy(ctx.home, ctx.registry, good, ctx.release);
    return {
      objects: [
        {
          apiVersion: SOURCE_API,
          kind: 'OCIRepository',
          metadata: { name: WORKLOAD, namespace: ctx.ns },
          spec: {
            interval: ctx.interval,
            url: `oci://${ctx.registry.host}/${ctx.ns}/${WORKLOAD}`,
            ref: { tag: TAG },
            insecure: true,
            layerSelector: { mediaType: HELM_CHART_LAYER, operation: 'copy' },
          },
        },
        {
          apiVersion: HELM_API,
          kind: 'HelmRelease',
          metadata: { name: WORKLOAD, namespace: ctx.ns },
          spec: {
            interval: ctx.interval,
            timeout: '1m',
            chartRef: { kind: 'OCIRepository', name: WORKLOAD },
            install: { disableWait: true },
            upgrade: { disableWait: true },
          },
        },
      ],
      avSourceRef: { kind: 'OCIRepository', name: WORKLOAD },
      sourceKind: 'OCIRepository',
      pinnable: true,
    };
  },
  prepareAttack: async (ctx) => {
    const evil = await chart(ctx, true);
    return async () => ({
      markers: [(await pushChart(ctx.home, ctx.registry, ctx.ns, evil)).digest],
    });
  },
};
