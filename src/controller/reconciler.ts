// The reconcile of one ArtifactVerification, as a list of named steps: finalize (deletion) →
// ensureFinalizer → loadSources → recoverHolds → resolveDigests → quarantine → checkArtifacts → decide →
// enforce, and one exit, report(), that summarises what they returned into the status, Events and metrics.
// A sourceRef HelmRepository takes one branch of its own: the fan-out to a child per consumer.
import type { Logger } from 'pino';
import {
  ANNOTATIONS,
  FINALIZER,
  type ArtifactVerification,
  type ArtifactVerificationStatus,
  type HeldTarget,
  type Verdict,
} from '../api/artifact-verification.ts';
import type { OperatorConfig } from '../config/operator-config.ts';
import type { TargetRef } from '../enforce/types.ts';
import { isDigest } from '../registry/reference.ts';
import type { ResolvedArtifact } from '../registry/resolved-artifact.ts';
import type { EventSink } from '../observability/event-recorder.ts';
import { countVerdict, forgetObject, reportObject, type OperatorMetrics } from '../observability/metrics.ts';
import type { ClusterAccess } from './cluster-access.ts';
import { ownsArtifactVerification } from './ownership.ts';
import { freshEnough, type DigestPoller } from './digest-poller.ts';
import { actionOf, holdOptions, intervalOf, objectKey } from './reconcile-spec.ts';
import { tagHistory } from './history.ts';
import { stalled } from './reconcile-error.ts';
import {
  alreadyTrusted,
  asReconcileError,
  digestOfFailedResolution,
  type JudgementFailure,
} from './fail-closed.ts';
import type { ArtifactCheck, ReconcileState } from './reconcile-state.ts';
import { Reason } from '../api/conditions.ts';
import { pollKey, type RegistryAccess } from './registry-access.ts';
import { helmChartPollKey, indexMaxAge, type HelmRepositories } from './helm-repositories.ts';
import { summarize, summarizeQuarantine, type PlannedEvent } from './summarize.ts';
import type { ArtifactChecker } from './artifact-checker.ts';
import { stableHash } from './result-cache.ts';
import type { HelmRepositoryFanout } from './helm-repository-fanout.ts';
import type { SourceLoader, LoadedArtifact, LoadedSource } from './source-loader.ts';
import type { HoldChange, PinChange, TargetHolder } from './target-holder.ts';
import { decide, type CheckedDigest, type CheckOutcome, type Enforcement } from './verdict.ts';

/** What the reconciler uses of each collaborator (so a step can be tested with an in-memory stand-in). */
export interface ReconcilerDeps {
  readonly config: OperatorConfig;
  readonly cluster: ClusterAccess;
  readonly sources: Pick<SourceLoader, 'load'>;
  readonly registries: Pick<RegistryAccess, 'clientFor' | 'resolve'>;
  /** Charts of HTTP(S) Helm repositories: their index polls and entries. */
  readonly helmRepositories: Pick<HelmRepositories, 'resolve' | 'resolved'>;
  readonly poller: Pick<DigestPoller, 'resolve' | 'retain' | 'forget'>;
  readonly checker: Pick<ArtifactChecker, 'check'>;
  readonly holder: Pick<TargetHolder, 'holdAll' | 'pinTrusted' | 'recover' | 'releaseStale' | 'releaseAll'>;
  /** sourceRef HelmRepository: one child ArtifactVerification per consumer, reconciled by these steps. */
  readonly fanout: Pick<HelmRepositoryFanout, 'reconcile'>;
  readonly events: EventSink;
  readonly metrics: OperatorMetrics;
  readonly logger: Logger;
  readonly now: () => Date;
}

export interface ReconcileResult {
  readonly requeueAfterMs?: number;
}

export class ArtifactVerificationReconciler {
  private readonly deps: ReconcilerDeps;
  private readonly lastRequestedAt = new Map<string, string>();
  /**
   * The CRs whose status.heldTargets is known to list every hold: not on a CR's first reconcile in this
   * process (a crash may have come between holding a target and recording it), nor after a reconcile whose
   * status write failed. For the others, the targets' held-by annotations are looked at first.
   */
  private readonly recordComplete = new Set<string>();

  constructor(deps: ReconcilerDeps) {
    this.deps = deps;
  }

