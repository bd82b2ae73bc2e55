// Holds and releases for one ArtifactVerification across all its targets, on top of the enforce layer's
// per-target HoldManager: returns the new status.heldTargets (with the time each hold began) and the hold
// Events of what was done. Targets are handled one by one; a failure on one stops there and is returned
// with what was already done, so no hold is ever left without a record.
import type { HeldTarget } from '../api/artifact-verification.ts';
import { chooseMethod, classifyTarget, isPinMethod, isVersionPinMethod } from '../enforce/hold-method.ts';
import type { HoldManager } from '../enforce/holds.ts';
import type { HoldMethod, HoldOptions, TargetKind, TargetRef } from '../enforce/types.ts';
import { ReconcileError } from './reconcile-error.ts';
import type { HoldEvent, TargetKey } from './reconcile-state.ts';
import { Reason } from '../api/conditions.ts';

const OCI_REPOSITORY = 'OCIRepository';

/** The reference without the sources' hints, as status and Events record it. */
const refOnly = (t: TargetRef): TargetRef => ({
  apiVersion: t.apiVersion,
  kind: t.kind,
  namespace: t.namespace,
  name: t.name,
});

const sameTarget = (a: TargetRef, b: TargetRef): boolean =>
  a.kind === b.kind && a.namespace === b.namespace && a.name === b.name;

const label = (t: TargetRef): string => `${t.kind} ${t.namespace}/${t.name}`;

const describeMethod = (method: HoldMethod): string =>
  method === 'spec.suspend'
    ? 'spec.suspend: true'
    : method === 'spec.syncPolicy.automated'
      ? 'automated sync disabled'
      : method === 'skip-reconcile'
        ? 'argocd.argoproj.io/skip-reconcile: "true"'
        : `${method} pinned`;

/** What a call did: what is held now, the Events, and the error that stopped it part way (if any). */
export interface HoldChange {
  /** The record after the call (status.heldTargets), also when it stopped part way. */
  readonly held: HeldTarget[];
  readonly events: HoldEvent[];
  /** Reason HoldFailed; what was done before it is in `held` and `events`. */
  readonly error?: ReconcileError;
}

/** Pin's change, with the targets that follow the tag because they have no field for a digest pin. */
export interface PinChange extends HoldChange {
  readonly unpinnable: TargetKey[];
}

const holdFailed = (target: TargetRef, error: unknown): ReconcileError =>
  new ReconcileError(
    'Generic',
    Reason.HoldFailed,
    `could not hold ${label(target)}: ${error instanceof Error ? error.message : String(error)}`,
    {
      cause: error,
    },
  );

export class TargetHolder {
  private readonly holds: HoldManager;
  private readonly now: () => Date;

  constructor(holds: HoldManager, now: () => Date) {
    this.holds = holds;
    this.now = now;
  }

  private stamp(): string {
    return this.now()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
  }

