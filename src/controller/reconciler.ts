// The reconcile of one ArtifactVerification, as a list of named steps over a ReconcileState:
//   finalize (deletion) → ensureFinalizer → loadSources → resolveDigests → checkArtifacts → enforce
// and one exit, report(), that summarises the state into the status, Events and metrics. Steps never write
// the status themselves; the first step error stops the list and is summarised like any other outcome.
import type { Logger } from 'pino';
import {
  ANNOTATIONS,
  DEFAULT_ACTION,
  FINALIZER,
  type ArtifactVerification,
  type HoldAction,
  type Verdict,
} from '../api/artifact-verification.ts';
import type { OperatorConfig } from '../config/operator-config.ts';
import type { HoldOptions } from '../enforce/types.ts';
import { isDigest } from '../registry/reference.ts';
import type { EventSink } from '../observability/event-recorder.ts';
import { forgetObject, recordFindings, type OperatorMetrics } from '../observability/metrics.ts';
import type { ClusterAccess } from './cluster-access.ts';
import type { DigestPoller } from './digest-poller.ts';
import { parseDuration } from './duration.ts';
import { lastDigestForTag } from './history.ts';
import { stalled } from './reconcile-error.ts';
import { alreadyTrusted, asReconcileError, digestOfFailedResolution } from './fail-closed.ts';
import { requeueAfter, type ArtifactCheck, type ReconcileState } from './reconcile-state.ts';
import { Reason } from '../api/conditions.ts';
import { pollKey, repositoryReference, type RegistryAccess } from './registry-access.ts';
import { summarize, summarizeQuarantine, type PlannedEvent } from './summarize.ts';
import type { ArtifactChecker } from './artifact-checker.ts';
import type { SourceLoader, LoadedArtifact } from './source-loader.ts';
import type { TargetHolder } from './target-holder.ts';
import { decide, type CheckedDigest, type CheckOutcome, type Enforcement } from './verdict.ts';

/** What the reconciler uses of each collaborator (so a step can be tested with an in-memory stand-in). */
export interface ReconcilerDeps {
  readonly config: OperatorConfig;
  readonly cluster: ClusterAccess;
  readonly sources: Pick<SourceLoader, 'load'>;
  readonly registries: Pick<RegistryAccess, 'resolve'>;
  readonly poller: Pick<DigestPoller, 'resolve' | 'retain' | 'forget'>;
  readonly checker: Pick<ArtifactChecker, 'check'>;
  readonly holder: Pick<TargetHolder, 'holdAll' | 'pinTrusted' | 'recover' | 'releaseStale' | 'releaseAll'>;
  readonly events: EventSink;
  readonly metrics: OperatorMetrics;
  readonly logger: Logger;
  readonly now: () => Date;
}

export interface ReconcileResult {
  readonly requeueAfterMs?: number;
}

const DEFAULT_INTERVAL_MS = 60_000;
const MIN_INTERVAL_MS = 10_000;

const objectKey = (object: ArtifactVerification): string =>
  `${object.metadata.namespace ?? ''}/${object.metadata.name}`;

const intervalOf = (object: ArtifactVerification): number => {
  const parsed = object.spec.interval ? parseDuration(object.spec.interval) : undefined;
  return Math.max(parsed ?? DEFAULT_INTERVAL_MS, MIN_INTERVAL_MS);
};

const actionOf = (object: ArtifactVerification): HoldAction => object.spec.action ?? DEFAULT_ACTION;

/**
 * How to hold. Pin keeps targets at the trusted digest, unless that digest is itself judged untrusted now
 * (a revoked certificate, a stricter policy): then there is nothing to pin to and Pin falls back to Suspend.
 */
const holdOptions = (
  object: ArtifactVerification,
  distrusted: readonly string[] = [],
): Omit<HoldOptions, 'expectHeld'> => {
  const trusted = object.status?.trustedDigest;
  return {
    action: actionOf(object) === 'Pin' ? 'Pin' : 'Suspend',
    argocdMethod: object.spec.argocd?.suspendMethod ?? 'DisableAutoSync',
    ...(trusted && !distrusted.includes(trusted) ? { pinDigest: trusted } : {}),
  };
};

export class ArtifactVerificationReconciler {
  private readonly deps: ReconcilerDeps;

  constructor(deps: ReconcilerDeps) {
    this.deps = deps;
  }

