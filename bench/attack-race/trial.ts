// One attack-race trial: its own namespace and repository; the good artifact deployed by the real Flux
// controllers (and, but for "flux-alone", guarded by an ArtifactVerification); at a random moment of the
// poll cycle the attacker pushes; then a fixed observation window. What counts is read afterwards from the
// Recorder's history of the namespace: whether any stored Deployment version had the privileged init
// container, whether a Flux source's status.artifact showed the attacker's artifact, and when tagguard
// first held (the CR's Held=True, and a suspend on a target). No asserts: a trial that fails to set up is
// reported as an error. Which registry a mode pushes to (and whether it notifies tagguard) is the caller's.
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { DEFAULT_ACTION } from '../../src/api/artifact-verification.ts';
import { avObject } from '../../test/env/av.ts';
import { waitFor } from '../../test/env/processes.ts';
import type { Recorder, Stored } from './recorder.ts';
import { WORKLOAD, isMalicious, type Scenario, type TrialContext } from './scenario.ts';

/**
 * flux-alone: no ArtifactVerification; default: one with nothing set but sourceRef, interval and the key;
 * pin: the same with `action: Pin`; default-push: as default, the registry sending push notifications to
 * tagguard's receiver (the caller gives these trials such a registry).
 */
export const MODES = ['flux-alone', 'default', 'pin', 'default-push'] as const;
export type Mode = (typeof MODES)[number];

/** The modes whose trials push to a registry that notifies tagguard of every push. */
export const isPushMode = (mode: Mode): boolean => mode === 'default-push';

/** The action the ArtifactVerification ends up with (the CRD's default when the mode sets none). */
const actionOf = (mode: Mode): string | undefined =>
  mode === 'flux-alone' ? undefined : mode === 'pin' ? 'Pin' : DEFAULT_ACTION;

export interface TrialResult {
  readonly scenario: string;
  readonly mode: Mode;
  readonly index: number;
  readonly ns: string;
  readonly error?: string;
  /** Some stored version of the Deployment carried the privileged init container. */
  readonly applied: boolean;
  /** Seconds from the push to the first such version. */
  readonly appliedS?: number;
  /** A Flux source's status.artifact showed the attacker's artifact. */
  readonly reachedSource: boolean;
  /** Seconds from the push to the ArtifactVerification's first Verified=False. */
  readonly detectS?: number;
  /** Seconds from the push to the first target carrying tagguard's suspend hold. */
  readonly holdS?: number;
  /**
   * Seconds from the push to the ArtifactVerification's first Held=True: a suspend, or a pin (already in
   * place before the attack) now keeping an untrusted digest back; the quarantine sets it on detection.
   */
  readonly heldS?: number;
  /** The OCIRepository was pinned to the good digest before the attack (the action is Pin). */
  readonly pinnedBefore: boolean;
}

export interface TrialOptions {
  readonly intervalS: number;
  readonly observeMs: number;
  readonly setupTimeoutMs: number;
}

export type TrialEnv = Omit<TrialContext, 'ns' | 'workDir' | 'interval'> & {
  readonly recorder: Recorder;
  readonly baseDir: string;
};

const HELD_BY = 'tagguard.dev/held-by';
const TARGET_KINDS = ['OCIRepository', 'HelmChart', 'HelmRelease', 'Kustomization'] as const;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const conditionOf = (o: Stored | undefined, type: string): string | undefined =>
  ((o?.status?.conditions ?? []) as { type: string; status: string }[]).find((c) => c.type === type)?.status;
const seconds = (ms: number): number => Number((ms / 1000).toFixed(1));

/** Polls the recorder (memory, not the API server) until `ready` holds. */
const until = (what: string, timeoutMs: number, ready: () => boolean): Promise<true> =>
  waitFor(what, () => Promise.resolve(ready() ? true : undefined), { timeoutMs, intervalMs: 250 });

/** Stops everything of a finished trial: the AV goes (tagguard releases its holds), Flux is suspended. */
const cleanUp = async (env: TrialEnv, ns: string, objects: readonly KubernetesObject[]): Promise<void> => {
  await env.kube.objects
    .delete({
      apiVersion: 'tagguard.dev/v1alpha1',
      kind: 'ArtifactVerification',
      metadata: { name: WORKLOAD, namespace: ns },
    })
    .catch(() => undefined);
  await until(
    `${ns}: ArtifactVerification gone`,
    30_000,
    () => env.recorder.latest(ns, 'ArtifactVerification', WORKLOAD) === undefined,
  ).catch(() => undefined);
  const helmChart = {
    apiVersion: 'source.toolkit.fluxcd.io/v1',
    kind: 'HelmChart',
    metadata: { name: `${ns}-${WORKLOAD}`, namespace: ns },
  };
  for (const object of [...objects, helmChart]) {
    const { apiVersion, kind, metadata } = object;
    if (apiVersion === undefined || kind === undefined || metadata?.name === undefined) continue;
    await env.kube
      .mergePatch(
        { apiVersion, kind, metadata: { name: metadata.name, namespace: ns } },
        { spec: { suspend: true } },
      )
      .catch(() => undefined);
  }
  env.recorder.forget(ns);
};

