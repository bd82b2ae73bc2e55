// Holds and releases GitOps targets for ArtifactVerifications (docs/design.md#actions-and-holds). Each hold
// and each release is ONE write computed from one read and guarded by its resourceVersion, so a crash leaves
// the target either untouched or fully changed, never held without a record or recorded without a hold. On
// 409 the target is read again and the write recomputed. Events are the caller's job.
import { KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { EnforceError, isEnforceError } from './errors.ts';
import { HOLDABLE_KINDS } from './hold-method.ts';
import { planHold, type TargetWrite } from './hold-plan.ts';
import { readHoldRecord } from './hold-record.ts';
import { planRelease } from './release-plan.ts';
import { KubernetesTargetApi, type TargetApi } from './target-api.ts';
import { refOf, type TargetObject } from './target-object.ts';
import type { FoundHold, HoldOptions, HoldOutcome, ReleaseOutcome, TargetKind, TargetRef } from './types.ts';

export interface HoldManagerOptions {
  /** Attempts of one hold or release when the target keeps changing under it (default 8). */
  readonly maxAttempts?: number;
  /** Pause before attempt n (default: up to 25·2ⁿ ms, full jitter). */
  readonly backoff?: (attempt: number) => Promise<void>;
}

const defaultBackoff = (attempt: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * 25 * 2 ** attempt));

const toTargetApi = (api: KubeConfig | KubernetesObjectApi | TargetApi): TargetApi => {
  if (api instanceof KubeConfig) return new KubernetesTargetApi(KubernetesObjectApi.makeApiClient(api));
  return api instanceof KubernetesObjectApi ? new KubernetesTargetApi(api) : api;
};

const describe = (target: TargetRef): string => `${target.kind} ${target.namespace}/${target.name}`;

export class HoldManager {
  readonly #api: TargetApi;
  readonly #logger: Logger;
  readonly #fieldManager: string;
  readonly #maxAttempts: number;
  readonly #backoff: (attempt: number) => Promise<void>;

  constructor(
    api: KubeConfig | KubernetesObjectApi | TargetApi,
    logger: Logger,
    fieldManager = 'tagguard',
    options: HoldManagerOptions = {},
  ) {
    this.#api = toTargetApi(api);
    this.#logger = logger;
    this.#fieldManager = fieldManager;
    this.#maxAttempts = options.maxAttempts ?? 8;
    this.#backoff = options.backoff ?? defaultBackoff;
  }

  /**
   * Ensures the holder holds the target (idempotent): applies the hold, adds the holder to an existing
   * hold, re-applies a hold that was undone (reverted: true) or does nothing when all is in place.
   */
  hold(target: TargetRef, holder: string, options: HoldOptions): Promise<HoldOutcome> {
    return this.#withRetry(target, 'hold', async () => {
      const object = await this.#read(target);
      const plan = planHold(object, holder, options);
      if (plan.write) await this.#write(plan.write).catch((error: unknown) => this.#goneOr(target, error));
      const outcome: HoldOutcome = {
        target: refOf(object),
        method: plan.method,
        changed: plan.write !== undefined,
        reverted: plan.reverted,
        fellBackToSuspend: plan.fellBackToSuspend,
        preHoldUnknown: plan.preHoldUnknown,
      };
      if (outcome.changed) this.#logger.info({ ...outcome, holder }, `held ${describe(target)}`);
      return outcome;
    });
  }

  /**
   * Pin mode while trusted: hold the target at a verified digest (or chart version, for a version field),
   * or move an existing pin. Pin only: a target without a field for it is left as it is (fellBackToSuspend).
   */
  pin(
    target: TargetRef,
    holder: string,
    verified: { readonly digest: string; readonly version?: string },
  ): Promise<HoldOutcome> {
    return this.hold(target, holder, {
      action: 'Pin',
      argocdMethod: 'DisableAutoSync',
      pinDigest: verified.digest,
      ...(verified.version !== undefined ? { pinVersion: verified.version } : {}),
      pinOnly: true,
    });
  }

  /**
   * Removes the holder (idempotent: a target it does not hold, or that no longer exists, is left alone).
   * The last holder restores every field recorded in pre-hold and removes both annotations in one write.
   */
  release(target: TargetRef, holder: string): Promise<ReleaseOutcome> {
    return this.#withRetry(target, 'release', async () => {
      const object = await this.#api.read(target);
      if (object === undefined) return { target, released: false, remainingHolders: [] };
      const plan = planRelease(object, holder);
      if (plan.write) {
        const gone = await this.#write(plan.write).then(
          () => false,
          (error: unknown) => {
            if (isEnforceError(error, 'TargetNotFound')) return true;
            throw error;
          },
        );
        // Deleted since the read: nothing left to restore.
        if (gone) return { target, released: false, remainingHolders: [] };
      }
      const outcome: ReleaseOutcome = {
        target: refOf(object),
        released: plan.restores,
        remainingHolders: plan.remainingHolders,
      };
      if (plan.write) this.#logger.info({ ...outcome, holder }, `released ${describe(target)}`);
      return outcome;
    });
  }

  /** Targets whose tagguard.dev/held-by names the holder: what it holds according to the cluster. */
  async findHeldBy(
    holder: string,
    kinds: readonly TargetKind[] = HOLDABLE_KINDS,
    namespace?: string,
  ): Promise<FoundHold[]> {
    const held = await this.findHeld(kinds, namespace);
    return held.filter((h) => h.holders.includes(holder));
  }

  /** Every target carrying a tagguard.dev/held-by, with its holders (to find holds of deleted CRs). */
  async findHeld(kinds: readonly TargetKind[] = HOLDABLE_KINDS, namespace?: string): Promise<FoundHold[]> {
    const held: FoundHold[] = [];
    for (const kind of kinds) {
      for (const object of await this.#api.list(kind, namespace)) {
        const { holders } = readHoldRecord(object);
        if (holders.length > 0) held.push({ target: refOf(object), holders });
      }
    }
    return held;
  }

  async #read(target: TargetRef): Promise<TargetObject> {
    const object = await this.#api.read(target);
    if (object === undefined) throw new EnforceError('TargetNotFound', `${describe(target)} not found`);
    return object;
  }

  /**
   * An apply to a target deleted since the read is a create (refused: the body has a resourceVersion
   * and lacks required fields); report it as the target being gone rather than as an invalid object.
   */
  async #goneOr(target: TargetRef, error: unknown): Promise<never> {
    if (isEnforceError(error, 'ApiError') && (await this.#api.read(target)) === undefined) {
      throw new EnforceError('TargetNotFound', `${describe(target)} was deleted`, { cause: error });
    }
    throw error;
  }

  #write(write: TargetWrite): Promise<TargetObject> {
    return write.type === 'apply'
      ? this.#api.apply(write.body, this.#fieldManager)
      : this.#api.mergePatch(write.body, this.#fieldManager);
  }

  async #withRetry<T>(target: TargetRef, what: string, attempt: () => Promise<T>): Promise<T> {
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (error) {
        if (!isEnforceError(error, 'Conflict') || n >= this.#maxAttempts) throw error;
        this.#logger.debug({ target, attempt: n }, `${what} of ${describe(target)} conflicted, retrying`);
        await this.#backoff(n);
      }
    }
  }
}
