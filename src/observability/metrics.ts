// The operator's Prometheus metrics (docs/design.md#conditions-events-metrics), on a registry of their own
// (no global state). Label sets are small and bounded: CR namespace/name, registry host, result words; never
// a tag or a digest.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RegistryRequestEvent } from '../registry/transport.ts';
import type { Severity } from '../api/artifact-verification.ts';

export interface OperatorMetrics {
  readonly registry: Registry;
  readonly digestResolutions: Counter<'registry' | 'result'>;
  readonly tagMutations: Counter<'namespace' | 'name'>;
  readonly verifications: Counter<'namespace' | 'name' | 'result'>;
  readonly verificationDuration: Histogram;
  readonly scanFindings: Gauge<'namespace' | 'name' | 'severity'>;
  readonly heldTargets: Gauge<'namespace' | 'name'>;
  readonly artifactTrusted: Gauge<'namespace' | 'name'>;
  readonly registryRequests: Counter<'registry' | 'method' | 'code'>;
  readonly registryRequestDuration: Histogram<'registry' | 'method'>;
  readonly reconcileDuration: Histogram<'result'>;
  readonly workqueueDepth: Gauge;
  readonly webhookRequests: Counter<'provider' | 'result'>;
  readonly webhookTriggeredResolves: Counter;
}

const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low'];

export const createMetrics = (options: { defaultMetrics?: boolean } = {}): OperatorMetrics => {
  const registry = new Registry();
  if (options.defaultMetrics ?? true)
    collectDefaultMetrics({ register: registry, prefix: 'tagguard_process_' });
  const registers = [registry];
  return {
    registry,
    digestResolutions: new Counter({
      name: 'tagguard_digest_resolutions_total',
      help: 'Tag to digest resolutions by registry and result (ok, error).',
      labelNames: ['registry', 'result'],
      registers,
    }),
    tagMutations: new Counter({
      name: 'tagguard_tag_mutations_total',
      help: 'Times a watched tag started pointing at another digest.',
      labelNames: ['namespace', 'name'],
      registers,
    }),
    verifications: new Counter({
      name: 'tagguard_verifications_total',
      help: 'Verifications of a new digest by result (Trusted, Untrusted, Error).',
      labelNames: ['namespace', 'name', 'result'],
      registers,
    }),
    verificationDuration: new Histogram({
      name: 'tagguard_verification_duration_seconds',
      help: 'Time to verify signatures and scan one digest.',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    scanFindings: new Gauge({
      name: 'tagguard_scan_findings',
      help: 'Findings of the last scan by severity.',
      labelNames: ['namespace', 'name', 'severity'],
      registers,
    }),
    heldTargets: new Gauge({
      name: 'tagguard_held_targets',
      help: 'GitOps objects currently held by this ArtifactVerification.',
      labelNames: ['namespace', 'name'],
      registers,
    }),
    artifactTrusted: new Gauge({
      name: 'tagguard_artifact_trusted',
      help: '1 when the current digest passed every check, 0 otherwise.',
      labelNames: ['namespace', 'name'],
      registers,
    }),
    registryRequests: new Counter({
      name: 'tagguard_registry_requests_total',
      help: 'HTTP requests to registries by registry, method and status code (or error code).',
      labelNames: ['registry', 'method', 'code'],
      registers,
    }),
    registryRequestDuration: new Histogram({
      name: 'tagguard_registry_request_duration_seconds',
      help: 'Duration of registry HTTP requests.',
      labelNames: ['registry', 'method'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    }),
    reconcileDuration: new Histogram({
      name: 'tagguard_reconcile_duration_seconds',
      help: 'Duration of one reconcile of an ArtifactVerification.',
      labelNames: ['result'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    workqueueDepth: new Gauge({
      name: 'tagguard_workqueue_depth',
      help: 'Keys waiting in the reconcile work queue.',
      registers,
    }),
    webhookRequests: new Counter({
      name: 'tagguard_webhook_requests_total',
      help: 'Push notifications received, by provider and result (accepted, no_match, unauthorized, malformed, too_large, unsupported_media_type, method_not_allowed, not_found, unavailable).',
      labelNames: ['provider', 'result'],
      registers,
    }),
    webhookTriggeredResolves: new Counter({
      name: 'tagguard_webhook_triggered_resolves_total',
      help: 'Tag resolutions run because a push notification named the artifact (after dedupe and spacing).',
      registers,
    }),
  };
};

/** The registry transport's onRequest hook, feeding the request metrics. */
export const registryRequestObserver =
  (metrics: OperatorMetrics) =>
  (event: RegistryRequestEvent): void => {
    metrics.registryRequests.inc({ registry: event.registry, method: event.method, code: event.code });
    metrics.registryRequestDuration.observe(
      { registry: event.registry, method: event.method },
      event.durationMs / 1000,
    );
  };

/** Sets the per-severity findings gauge (every severity, so a fixed artifact drops back to zero). */
export const recordFindings = (
  metrics: OperatorMetrics,
  labels: { namespace: string; name: string },
  counts: Readonly<Partial<Record<Severity, number>>>,
): void => {
  for (const severity of SEVERITIES) metrics.scanFindings.set({ ...labels, severity }, counts[severity] ?? 0);
};

/** Drops every series of a deleted ArtifactVerification. */
export const forgetObject = (metrics: OperatorMetrics, labels: { namespace: string; name: string }): void => {
  metrics.heldTargets.remove(labels);
  metrics.artifactTrusted.remove(labels);
  for (const severity of SEVERITIES) metrics.scanFindings.remove({ ...labels, severity });
};