export const runTrial = async (
  env: TrialEnv,
  scenario: Scenario,
  mode: Mode,
  index: number,
  options: TrialOptions,
): Promise<TrialResult> => {
  const ns = `ar-${scenario.id}-${mode}-${index}-${Math.random().toString(36).slice(2, 6)}`;
  const ctx: TrialContext = {
    ...env,
    ns,
    interval: `${options.intervalS}s`,
    workDir: await mkdtemp(join(env.baseDir, `${ns}-`)),
  };
  const { recorder } = env;
  const base = { scenario: scenario.id, mode, index, ns };
  let objects: readonly KubernetesObject[] = [];
  try {
    await env.kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const deployed = await scenario.deploy(ctx);
    objects = deployed.objects;
    await env.kube.applyAll(objects);
    // Flux's and tagguard's poll cycles start at independent moments, as in a real cluster.
    await sleep(Math.random() * options.intervalS * 1000);
    if (mode !== 'flux-alone')
      await env.kube.apply(
        avObject(ns, WORKLOAD, {
          sourceRef: deployed.avSourceRef,
          interval: ctx.interval,
          // tagguard's defaults but for the poll interval (equal to Flux's); `action` set only in "pin" mode.
          ...(mode === 'pin' ? { action: 'Pin' } : {}),
          verify: { cosign: [{ name: 'release', publicKey: env.release.publicKeyPem }] },
        }),
      );
    // Pin (the default action too) pins an OCIRepository once the good digest is trusted: the attack comes
    // after that, in the steady state a user has.
    const pinWanted = actionOf(mode) === 'Pin' && deployed.pinnable;
    await until(
      `${ns}: the good release applied${mode === 'flux-alone' ? '' : ' and trusted'}`,
      options.setupTimeoutMs,
      () => {
        const deployment = recorder.latest(ns, 'Deployment', WORKLOAD);
        if (deployment === undefined || isMalicious(deployment)) return false;
        if (mode === 'flux-alone') return true;
        if (conditionOf(recorder.latest(ns, 'ArtifactVerification', WORKLOAD), 'Ready') !== 'True')
          return false;
        const source = recorder.latest(ns, 'OCIRepository', WORKLOAD);
        return (
          !pinWanted || typeof (source?.spec?.ref as { digest?: unknown } | undefined)?.digest === 'string'
        );
      },
    );

    const push = await scenario.prepareAttack(ctx);
    // The attack lands at a random moment of both poll cycles; time runs from the moment the push is done.
    await sleep(Math.random() * options.intervalS * 1000);
    const attack = await push();
    const attackAt = performance.now();
    const { afterAttack } = scenario;
    if (afterAttack !== undefined) {
      await sleep(Math.random() * options.intervalS * 1000);
      await afterAttack(ctx);
    }
    await sleep(Math.max(0, options.observeMs - (performance.now() - attackAt)));

    const after = (kind: Parameters<Recorder['seen']>[1], pick: (o: Stored) => boolean): number | undefined =>
      recorder.seen(ns, kind).find((s) => s.at >= attackAt && pick(s.object))?.at;
    const firstApplied = recorder.seen(ns, 'Deployment', WORKLOAD).find((s) => isMalicious(s.object));
    const reachedSource = recorder
      .seen(ns, deployed.sourceKind)
      .some((s) => attack.markers.some((m) => JSON.stringify(s.object.status?.artifact ?? {}).includes(m)));
    const detectAt = after('ArtifactVerification', (o) => conditionOf(o, 'Verified') === 'False');
    const heldAt = after('ArtifactVerification', (o) => conditionOf(o, 'Held') === 'True');
    const holdAt = TARGET_KINDS.map((kind) =>
      after(kind, (o) => o.spec?.suspend === true && o.metadata?.annotations?.[HELD_BY] !== undefined),
    )
      .filter((at): at is number => at !== undefined)
      .sort((a, b) => a - b)[0];
    return {
      ...base,
      applied: firstApplied !== undefined,
      ...(firstApplied !== undefined ? { appliedS: seconds(firstApplied.at - attackAt) } : {}),
      reachedSource,
      ...(detectAt !== undefined ? { detectS: seconds(detectAt - attackAt) } : {}),
      ...(holdAt !== undefined ? { holdS: seconds(holdAt - attackAt) } : {}),
      ...(heldAt !== undefined ? { heldS: seconds(heldAt - attackAt) } : {}),
      pinnedBefore: pinWanted,
    };
  } catch (error) {
    return {
      ...base,
      error: error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error),
      applied: false,
      reachedSource: false,
      pinnedBefore: false,
    };
  } finally {
    await cleanUp(env, ns, objects);
  }
};
