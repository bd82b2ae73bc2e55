// Scenario 2: an OCIRepository holding plain manifests in the shape `flux push artifact` gives them,
// applied by a Kustomization (sourceRef the OCIRepository). The attack re-pushes the same tag with the
// Deployment carrying the privileged init container, unsigned.
import { pushFluxArtifact } from '../../../test/env/oci.ts';
import { signCosignLegacy } from '../../../test/env/sign.ts';
import { KUSTOMIZE_API, SOURCE_API, WORKLOAD, type Scenario, type TrialContext } from '../scenario.ts';

const TAG = '1.0.0';

const deploymentYaml = (malicious: boolean): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${WORKLOAD}
spec:
  replicas: 2
  selector:
    matchLabels: {app: ${WORKLOAD}}
  template:
    metadata:
      labels: {app: ${WORKLOAD}}
    spec:
${
  malicious
    ? `      initContainers:
        - name: setup
          image: ghcr.io/attacker/miner:latest
          securityContext: {privileged: true}
`
    : ''
}      containers:
        - name: app
          image: registry.example.com/payment@sha256:${'0'.repeat(64)}
          securityContext: {runAsNonRoot: true, allowPrivilegeEscalation: false}
`;

const push = (ctx: TrialContext, malicious: boolean) =>
  pushFluxArtifact(ctx.home, ctx.registry, `${ctx.ns}/manifests`, TAG, {
    'deployment.yaml': deploymentYaml(malicious),
  });

export const ociKustomization: Scenario = {
  id: 'oci-kustomization',
  title: 'OCIRepository → Kustomization',
  deploy: async (ctx) => {
    const good = await push(ctx, false);
    await signCosignLegacy(ctx.home, ctx.registry, good, ctx.release);
    return {
      objects: [
        {
          apiVersion: SOURCE_API,
          kind: 'OCIRepository',
          metadata: { name: WORKLOAD, namespace: ctx.ns },
          spec: {
            interval: ctx.interval,
            url: `oci://${ctx.registry.host}/${ctx.ns}/manifests`,
            ref: { tag: TAG },
            insecure: true,
          },
        },
        {
          apiVersion: KUSTOMIZE_API,
          kind: 'Kustomization',
          metadata: { name: WORKLOAD, namespace: ctx.ns },
          spec: {
            interval: ctx.interval,
            sourceRef: { kind: 'OCIRepository', name: WORKLOAD },
            path: './',
            prune: false,
            wait: false,
            timeout: '1m',
            targetNamespace: ctx.ns,
          },
        },
      ],
      avSourceRef: { kind: 'OCIRepository', name: WORKLOAD },
      sourceKind: 'OCIRepository',
      pinnable: true,
    };
  },
  // Nothing to build ahead: the archive is made at push time and takes milliseconds.
  prepareAttack: (ctx) => Promise.resolve(async () => ({ markers: [(await push(ctx, true)).digest] })),
};
