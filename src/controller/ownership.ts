// Which ArtifactVerifications this instance owns: those in its --watch-namespace (all namespaces when
// unset) that its --watch-label-selector (if any) selects. The CR informer lists only those, but keys also
// arrive from objects watched cluster-wide (a target's tagguard.dev/held-by names its holder, whichever
// instance that is): every path that turns a key into a reconcile asks here first.
import type { OperatorConfig } from '../config/operator-config.ts';
import { matchesLabels } from '../config/label-selector.ts';

type Scope = Pick<OperatorConfig, 'watchNamespace' | 'watchLabelSelector'>;

export const ownsNamespace = (scope: Scope, namespace: string | undefined): boolean =>
  scope.watchNamespace === undefined || namespace === scope.watchNamespace;

export const ownsArtifactVerification = (
  scope: Scope,
  metadata: {
    readonly namespace?: string | undefined;
    readonly labels?: Readonly<Record<string, string>> | undefined;
  },
): boolean =>
  ownsNamespace(scope, metadata.namespace) &&
  (scope.watchLabelSelector === undefined || matchesLabels(scope.watchLabelSelector, metadata.labels));