  /**
   * finalize (deletion) → ensureFinalizer → loadSources → recoverHolds → resolveDigests → quarantine →
   * checkArtifacts → decide → enforce, then report(). Each step returns what it produced and the
   * reconcile records it in the state; the first step that throws stops the list.
   */
  async reconcile(namespace: string, name: string): Promise<ReconcileResult> {
    const key = `${namespace}/${name}`;
    const found = await this.deps.cluster.getArtifactVerification(namespace, name);
    const log = this.deps.logger.child({ artifactVerification: key });
    let recordComplete = this.recordComplete.delete(key);
    // A CR another shard selects (its labels changed since it was queued) is that shard's to reconcile.
    if (!found || !this.selects(found)) {
      this.deps.poller.forget(key);
      forgetObject(this.deps.metrics, { namespace, name });
      return {};
    }
    // A HelmRepository serves many charts: its CR keeps one child per consumer and judges nothing itself.
    if (found.spec.sourceRef?.kind === 'HelmRepository') return this.deps.fanout.reconcile(found, log);
    if (found.metadata.deletionTimestamp) return this.finalize(found, log);
    const object = await this.ensureFinalizer(found);

    const state: ReconcileState = {
      object,
      now: this.deps.now(),
      checks: [],
      failures: [],
      heldTargets: object.status?.heldTargets ?? [],
      holdEvents: [],
    };
    const started = process.hrtime.bigint();
    try {
      const { artifacts, targets } = await this.loadSources(object);
      if (!recordComplete) {
        state.heldTargets = await this.recoverHolds(object, targets, state.heldTargets);
        recordComplete = true;
      }
      const heldBefore = state.heldTargets;
      const { resolved, failures, reverify } = await this.resolveDigests(object, artifacts);
      state.failures = failures;
      if (failures[0]) state.error ??= failures[0].error;
      const quarantine = await this.quarantine(object, targets, resolved, state.heldTargets);
      if (quarantine) {
        record(state, quarantine);
        if (quarantine.recorded) state.writtenStatus = await this.recordQuarantine(state, quarantine, log);
      }
      const checked = await this.checkArtifacts(object, resolved, reverify);
      const checkError = checked.find((c) => c.outcome.error)?.outcome.error;
      if (checkError) state.error ??= checkError;
      const { checks, enforcement } = this.decide(object, checked, failures, heldBefore);
      state.checks = checks;
      const enforced = await this.enforce(object, targets, state.heldTargets, enforcement);
      if (enforced) record(state, enforced);
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
    if (recordComplete) this.recordComplete.add(key);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.deps.metrics.reconcileDuration.observe({ result: state.error ? 'error' : 'success' }, seconds);
    if (state.error?.code === 'Stalled') return {};
    if (state.error?.code === 'Generic') throw state.error;
    return { requeueAfterMs: state.error?.retryAfterMs ?? intervalOf(object) };
  }

  /**
   * Whether the CR is this instance's: in its --watch-namespace and selected by its --watch-label-selector
   * (if any). Keys come from more than the CR informer (a target's held-by annotation names its holder,
   * and targets are watched cluster-wide): a CR another instance owns is never reconciled here, which
   * would judge it with this instance's configuration and fight over its status and holds.
   */
  private selects(object: ArtifactVerification): boolean {
    return ownsArtifactVerification(this.deps.config, object.metadata);
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

  /**
   * The finalizer goes on before anything can be held, so a deletion always releases. A CR with a raw
   * `spec.artifact` and no recorded hold can hold nothing (it has no targets): it gets none, which saves an
   * API write and a second reconcile per CR at start (issue 17); its deletion needs no release, and the
   * reconcile that finds it gone forgets its poll keys and metrics. Should its spec gain a sourceRef, the
   * next reconcile adds the finalizer before anything is held.
   */
  private async ensureFinalizer(object: ArtifactVerification): Promise<ArtifactVerification> {
    if (object.metadata.finalizers?.includes(FINALIZER)) return object;
    if (object.spec.sourceRef === undefined && (object.status?.heldTargets ?? []).length === 0) return object;
    return this.deps.cluster.writeFinalizers(object, [...(object.metadata.finalizers ?? []), FINALIZER]);
  }

  private async loadSources(object: ArtifactVerification): Promise<LoadedSource> {
    const loaded = await this.deps.sources.load(object);
    if (loaded.artifacts.length === 0)
      throw stalled(Reason.UnsupportedSource, 'the source names no artifact tagguard can watch');
    return loaded;
  }

  /** The record with the holds the cluster shows for this CR that it lacks (TargetHolder.recover). */
  private recoverHolds(
    object: ArtifactVerification,
    targets: readonly TargetRef[],
    held: readonly HeldTarget[],
  ): Promise<HeldTarget[]> {
    return this.deps.holder.recover(objectKey(object), targets, held, holdOptions(object));
  }

  /**
   * Each artifact's digest through the shared poller, with the registry client that reaches it (looked up
   * once here, handed down to the checks). A failure is not thrown: it is a JudgementFailure attributed to
   * a digest (fail-closed.ts), judged with the others.
   */
  private async resolveDigests(
    object: ArtifactVerification,
    artifacts: readonly LoadedArtifact[],
  ): Promise<Resolution> {
    const subscriber = objectKey(object);
    const interval = intervalOf(object);
    const requested = object.metadata.annotations?.[ANNOTATIONS.requestedAt];
    // A new requested-at value asks for a fresh answer from the registry, not the poller's last one.
    const reverify = requested !== undefined && requested !== this.lastRequestedAt.get(subscriber);
    const maxAge = reverify ? 0 : freshEnough(interval);
    if (requested !== undefined) this.lastRequestedAt.set(subscriber, requested);
    const keys: string[] = [];
    const resolved: ResolvedDigest[] = [];
    const failures: JudgementFailure[] = [];
    for (const artifact of artifacts) {
      const { access } = artifact;
      const key = access.kind === 'helm-http' ? helmChartPollKey(access) : pollKey(access);
      const registry = access.kind === 'helm-http' ? access.host : access.reference.registry;
      keys.push(key);
      try {
        const item = await this.resolveOne(artifact, key, subscriber, interval, maxAge);
        this.deps.metrics.digestResolutions.inc({ registry, result: 'ok' });
        resolved.push(item);
      } catch (error) {
        this.deps.metrics.digestResolutions.inc({ registry, result: 'error' });
        const named = {
          url: access.url,
          tag: access.kind === 'helm-http' ? access.version : access.tag,
          ...(access.kind !== 'helm-http' && access.digest !== undefined ? { digest: access.digest } : {}),
        };
        failures.push({
          url: access.url,
          tag: named.tag,
          digest: digestOfFailedResolution(object.status, named, error),
          error: asReconcileError(error, `resolving ${access.url}`),
        });
      }
    }
    this.deps.poller.retain(subscriber, keys);
    return { resolved, failures, reverify };
  }

  /** One artifact's digest through the shared poller, with the client that reaches it. */
  private async resolveOne(
    artifact: LoadedArtifact,
    key: string,
    subscriber: string,
    interval: number,
    maxAge: number,
  ): Promise<ResolvedDigest> {
    const { access } = artifact;
    if (access.kind === 'helm-http') {
      const helm = this.deps.helmRepositories;
      // The poller keeps this resolver for its ticks: only this call (a requested check: maxAge 0) reads
      // the index afresh; ticks reuse an index another chart of the repository fetched this interval.
      let fresh = maxAge === 0;
      const resolution = await this.deps.poller.resolve(
        key,
        subscriber,
        interval,
        () => {
          const indexAge = fresh ? 0 : indexMaxAge(interval);
          fresh = false;
          return helm.resolve(access, indexAge);
        },
        maxAge,
      );
      return {
        artifact,
        resolved: helm.resolved(access, resolution),
        tag: resolution.tag,
        mediaType: resolution.mediaType,
        resolvedAt: new Date(resolution.at),
      };
    }
    // The one lookup of the artifact's client in this reconcile: the resolution and the checks share it.
    const client = this.deps.registries.clientFor(access);
    const resolution = await this.deps.poller.resolve(
      key,
      subscriber,
      interval,
      () => this.deps.registries.resolve(access, client),
      maxAge,
    );
    return {
      artifact,
      resolved: { client, reference: { ...access.reference, digest: resolution.digest } },
      tag: resolution.tag,
      mediaType: resolution.mediaType,
      resolvedAt: new Date(resolution.at),
    };
  }

  /**
   * Quarantine on detection: a digest that is not trusted yet (first seen, re-pushed, or judged before and
   * not trusted) holds the targets *before* it is verified and scanned, so the GitOps tool cannot deploy it
   * while tagguard is still judging; the hold is recorded in the status at once (recordQuarantine) and
   * released in the same reconcile when the digest turns out trusted. A digest already trusted or approved
   * holds nothing. With Pin, a target already pinned to the trusted digest needs no write at all.
   */
  private async quarantine(
    object: ArtifactVerification,
    targets: readonly TargetRef[],
    resolved: readonly ResolvedDigest[],
    held: readonly HeldTarget[],
  ): Promise<Quarantine | undefined> {
    if (actionOf(object) === 'Warn') return undefined;
    const approved = object.metadata.annotations?.[ANNOTATIONS.approve];
    const unjudged = resolved.filter(
      ({ resolved: { reference } }) =>
        !alreadyTrusted(object.status, reference.digest) && reference.digest !== approved,
    );
    if (unjudged.length === 0) return undefined;
    const change = await this.deps.holder.holdAll(objectKey(object), targets, held, holdOptions(object));
    const digests = unjudged.map((item) => ({
      url: item.artifact.access.url,
      digest: item.resolved.reference.digest,
    }));
    if (change.error) return { ...change, digests, recorded: false };
    const note = `while ${digests.map((d) => d.digest.slice(0, 19)).join(', ')} is verified (Verifying)`;
    return {
      held: change.held,
      events: change.events.map((e) => (e.kind === 'Held' ? { ...e, message: `${e.message} ${note}` } : e)),
      digests,
      recorded: change.events.some((e) => e.kind === 'Held' || e.kind === 'HoldReverted'),
    };
  }

  /** The record of the quarantine's holds, written before the (possibly long) verification: kubectl shows Verifying. */
  private async recordQuarantine(
    state: ReconcileState,
    quarantine: Quarantine,
    log: Logger,
  ): Promise<ArtifactVerificationStatus> {
    const status = summarizeQuarantine(state, quarantine.digests);
    await this.deps.cluster.writeStatus(state.object, status);
    log.info(
      { digests: quarantine.digests.map((d) => d.digest), held: state.heldTargets.length },
      'quarantined: holding the targets while verifying',
    );
    return status;
  }

  /**
   * The checks of each resolved digest (verification and scan, ArtifactChecker), with what the history
   * says of it. An error while checking is the digest's outcome, never thrown: no verdict could be reached,
   * which decide() judges as Error.
   */
  private async checkArtifacts(
    object: ArtifactVerification,
    resolved: readonly ResolvedDigest[],
    reverify: boolean,
  ): Promise<CheckedResult[]> {
    const history = object.status?.history;
    const approved = object.metadata.annotations?.[ANNOTATIONS.approve];
    const checked: CheckedResult[] = [];
    for (const item of resolved) {
      const { digest } = item.resolved.reference;
      const check: ArtifactCheck = {
        url: item.artifact.access.url,
        tag: item.tag,
        digest,
        mediaType: item.mediaType,
        resolvedAt: item.resolvedAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        ...tagHistory(history, item.tag, digest),
        approved: approved !== undefined && isDigest(approved) && approved === digest,
      };
      if (check.moved)
        this.deps.metrics.tagMutations.inc({
          namespace: object.metadata.namespace ?? '',
          name: object.metadata.name,
        });
      let outcome: CheckOutcome;
      try {
        outcome = await this.deps.checker.check(object, item.artifact, item.resolved, {
          reverify,
          tag: item.tag,
        });
      } catch (thrown) {
        outcome = { error: asReconcileError(thrown, `checking ${item.artifact.access.url}@${digest}`) };
      }
      checked.push({
        check: {
          ...check,
          ...(outcome.error === undefined && outcome.verification
            ? { verification: outcome.verification }
            : {}),
          ...(outcome.error === undefined && outcome.scan ? { scan: outcome.scan } : {}),
        },
        digest,
        tag: item.tag,
        approved: check.approved,
        outcome,
      });
    }
    return checked;
  }

  /** The verdicts and what enforcement does (verdict.ts); each verdict is counted once per digest. */
  private decide(
    object: ArtifactVerification,
    checked: readonly CheckedResult[],
    failures: readonly JudgementFailure[],
    heldBefore: readonly HeldTarget[],
  ): { checks: ArtifactCheck[]; enforcement: Enforcement } {
    const decision = decide({
      status: object.status,
      action: actionOf(object),
      resume: object.spec.resume ?? 'Automatic',
      checked,
      failures,
      heldBefore,
    });
    const checks = checked.map(({ check }, index): ArtifactCheck => {
      const verdict = decision.verdicts[index];
      if (!verdict) return check;
      this.countVerdict(object, check, verdict.judged);
      return {
        ...check,
        verdict: verdict.verdict,
        ...(verdict.reason !== undefined ? { reason: verdict.reason } : {}),
        ...(verdict.message !== undefined ? { message: verdict.message } : {}),
      };
    });
    return { checks, enforcement: decision.enforcement };
  }

  /** Counted once per verdict on a digest, not on every reconcile (cached results are not new verifications). */
  private countVerdict(object: ArtifactVerification, check: ArtifactCheck, verdict: Verdict): void {
    const prior = object.status?.history?.find((h) => h.digest === check.digest && h.tag === check.tag);
    if (prior?.verdict !== verdict)
      countVerdict(
        this.deps.metrics,
        { namespace: object.metadata.namespace ?? '', name: object.metadata.name },
        verdict,
      );
  }

  /** Carries out the decision on the targets; undefined when they are kept as they are. */
  private async enforce(
    object: ArtifactVerification,
    targets: readonly TargetRef[],
    held: readonly HeldTarget[],
    enforcement: Enforcement,
  ): Promise<HoldChange | PinChange | undefined> {
    const holder = objectKey(object);
    switch (enforcement.kind) {
      case 'Keep':
        return undefined;
      case 'Hold':
        return this.deps.holder.holdAll(holder, targets, held, holdOptions(object, enforcement.distrusted));
      case 'Pin':
        return this.deps.holder.pinTrusted(holder, targets, held, {
          digest: enforcement.digest,
          version: enforcement.version,
        });
      case 'Release':
        return this.deps.holder.releaseStale(holder, held, []);
    }
  }

  /** The one exit: status, Events, metrics. */
  private async report(state: ReconcileState, log: Logger): Promise<void> {
    const { object } = state;
    const summary = summarize(state);
    const labels = { namespace: object.metadata.namespace ?? '', name: object.metadata.name };
    reportObject(this.deps.metrics, labels, {
      trusted: summary.trusted,
      blocking: summary.blocking,
      ...(state.checks.some((c) => c.scan) ? { findings: summary.findingsBySeverity } : {}),
    });
    // Compared by content, not key order: the API server returns the status with its keys sorted.
    if (stableHash(summary.status) !== stableHash(state.writtenStatus ?? object.status ?? {})) {
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

/** Records a hold change in the state; its error (a hold or release that failed part way) stops the steps. */
const record = (state: ReconcileState, change: HoldChange | PinChange): void => {
  state.heldTargets = change.held;
  state.holdEvents.push(...change.events);
  if ('unpinnable' in change) state.unpinnable = change.unpinnable;
  if (change.error) throw change.error;
};

/** An artifact as its source names it, and what it resolved to now (the digest inside `resolved`). */
interface ResolvedDigest {
  readonly artifact: LoadedArtifact;
  readonly resolved: ResolvedArtifact;
  readonly tag: string | undefined;
  readonly mediaType: string;
  readonly resolvedAt: Date;
}

interface Resolution {
  readonly resolved: readonly ResolvedDigest[];
  readonly failures: JudgementFailure[];
  /** A new tagguard.dev/requested-at: verify again instead of answering from the cache. */
  readonly reverify: boolean;
}

/** The quarantine's holds, the digests being judged, and whether a hold was written (then it is recorded). */
interface Quarantine extends HoldChange {
  readonly digests: readonly { readonly url: string; readonly digest: string }[];
  readonly recorded: boolean;
}

/** One digest's checks: the facts the status shows, and the outcome decide() judges. */
interface CheckedResult extends CheckedDigest {
  readonly check: ArtifactCheck;
}
