// What a scan takes and gives back. The operator passes the consuming HelmRelease / Application values in
// `values`; the CLI passes what the user gave it.
import type { Finding } from '../api/artifact-verification.ts';
import type { ScanLimits } from './limits.ts';
import type { RenderStats } from './helm/render-chart.ts';
import type { LiveRenders } from './helm/live-renders.ts';
import type { SbomResult } from './sbom/check-sbom.ts';
import type { WasmModuleResult } from './wasm/check-wasm.ts';

export interface ScanOptions {
  /** Path of the pinned helm binary; without it the raw templates are scanned statically (rendered: false). */
  readonly helmBinary?: string | undefined;
  /** helm template --kube-version (e.g. "1.34.0"). */
  readonly kubeVersion?: string | undefined;
  /** The consumer's values, merged over spec.helm.values (which are merged over the chart defaults). */
  readonly values?: Record<string, unknown> | undefined;
  /** Release name and namespace helm renders with (default: the chart name, "default"). */
  readonly releaseName?: string | undefined;
  readonly namespace?: string | undefined;
  /** helm template's time limit (default 30 s). */
  readonly timeoutMs?: number | undefined;
  readonly limits?: Partial<ScanLimits> | undefined;
  /** Told how each helm render went (duration, helm's peak memory, outcome). */
  readonly onRender?: ((stats: RenderStats) => void) | undefined;
  /** Registry of running renders, killed by the process owner on SIGTERM/SIGINT/exit. */
  readonly liveRenders?: LiveRenders | undefined;
}

/** Why a scan result fails the policy. */
export type ScanFailureReason =
  | 'FindingsAtFailOn'
  | 'SbomMissing'
  | 'WasmInvalid'
  | 'WasmImportNotAllowed'
  /** Neither a Helm chart nor WASM: nothing could be scanned, and the policy does not allow that. */
  | 'UnknownArtifactType';

export type ArtifactKind = 'helm-chart' | 'wasm' | 'generic';

export interface ScanResult {
  /** True when helm rendered the templates; false for the static fallback (or when nothing was rendered). */
  readonly rendered: boolean;
  /** Findings after exceptions, most severe first. */
  readonly findings: readonly Finding[];
  /** Findings removed by exceptions. */
  readonly suppressed: number;
  /** True when any reason below applies: findings at or above failOn, a required SBOM missing, bad WASM. */
  readonly failed: boolean;
  readonly reasons: readonly ScanFailureReason[];
  readonly artifactKind?: ArtifactKind;
  readonly chart?: { readonly name: string; readonly version: string };
  readonly sbom?: SbomResult;
  readonly wasm?: { readonly modules: readonly WasmModuleResult[] };
}
