// What one attack-race scenario provides to the shared trial runner: the good artifact pushed and signed
// with the Flux objects that deploy it, and the attack (built ahead, pushed at the chosen moment).
import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeTestClient } from '../../test/env/kube.ts';
import type { RegistryEndpoint } from '../../test/env/registries.ts';
import type { CosignKeyPair } from '../../test/env/sign.ts';
import type { ToolHome } from '../../test/env/tool-home.ts';
import type { Stored } from './recorder.ts';

export const SOURCE_API = 'source.toolkit.fluxcd.io/v1';
export const HELM_API = 'helm.toolkit.fluxcd.io/v2';
export const KUSTOMIZE_API = 'kustomize.toolkit.fluxcd.io/v1';
export const HELM_CHART_LAYER = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';
/** Every trial deploys one workload of this name (the chart's release name or the manifest's). */
export const WORKLOAD = 'payment';

export interface TrialContext {
  readonly ns: string;
  readonly kube: KubeTestClient;
  readonly home: ToolHome;
  readonly registry: RegistryEndpoint;
  readonly release: CosignKeyPair;
  /** Flux's and tagguard's poll interval, e.g. "10s". */
  readonly interval: string;
  /** A fresh directory for this trial's files. */
  readonly workDir: string;
}

export interface Deployed {
  /** The Flux objects to apply (sources first). */
  readonly objects: readonly KubernetesObject[];
  /** What the ArtifactVerification names as its sourceRef. */
  readonly avSourceRef: { readonly kind: string; readonly name: string };
  /** The Flux source whose status.artifact shows what Flux fetched. */
  readonly sourceKind: 'OCIRepository' | 'HelmChart';
  /** Whether `action: Pin` has a digest field to pin on this source. */
  readonly pinnable: boolean;
}

export interface Attack {
  /** Strings that, found in a source's status.artifact, mean Flux fetched the attacker's artifact. */
  readonly markers: readonly string[];
}

export interface Scenario {
  readonly id: string;
  readonly title: string;
  deploy(ctx: TrialContext): Promise<Deployed>;
  /** Builds the malicious artifact now (the slow part) and returns the push, made at the chosen moment. */
  prepareAttack(ctx: TrialContext): Promise<() => Promise<Attack>>;
  /**
   * Something that happens in the cluster at a random moment of the first poll interval after the push
   * (e.g. source-controller losing its chart cache), for scenarios where Flux would otherwise never look.
   */
  readonly afterAttack?: (ctx: TrialContext) => Promise<void>;
}

/** The attacker's payload: a privileged init container in the workload's pod template. */
export const isMalicious = (deployment: Stored): boolean => {
  const template = (deployment.spec?.template ?? {}) as {
    spec?: { initContainers?: { securityContext?: { privileged?: boolean } }[] };
  };
  return (template.spec?.initContainers ?? []).some((c) => c.securityContext?.privileged === true);
};