  /**
   * Holds every target (Suspend, or Pin with its fallback). With Pin, a trusted digest and an
   * OCIRepository among the targets, only the OCIRepository is pinned: its consumers then only ever see
   * the pinned digest.
   */
  async holdAll(
    holder: string,
    targets: readonly TargetRef[],
    current: readonly HeldTarget[],
    options: Omit<HoldOptions, 'expectHeld'>,
  ): Promise<HoldChange> {
    // Only a pin at a trusted digest protects the consumers: without one (nothing trusted yet) the
    // OCIRepository may already have fetched the digest being judged, so every target is held.
    const pinnable =
      options.action === 'Pin' &&
      options.pinDigest !== undefined &&
      targets.some((t) => t.kind === OCI_REPOSITORY);
    const wanted = (pinnable ? targets.filter((t) => t.kind === OCI_REPOSITORY) : targets).map(refOnly);
    const released = await this.releaseStale(holder, current, wanted);
    if (released.error) return released;
    let held = released.held;
    const events = [...released.events];
    for (const target of wanted) {
      const previous = held.find((h) => sameTarget(h, target));
      let outcome;
      try {
        outcome = await this.holds.hold(target, holder, { ...options, expectHeld: previous !== undefined });
      } catch (error) {
        // The target may or may not carry the hold now: keep it in the record so the next reconcile
        // (or a release) looks at it again.
        if (!previous) held = [...held, { ...target, method: 'spec.suspend', since: this.stamp() }];
        return { held, events, error: holdFailed(target, error) };
      }
      const entry: HeldTarget = {
        apiVersion: target.apiVersion,
        kind: target.kind,
        namespace: target.namespace,
        name: target.name,
        method: outcome.method,
        since: previous?.since ?? this.stamp(),
      };
      held = [...held.filter((h) => !sameTarget(h, target)), entry];
      if (outcome.reverted)
        events.push({
          target,
          kind: 'HoldReverted',
          message: `hold on ${label(target)} was undone while trust is failing; re-applied (${describeMethod(outcome.method)})`,
        });
      else if (outcome.changed || !previous)
        events.push({
          target,
          kind: 'Held',
          message: `held ${label(target)}: ${describeMethod(outcome.method)}`,
        });
      if (outcome.fellBackToSuspend && outcome.changed)
        events.push({
          target,
          kind: 'PinFallback',
          message: `${label(target)} has no digest field (or no trusted digest yet): Pin falls back to Suspend`,
        });
    }
    return { held, events };
  }

  /**
   * Pin mode with a trusted artifact: pins (or moves the pin of) each target that has a field for it (the
   * sources' `pin` hint) and releases other holds. With an OCIRepository among the targets only it is
   * pinned (its consumers see only the pinned digest); else Argo CD Applications with a single native OCI
   * source (to the digest) and HelmRelease templates or HelmCharts with a version range (to the exact
   * version). Targets without a digest pin are returned as `unpinnable`: a re-push of the same tag or
   * version reaches them before tagguard can hold them (for a version pin: at the next cache miss).
   */
  async pinTrusted(
    holder: string,
    targets: readonly TargetRef[],
    current: readonly HeldTarget[],
    trusted: { readonly digest: string; readonly version?: string | undefined },
  ): Promise<PinChange> {
    const repositories = targets.filter((t) => t.kind === OCI_REPOSITORY);
    const candidates =
      repositories.length > 0
        ? repositories
        : targets.filter((t) => t.pin === 'digest' || (t.pin === 'version' && trusted.version !== undefined));
    const unpinnable = repositories.length > 0 ? [] : targets.filter((t) => t.pin !== 'digest').map(refOnly);
    const pins = current.filter((h) => isPinMethod(h.method));
    const suspended = current.filter((h) => !isPinMethod(h.method));
    const events: HoldEvent[] = [];
    const stale = await this.releaseStale(holder, pins, candidates);
    events.push(...stale.events);
    let held = [...stale.held, ...suspended];
    if (stale.error) return { held, events, unpinnable, error: stale.error };
    // Pins first, suspends lifted after: a consumer resumed before its source is pinned could fetch the
    // tag. A candidate this holder suspended is pinned and resumed in one write (hold-plan.ts).
    for (const target of candidates) {
      let outcome;
      try {
        outcome = await this.holds.pin(refOnly(target), holder, {
          digest: trusted.digest,
          ...(target.pin === 'version' && trusted.version !== undefined ? { version: trusted.version } : {}),
        });
      } catch (error) {
        return { held, events, unpinnable, error: holdFailed(target, error) };
      }
      if (outcome.fellBackToSuspend) {
        // No field for a pin on this one after all (pinOnly: nothing was written). A hold it had is released.
        if (target.pin === 'digest') unpinnable.push(refOnly(target));
        const unpinned = await this.releaseStale(
          holder,
          held,
          held.filter((h) => !sameTarget(h, target)),
        );
        events.push(...unpinned.events);
        held = unpinned.held;
        if (unpinned.error) return { held, events, unpinnable, error: unpinned.error };
        continue;
      }
      const previous = held.find((h) => sameTarget(h, target));
      const wasSuspended = previous !== undefined && !isPinMethod(previous.method);
      held = [
        ...held.filter((h) => !sameTarget(h, target)),
        // A pin that takes over from a suspend is a new hold (no longer blocking): its time starts now.
        {
          ...refOnly(target),
          method: outcome.method,
          since: wasSuspended ? this.stamp() : (previous?.since ?? this.stamp()),
        },
      ];
      if (outcome.changed)
        events.push({
          target,
          kind: 'Pinned',
          message: `pinned ${label(target)} to the verified ${
            isVersionPinMethod(outcome.method)
              ? `version ${trusted.version ?? ''}`
              : `digest ${trusted.digest}`
          }${wasSuspended ? ', its suspend lifted in the same write' : ''}`,
        });
    }
    const resumed = await this.releaseStale(
      holder,
      held.filter((h) => !isPinMethod(h.method)),
      [],
    );
    events.push(...resumed.events);
    held = [...held.filter((h) => isPinMethod(h.method)), ...resumed.held];
    if (resumed.error) return { held, events, unpinnable, error: resumed.error };
    return { held, events, unpinnable };
  }

