// The reconcile of a sourceRef HelmRepository ("parent"): it judges no digest itself but keeps one child
// ArtifactVerification per consumer (as a Deployment keeps ReplicaSets), each judged and held by the
// ordinary reconcile, and sums up their verdicts. Steps: finalize (deletion) → ensureFinalizer →
// loadConsumers → planChildren → applyPlan, then report()
// (docs/design.md#a-helmrepository-fans-out-to-one-child-per-consumer).
import type { Logger } from 'pino';
import { FINALIZER, type ArtifactVerification } from '../api/artifact-verification.ts';
import type { EventSink } from '../observability/event-recorder.ts';
import type { HelmRepositoryConsumer } from '../sources/resolve-source.ts';
import type { ChildStore } from './child-store.ts';
import type { ClusterAccess } from './cluster-access.ts';
import { asReconcileError } from './fail-closed.ts';
import { canonicalJson } from './fanout/canonical-json.ts';
import { planChildren, type ChildPlan } from './fanout/child-plan.ts';
import { summarizeParent, type ParentInput } from './fanout/parent-status.ts';
import type { ReconcileError } from './reconcile-error.ts';
import { intervalOf } from './reconcile-spec.ts';
import type { SourceLoader } from './source-loader.ts';
import type { PlannedEvent } from './summary/events.ts';

/** How soon a parent being deleted looks again whether its children are gone (their deletion also wakes it). */
const CHILDREN_GONE_POLL_MS = 2_000;
/** How soon a parent plans again after a child changed under its update (optimistic concurrency, not an error). */
const CONFLICT_RETRY_MS = 1_000;

export interface FanoutDeps {
  readonly cluster: Pick<ClusterAccess, 'writeStatus' | 'writeFinalizers'>;
  readonly children: ChildStore;
  readonly sources: Pick<SourceLoader, 'loadConsumers'>;
  readonly events: EventSink;
  readonly logger: Logger;
  readonly now: () => Date;
}

export interface FanoutResult {
  readonly requeueAfterMs?: number;
}

export class HelmRepositoryFanout {
  private readonly deps: FanoutDeps;

  constructor(deps: FanoutDeps) {
    this.deps = deps;
  }

  async reconcile(found: ArtifactVerification, log: Logger): Promise<FanoutResult> {
    if (found.metadata.deletionTimestamp) return this.finalize(found, log);
    const object = await this.ensureFinalizer(found);
    let listed: readonly ArtifactVerification[] = [];
    let plan: ChildPlan | undefined;
    let error: ReconcileError | undefined;
    let conflicted = false;
    try {
      const consumers = await this.loadConsumers(object);
      listed = await this.deps.children.list(object);
      plan = planChildren(object, consumers, listed);
      conflicted = !(await this.applyPlan(plan));
    } catch (thrown) {
      // Children are left as they are: each one keeps judging and holding its own consumer (fail closed).
      error = asReconcileError(thrown, 'fan-out to the consumers');
      log.warn({ reason: error.reason, kind: error.code, err: error.message }, 'fan-out failed');
    }
    await this.report(object, listed, plan, error);
    if (error?.code === 'Stalled') return {};
    if (error?.code === 'Generic') throw error;
    if (conflicted) return { requeueAfterMs: CONFLICT_RETRY_MS };
    return { requeueAfterMs: error?.retryAfterMs ?? intervalOf(object) };
  }

  /**
   * Deletion: delete every child and keep the finalizer until they are gone, so that once the parent is
   * gone every hold its children had is released (each child's own finalizer releases them). Kubernetes
   * garbage collection would delete the children too (owner references); this does not depend on it.
   */
  private async finalize(object: ArtifactVerification, log: Logger): Promise<FanoutResult> {
    if (!object.metadata.finalizers?.includes(FINALIZER)) return {};
    const children = await this.deps.children.list(object);
    for (const child of children)
      if (child.metadata.deletionTimestamp === undefined) await this.deps.children.delete(child);
    if (children.length > 0) {
      log.info({ children: children.length }, 'waiting for the children to release their holds');
      return { requeueAfterMs: CHILDREN_GONE_POLL_MS };
    }
    await this.deps.cluster.writeFinalizers(
      object,
      (object.metadata.finalizers ?? []).filter((f) => f !== FINALIZER),
    );
    log.info('finalized: every child is gone');
    return {};
  }

  /** The finalizer goes on first, so that deleting the parent always deletes (and waits for) its children. */
  private async ensureFinalizer(object: ArtifactVerification): Promise<ArtifactVerification> {
    if (object.metadata.finalizers?.includes(FINALIZER)) return object;
    return this.deps.cluster.writeFinalizers(object, [...(object.metadata.finalizers ?? []), FINALIZER]);
  }

  /**
   * The consumers, whatever the repository's type: each child watches its consumer's chart, an OCI
   * artifact (type oci) or an index entry of an HTTP(S) repository (type default).
   */
  private async loadConsumers(object: ArtifactVerification): Promise<readonly HelmRepositoryConsumer[]> {
    return (await this.deps.sources.loadConsumers(object)).consumers;
  }

  /** false when a child changed under its update: the parent plans again soon from a fresh list. */
  private async applyPlan(plan: ChildPlan): Promise<boolean> {
    let replacedAll = true;
    for (const child of plan.create) await this.deps.children.create(child);
    for (const child of plan.update) replacedAll = (await this.deps.children.replace(child)) && replacedAll;
    for (const child of plan.remove) await this.deps.children.delete(child);
    return replacedAll;
  }

  /** The one exit: the status is written when it changed, then the Events. */
  private async report(
    object: ArtifactVerification,
    listed: readonly ArtifactVerification[],
    plan: ChildPlan | undefined,
    error: ReconcileError | undefined,
  ): Promise<void> {
    const byName = new Map(listed.map((child) => [child.metadata.name, child]));
    const created = new Set(plan?.create.map((c) => c.metadata.name));
    const input: ParentInput = {
      parent: object,
      now: this.deps.now(),
      charts: (plan?.children ?? []).map(({ consumer, name }) => ({
        consumer,
        name,
        child: byName.get(name),
      })),
      added: (plan?.children ?? []).filter(({ name }) => created.has(name)).map((c) => c.consumer),
      removed: plan?.remove ?? [],
      ...(error ? { error } : {}),
    };
    const summary = summarizeParent(input);
    // Compared key order aside: the API server returns the status with its keys sorted.
    if (canonicalJson(summary.status) !== canonicalJson(object.status ?? {}))
      await this.deps.cluster.writeStatus(object, summary.status);
    for (const event of summary.events) await this.emit(object, event);
  }

  private emit(object: ArtifactVerification, event: PlannedEvent): Promise<void> {
    if (event.target !== 'self') return Promise.resolve();
    return this.deps.events.record(
      {
        apiVersion: object.apiVersion,
        kind: object.kind,
        namespace: object.metadata.namespace ?? '',
        name: object.metadata.name,
        ...(object.metadata.uid ? { uid: object.metadata.uid } : {}),
      },
      { type: event.type, reason: event.reason, note: event.note, action: event.action },
    );
  }
}
