// Computes, without I/O, the one write that releases a holder: with other holders left, only held-by
// shrinks; for the last holder, every field in pre-hold is restored exactly and both annotations go, in
// the same JSON merge patch (apply cannot remove fields other managers co-own). resourceVersion-guarded.
import { EnforceError } from './errors.ts';
import {
  ARGOCD_REFRESH_ANNOTATION,
  HELD_BY_ANNOTATION,
  PRE_HOLD_ANNOTATION,
  PRE_HOLD_PATHS,
  formatHolders,
  preHoldKeys,
  readHoldRecord,
} from './hold-record.ts';
import { classifyTarget } from './hold-method.ts';
import { writeBase, type TargetWrite } from './hold-plan.ts';
import { restoreField, setAt } from './merge-patch.ts';
import type { TargetObject } from './target-object.ts';

export interface ReleasePlan {
  /** This write restores the pre-hold state (the holder was the last one). */
  readonly restores: boolean;
  readonly remainingHolders: readonly string[];
  /** Undefined: the holder does not hold the target, nothing to do. */
  readonly write: TargetWrite | undefined;
}

export const planRelease = (object: TargetObject, holder: string): ReleasePlan => {
  const record = readHoldRecord(object);
  if (!record.holders.includes(holder)) {
    return { restores: false, remainingHolders: record.holders, write: undefined };
  }
  const remainingHolders = record.holders.filter((h) => h !== holder);
  const body = writeBase(object);
  if (remainingHolders.length > 0) {
    setAt(body, ['metadata', 'annotations', HELD_BY_ANNOTATION], formatHolders(remainingHolders));
    return { restores: false, remainingHolders, write: { type: 'merge-patch', body: body } };
  }
  if (record.preHold === undefined) {
    // Guessing the state before the hold could resume an untrusted deployment: a person decides.
    throw new EnforceError(
      'InvalidHoldRecord',
      `${object.kind} ${object.metadata.namespace}/${object.metadata.name}: ${PRE_HOLD_ANNOTATION} is missing or invalid, cannot restore`,
    );
  }
  for (const key of preHoldKeys(record.preHold))
    restoreField(body, object.json, PRE_HOLD_PATHS[key], record.preHold[key] ?? null);
  setAt(body, ['metadata', 'annotations', HELD_BY_ANNOTATION], null);
  setAt(body, ['metadata', 'annotations', PRE_HOLD_ANNOTATION], null);
  // Argo CD's repo-server caches a Helm-OCI chart's manifests by chart version: a refresh during the hold
  // (anyone's, or a cache miss) may have cached the attacker's chart under the version that is trusted
  // again now, and automated sync would apply it the moment it is restored. A hard refresh in the same
  // write makes Argo CD render the chart afresh first (Argo CD removes the annotation when done).
  if (classifyTarget(object) === 'argocd-application')
    setAt(body, ['metadata', 'annotations', ARGOCD_REFRESH_ANNOTATION], 'hard');
  return { restores: true, remainingHolders, write: { type: 'merge-patch', body: body } };
};