  async reconcile(namespace: string, name: string): Promise<ReconcileResult> {
    const { cluster, logger } = this.deps;
    let object = await cluster.getArtifactVerification(namespace, name);
    const log = logger.child({ artifactVerification: `${namespace}/${name}` });
    // Whether status.heldTargets is known to list every hold of this CR: not on its first reconcile in
    // this process (a crash may have come between holding a target and recording it), nor after a
    // reconcile whose status write failed. Then the targets' held-by annotations are looked at first.
    let recordComplete = this.recordComplete.delete(`${namespace}/${name}`);
    if (!object) {
      this.deps.poller.forget(`${namespace}/${name}`);
      forgetObject(this.deps.metrics, { namespace, name });
      return {};
    }
    if (object.metadata.deletionTimestamp) return this.finalize(object, log);
    if (!object.metadata.finalizers?.includes(FINALIZER))
      object = await cluster.writeFinalizers(object, [...(object.metadata.finalizers ?? []), FINALIZER]);

    const state: ReconcileState = {
      object,
      now: this.deps.now(),
      targets: [],
      checks: [],
      failures: [],
      heldTargets: object.status?.heldTargets ?? [],
      holdEvents: [],
    };
    const started = process.hrtime.bigint();
    try {
      const loaded = await this.loadSources(state);
      if (!recordComplete) {
        state.heldTargets = await this.deps.holder.recover(
          objectKey(object),
          state.targets,
          state.heldTargets,
          holdOptions(object),
        );
        recordComplete = true;
      }
      state.heldBefore = state.heldTargets;
      const resolved = await this.resolveDigests(state, loaded);
      await this.quarantine(state, resolved, log);
      const checked = await this.checkArtifacts(state, resolved);
      await this.enforce(state, this.decide(state, checked));
    } catch (error) {
      // Only steps that judge no digest throw here (reading the source, recovering or applying holds): the
      // targets stay as they are. Errors while judging a digest are verdicts (verdict.ts) and held above.
      state.error = asReconcileError(error, 'reconcile');
    }
    if (state.error)
      log.warn(
        { reason: state.error.reason, kind: state.error.code, err: state.error.message },
        'reconcile step failed',
      );
    await this.report(state, log);
    if (recordComplete) this.recordComplete.add(`${namespace}/${name}`);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.deps.metrics.reconcileDuration.observe({ result: state.error ? 'error' : 'success' }, seconds);
    if (state.error?.code === 'Stalled') return {};
    if (state.error?.code === 'Generic') throw state.error;
    requeueAfter(state, state.error?.retryAfterMs ?? intervalOf(object));
    return state.requeueAfterMs !== undefined ? { requeueAfterMs: state.requeueAfterMs } : {};
  }

  /** Deletion: release every hold this CR has (from its status and from the targets' annotations), then let go. */
  private async finalize(object: ArtifactVerification, log: Logger): Promise<ReconcileResult> {
    if (!object.metadata.finalizers?.includes(FINALIZER)) return {};
    const holder = objectKey(object);
    const released = await this.deps.holder.releaseAll(holder, object.status?.heldTargets ?? []);
    for (const target of released)
      await this.emit(object, {
        target,
        type: 'Normal',
        reason: 'Released',
        action: 'Release',
        note: `released: ArtifactVerification ${holder} was deleted`,
      });
    await this.deps.cluster.writeFinalizers(
      object,
      (object.metadata.finalizers ?? []).filter((f) => f !== FINALIZER),
    );
    this.deps.poller.forget(holder);
    forgetObject(this.deps.metrics, {
      namespace: object.metadata.namespace ?? '',
      name: object.metadata.name,
    });
    log.info({ released: released.length }, 'finalized');
    return {};
  }

  private async loadSources(state: ReconcileState): Promise<readonly LoadedArtifact[]> {
    const loaded = await this.deps.sources.load(state.object);
    state.targets = loaded.targets;
    if (loaded.artifacts.length === 0)
      throw stalled(Reason.UnsupportedSource, 'the source names no OCI artifact tagguard can watch');
    return loaded.artifacts;
  }

  private async resolveDigests(
    state: ReconcileState,
    artifacts: readonly LoadedArtifact[],
  ): Promise<ResolvedArtifact[]> {
    const { object } = state;
    const subscriber = objectKey(object);
    const interval = intervalOf(object);
    const requested = object.metadata.annotations?.[ANNOTATIONS.requestedAt];
    // A new requested-at value asks for a fresh answer from the registry, not the poller's last one.
    const fresh = requested !== undefined && requested !== this.lastRequestedAt.get(subscriber);
    state.reverify = fresh;
    const maxAge = fresh ? 0 : interval;
    if (requested !== undefined) this.lastRequestedAt.set(subscriber, requested);
    const keys: string[] = [];
    const resolved: ResolvedArtifact[] = [];
    for (const artifact of artifacts) {
      const key = pollKey(artifact.access);
      keys.push(key);
      let resolution;
      try {
        resolution = await this.deps.poller.resolve(
          key,
          subscriber,
          interval,
          () => this.deps.registries.resolve(artifact.access),
          maxAge,
        );
        this.deps.metrics.digestResolutions.inc({
          registry: repositoryReference(artifact.access.url).registry,
          result: 'ok',
        });
      } catch (error) {
        this.deps.metrics.digestResolutions.inc({
          registry: safeRegistry(artifact.access.url),
          result: 'error',
        });
        const failure = {
          url: artifact.access.url,
          tag: artifact.access.tag,
          digest: digestOfFailedResolution(object.status, artifact.access, error),
          error: asReconcileError(error, `resolving ${artifact.access.url}`),
        };
        state.failures.push(failure);
        state.error ??= failure.error;
        continue;
      }
      resolved.push({
        artifact,
        digest: resolution.digest,
        tag: resolution.tag,
        mediaType: resolution.mediaType,
        resolvedAt: new Date(resolution.at),
      });
    }
    this.deps.poller.retain(subscriber, keys);
    return resolved;
  }

