// The operator's Prometheus metrics (docs/design.md#conditions-events-metrics), on a registry of their own
// (no global state). Label sets are small and bounded: CR namespace/name, registry host, result words; never
// a tag or a digest.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RegistryRequestEvent } from '../registry/transport.ts';
import type { Severity } from '../api/artifact-verification.ts';

/**
 * Which ArtifactVerifications get series of their own (--object-metrics): `all` (default), or only those
 * that need attention (`unhealthy`: not trusted, holding a target, with findings, or a verdict other than
 * Trusted), so that a cluster of thousands of healthy CRs exports a few series, not thousands (issue 17).
 * The alerts of config/prometheus work in both modes: they select unhealthy series.
 */
export type ObjectMetricsMode = 'all' | 'unhealthy';

export interface OperatorMetrics {
  readonly registry: Registry;
  readonly objectMetrics: ObjectMetricsMode;
  /** ArtifactVerifications by state (trusted, untrusted), whatever the mode: bounded by the states. */
  readonly objects: Gauge<'state'>;
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
  readonly helmIndexPolls: Counter<'host' | 'result'>;
  readonly helmIndexBytes: Counter<'host'>;
}

const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low'];

export const createMetrics = (
  options: { defaultMetrics?: boolean; objectMetrics?: ObjectMetricsMode } = {},
): OperatorMetrics => {
  const registry = new Registry();
  if (options.defaultMetrics ?? true)
    collectDefaultMetrics({ register: registry, prefix: 'tagguard_process_' });
  const registers = [registry];
  return {
    registry,
    objectMetrics: options.objectMetrics ?? 'all',
    objects: new Gauge({
      name: 'tagguard_artifact_verifications',
      help: 'ArtifactVerifications reconciled by this instance, by state (trusted, untrusted).',
      labelNames: ['state'],
      registers,
    }),
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
    helmIndexPolls: new Counter({
      name: 'tagguard_helm_index_polls_total',
      help: 'GETs of the index.yaml of HTTP Helm repositories by host and result (changed, unchanged, error).',
      labelNames: ['host', 'result'],
      registers,
    }),
    helmIndexBytes: new Counter({
      name: 'tagguard_helm_index_bytes_total',
      help: 'Body bytes of index.yaml read from HTTP Helm repositories (0 for a 304), by host.',
      labelNames: ['host'],
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

export interface ObjectLabels {
  readonly namespace: string;
  readonly name: string;
}

/** What one reconcile says of its CR, for the per-object series. */
export interface ObjectReport {
  readonly trusted: boolean;
  /** Targets held in a way that blocks deployment. */
  readonly blocking: number;
  /** Findings of this reconcile's scan by severity; undefined when nothing was scanned. */
  readonly findings?: Readonly<Partial<Record<Severity, number>>>;
}

/** The state of every CR this instance reports on, for tagguard_artifact_verifications. */
const states = new WeakMap<OperatorMetrics, Map<string, 'trusted' | 'untrusted'>>();

/** Moves one CR between states (undefined: gone); the gauge is adjusted, not recounted. */
const countStates = (
  metrics: OperatorMetrics,
  key: string,
  state: 'trusted' | 'untrusted' | undefined,
): void => {
  let byObject = states.get(metrics);
  if (byObject === undefined) {
    byObject = new Map<string, 'trusted' | 'untrusted'>();
    states.set(metrics, byObject);
    metrics.objects.set({ state: 'trusted' }, 0);
    metrics.objects.set({ state: 'untrusted' }, 0);
  }
  const before = byObject.get(key);
  if (before === state) return;
  if (before !== undefined) metrics.objects.dec({ state: before });
  if (state === undefined) byObject.delete(key);
  else {
    byObject.set(key, state);
    metrics.objects.inc({ state });
  }
};

/**
 * The per-object gauges of one reconcile. In `unhealthy` mode a CR that is trusted, holds nothing and has
 * no findings has no series (they are removed when it becomes healthy again).
 */
export const reportObject = (metrics: OperatorMetrics, labels: ObjectLabels, report: ObjectReport): void => {
  countStates(metrics, `${labels.namespace}/${labels.name}`, report.trusted ? 'trusted' : 'untrusted');
  const findings = report.findings;
  const anyFindings = findings !== undefined && SEVERITIES.some((s) => (findings[s] ?? 0) > 0);
  const unhealthy = !report.trusted || report.blocking > 0 || anyFindings;
  if (metrics.objectMetrics === 'unhealthy' && !unhealthy) {
    removeObjectGauges(metrics, labels);
    return;
  }
  metrics.artifactTrusted.set(labels, report.trusted ? 1 : 0);
  metrics.heldTargets.set(labels, report.blocking);
  // Every severity, so a fixed artifact drops back to zero.
  if (findings !== undefined)
    for (const severity of SEVERITIES)
      metrics.scanFindings.set({ ...labels, severity }, findings[severity] ?? 0);
};

/** A new verdict on a digest; in `unhealthy` mode Trusted verdicts are not counted per object. */
export const countVerdict = (metrics: OperatorMetrics, labels: ObjectLabels, result: string): void => {
  if (metrics.objectMetrics === 'unhealthy' && result === 'Trusted') return;
  metrics.verifications.inc({ ...labels, result });
};

const removeObjectGauges = (metrics: OperatorMetrics, labels: ObjectLabels): void => {
  metrics.heldTargets.remove(labels);
  metrics.artifactTrusted.remove(labels);
  for (const severity of SEVERITIES) metrics.scanFindings.remove({ ...labels, severity });
};

/** Drops every series of a deleted ArtifactVerification (counters too: the object is gone). */
export const forgetObject = (metrics: OperatorMetrics, labels: ObjectLabels): void => {
  countStates(metrics, `${labels.namespace}/${labels.name}`, undefined);
  removeObjectGauges(metrics, labels);
};