  /**
   * Adds to the record the holds the cluster shows for this holder that the record lacks: written by a
   * process that died (or whose status write failed) before recording them. Looks at the kinds and
   * namespaces of the current targets; what it finds is then kept or released like any recorded hold.
   */
  async recover(
    holder: string,
    targets: readonly TargetRef[],
    current: readonly HeldTarget[],
    options: Omit<HoldOptions, 'expectHeld'>,
  ): Promise<HeldTarget[]> {
    const scopes = new Map<string, { kind: TargetKind; namespace: string }>();
    for (const t of targets)
      scopes.set(`${t.apiVersion}/${t.kind}/${t.namespace}`, {
        kind: { apiVersion: t.apiVersion, kind: t.kind },
        namespace: t.namespace,
      });
    const held = [...current];
    for (const { kind, namespace } of scopes.values()) {
      for (const { target } of await this.holds.findHeldBy(holder, [kind], namespace)) {
        if (held.some((h) => sameTarget(h, target))) continue;
        held.push({
          apiVersion: target.apiVersion,
          kind: target.kind,
          namespace: target.namespace,
          name: target.name,
          method: chooseMethod(classifyTarget(target), options).method,
          since: this.stamp(),
        });
      }
    }
    return held;
  }

  /** Releases the held targets that are not in `keep`; `held` is what stays held. */
  async releaseStale(
    holder: string,
    current: readonly HeldTarget[],
    keep: readonly TargetRef[],
  ): Promise<HoldChange> {
    const held: HeldTarget[] = [];
    const events: HoldEvent[] = [];
    for (const [index, entry] of current.entries()) {
      if (keep.some((k) => sameTarget(k, entry))) {
        held.push(entry);
        continue;
      }
      const target: TargetRef = {
        apiVersion: entry.apiVersion,
        kind: entry.kind,
        namespace: entry.namespace,
        name: entry.name,
      };
      try {
        const outcome = await this.holds.release(target, holder);
        events.push({
          target,
          kind: 'Released',
          message: outcome.released
            ? `released ${label(target)}: restored to its state before the hold`
            : `released ${label(target)} by this ArtifactVerification; still held by ${outcome.remainingHolders.join(', ')}`,
        });
      } catch (error) {
        return {
          held: [...held, ...current.slice(index)],
          events,
          error: new ReconcileError(
            'Generic',
            Reason.HoldFailed,
            `could not release ${label(target)}: ${error instanceof Error ? error.message : String(error)}`,
            { cause: error },
          ),
        };
      }
    }
    return { held, events };
  }

  /** Deletion of the CR: releases what its status lists and whatever still names it in held-by. */
  async releaseAll(holder: string, current: readonly HeldTarget[]): Promise<TargetRef[]> {
    const found = await this.holds.findHeldBy(holder);
    const all: TargetRef[] = [
      ...current.map((h) => ({
        apiVersion: h.apiVersion,
        kind: h.kind,
        namespace: h.namespace,
        name: h.name,
      })),
    ];
    for (const f of found) if (!all.some((t) => sameTarget(t, f.target))) all.push(f.target);
    for (const target of all) await this.holds.release(target, holder);
    return all;
  }
}
