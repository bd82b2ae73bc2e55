// A GitOps object that tagguard may hold: the sources adapters find it, enforce holds and releases it,
// status names it. It lives here, below both, so neither imports the other.

export interface TargetRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /**
   * The target has a field that action Pin may set for this artifact: `digest` (an OCIRepository's
   * spec.ref.digest, an Argo CD single native OCI source's targetRevision) or `version` (the chart version
   * range of a HelmRelease template or of a HelmChart that no HelmRelease generates). Absent: no pin.
   */
  readonly pin?: 'digest' | 'version';
}