  /**
   * Quarantine on detection: a digest that is not trusted yet (first seen, re-pushed, or judged before and
   * not trusted) holds the targets *before* it is verified and scanned, so the GitOps tool cannot deploy it
   * while tagguard is still judging; the hold is recorded in the status at once (Ready=False, Verifying) and
   * released in the same reconcile when the digest turns out trusted. A digest already trusted or approved
   * holds nothing. With Pin, a target already pinned to the trusted digest needs no write at all.
   */
  private async quarantine(
    state: ReconcileState,
    resolved: readonly ResolvedArtifact[],
    log: Logger,
  ): Promise<void> {
    const { object } = state;
    if (actionOf(object) === 'Warn') return;
    const approved = object.metadata.annotations?.[ANNOTATIONS.approve];
    const unjudged = resolved.filter(
      (item) => !alreadyTrusted(object.status, item.digest) && item.digest !== approved,
    );
    if (unjudged.length === 0) return;
    const first = state.holdEvents.length;
    state.heldTargets = await this.deps.holder.holdAll(
      objectKey(object),
      state.targets,
      state.heldTargets,
      holdOptions(object),
      state,
    );
    const digests = unjudged.map((item) => item.digest);
    const note = `while ${digests.map((d) => d.slice(0, 19)).join(', ')} is verified (Verifying)`;
    const added = state.holdEvents.splice(first);
    state.holdEvents.push(
      ...added.map((e) => (e.kind === 'Held' ? { ...e, message: `${e.message} ${note}` } : e)),
    );
    if (!added.some((e) => e.kind === 'Held' || e.kind === 'HoldReverted')) return;
    // The record of the hold, written before the (possibly long) verification: kubectl shows Verifying.
    const status = summarizeQuarantine(
      state,
      unjudged.map((item) => ({ url: item.artifact.access.url, digest: item.digest })),
    );
    await this.deps.cluster.writeStatus(object, status);
    state.writtenStatus = status;
    log.info({ digests, held: state.heldTargets.length }, 'quarantined: holding the targets while verifying');
  }

  private readonly lastRequestedAt = new Map<string, string>();
  private readonly recordComplete = new Set<string>();

  private async checkArtifacts(
    state: ReconcileState,
    resolved: readonly ResolvedArtifact[],
  ): Promise<CheckedDigest[]> {
    const { object } = state;
    const checked: CheckedDigest[] = [];
    const history = object.status?.history;
    const approved = object.metadata.annotations?.[ANNOTATIONS.approve];
    for (const item of resolved) {
      const last = lastDigestForTag(history, item.tag);
      // The digest this tag had before the current one: kept while the current one is not trusted, so
      // TagMutated stays True across re-checks, not only in the reconcile that saw the move.
      const before = history?.find((h) => h.tag === item.tag && h.digest !== item.digest)?.digest;
      const known = history?.some((h) => h.digest === item.digest && h.tag === item.tag) ?? false;
      const check: ArtifactCheck = {
        url: item.artifact.access.url,
        tag: item.tag,
        digest: item.digest,
        mediaType: item.mediaType,
        resolvedAt: item.resolvedAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        previousDigest: item.tag !== undefined ? before : undefined,
        moved: last !== undefined && last !== item.digest,
        firstSeen: !known,
        approved: approved !== undefined && isDigest(approved) && approved === item.digest,
      };
      if (check.moved)
        this.deps.metrics.tagMutations.inc({
          namespace: object.metadata.namespace ?? '',
          name: object.metadata.name,
        });
      let outcome: CheckOutcome;
      try {
        outcome = await this.deps.checker.check(object, item.artifact, item.digest, {
          reverify: state.reverify === true,
        });
      } catch (thrown) {
        // No verdict could be reached on this digest: that is the verdict Error (verdict.ts decides
        // whether it holds), unless a person approved this digest by hand.
        const error = asReconcileError(thrown, `checking ${item.artifact.access.url}@${item.digest}`);
        state.error ??= error;
        outcome = { error };
      }
      if (outcome.error === undefined) {
        if (outcome.verification) check.verification = outcome.verification;
        if (outcome.scan) check.scan = outcome.scan;
      }
      state.checks.push(check);
      checked.push({ digest: check.digest, tag: check.tag, approved: check.approved, outcome });
    }
    return checked;
  }

