// The demo's numbered steps, in order: what scripts/demo.ts narrates and what its test expects to see.
export const DEMO_STEPS = [
  'Start a local control plane and registries',
  'Start the Flux controllers',
  'Start the tagguard operator',
  'Push and sign the chart payment:3.1.0',
  'Create the GitOps objects and their ArtifactVerifications',
  'tagguard trusts the signed chart',
  'The attack: re-push payment:3.1.0 with a privileged init container',
  'Detection: Verified=False, with the findings',
  'Flux and Argo CD are held',
  'The Events',
  'The metrics',
  'Prometheus fires TagguardTagMutated and TagguardTargetsHeld',
  'Recovery: point the tag at the good digest again',
  'Release: Flux and Argo CD are back as they were',
  'An HTTP Helm repository: payment 3.1.0 signed by helm package --sign, served by nginx',
  'The attack on the HTTP repository: 3.1.0 re-published (archive, .prov, index.yaml)',
  'Detection: Verified=False, the HelmRelease and its HelmChart are held',
  "tagguard's own chart: packaged, pushed, signed with cosign, and verified by tagguard",
] as const;

export type DemoStep = (typeof DEMO_STEPS)[number];