  /** The verdicts and what enforcement does (verdict.ts), recorded on the checks. */
  private decide(state: ReconcileState, checked: readonly CheckedDigest[]): Enforcement {
    const { object } = state;
    const decision = decide({
      status: object.status,
      action: actionOf(object),
      resume: object.spec.resume ?? 'Automatic',
      checked,
      failures: state.failures,
      heldBefore: state.heldBefore ?? state.heldTargets,
    });
    for (const [index, check] of state.checks.entries()) {
      const verdict = decision.verdicts[index];
      if (!verdict) continue;
      check.verdict = verdict.verdict;
      if (verdict.reason !== undefined) check.reason = verdict.reason;
      if (verdict.message !== undefined) check.message = verdict.message;
      this.countVerdict(object, check, verdict.judged);
    }
    return decision.enforcement;
  }

  /** Counted once per verdict on a digest, not on every reconcile (cached results are not new verifications). */
  private countVerdict(object: ArtifactVerification, check: ArtifactCheck, verdict: Verdict): void {
    const prior = object.status?.history?.find((h) => h.digest === check.digest && h.tag === check.tag);
    if (prior?.verdict !== verdict)
      this.deps.metrics.verifications.inc({
        namespace: object.metadata.namespace ?? '',
        name: object.metadata.name,
        result: verdict,
      });
  }

  /** Carries out the decision on the targets. */
  private async enforce(state: ReconcileState, enforcement: Enforcement): Promise<void> {
    const { object } = state;
    const holder = objectKey(object);
    switch (enforcement.kind) {
      case 'Keep':
        return;
      case 'Hold':
        state.heldTargets = await this.deps.holder.holdAll(
          holder,
          state.targets,
          state.heldTargets,
          holdOptions(object, enforcement.distrusted),
          state,
        );
        return;
      case 'Pin':
        state.heldTargets = await this.deps.holder.pinTrusted(
          holder,
          state.targets,
          state.heldTargets,
          { digest: enforcement.digest, version: enforcement.version },
          state,
        );
        return;
      case 'Release':
        state.heldTargets = await this.deps.holder.releaseStale(holder, state.heldTargets, [], state);
        return;
    }
  }

  /** The one exit: status, Events, metrics. */
  private async report(state: ReconcileState, log: Logger): Promise<void> {
    const { object } = state;
    const summary = summarize(state);
    const labels = { namespace: object.metadata.namespace ?? '', name: object.metadata.name };
    this.deps.metrics.artifactTrusted.set(labels, summary.trusted ? 1 : 0);
    this.deps.metrics.heldTargets.set(labels, summary.blocking);
    if (state.checks.some((c) => c.scan))
      recordFindings(this.deps.metrics, labels, summary.findingsBySeverity);
    if (JSON.stringify(summary.status) !== JSON.stringify(state.writtenStatus ?? object.status ?? {})) {
      try {
        await this.deps.cluster.writeStatus(object, summary.status);
      } catch (error) {
        log.error({ err: error instanceof Error ? error.message : String(error) }, 'could not write status');
        throw error;
      }
    }
    for (const event of summary.events) await this.emit(object, event);
    log.info(
      {
        verdict: summary.trusted ? 'Trusted' : state.error ? 'Error' : 'Untrusted',
        digests: state.checks.map((c) => c.digest),
        held: summary.status.heldTargets?.length ?? 0,
      },
      'reconciled',
    );
  }

  private emit(object: ArtifactVerification, event: PlannedEvent): Promise<void> {
    const target =
      event.target === 'self'
        ? {
            apiVersion: object.apiVersion,
            kind: object.kind,
            namespace: object.metadata.namespace ?? '',
            name: object.metadata.name,
            ...(object.metadata.uid ? { uid: object.metadata.uid } : {}),
          }
        : event.target;
    return this.deps.events.record(target, {
      type: event.type,
      reason: event.reason,
      note: event.note,
      action: event.action,
    });
  }
}

interface ResolvedArtifact {
  readonly artifact: LoadedArtifact;
  readonly digest: string;
  readonly tag: string | undefined;
  readonly mediaType: string;
  readonly resolvedAt: Date;
}

const safeRegistry = (url: string): string => {
  try {
    return repositoryReference(url).registry;
  } catch {
    return 'invalid';
  }
};
