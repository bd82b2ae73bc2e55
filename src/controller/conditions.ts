// Condition bookkeeping in the Kubernetes API conventions: one entry per type, lastTransitionTime moves
// only when the status flips, every entry carries the generation it was computed for.
import type { Condition } from '../api/artifact-verification.ts';

export type ConditionStatus = Condition['status'];

export interface ConditionUpdate {
  readonly type: string;
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message: string;
}

const MAX_MESSAGE = 1024;

export const setCondition = (
  conditions: readonly Condition[],
  update: ConditionUpdate,
  generation: number | undefined,
  now: Date,
): Condition[] => {
  const previous = conditions.find((c) => c.type === update.type);
  const message =
    update.message.length > MAX_MESSAGE ? `${update.message.slice(0, MAX_MESSAGE - 1)}…` : update.message;
  const next: Condition = {
    type: update.type,
    status: update.status,
    reason: update.reason,
    message,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    lastTransitionTime:
      previous && previous.status === update.status
        ? previous.lastTransitionTime
        : now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  return [...conditions.filter((c) => c.type !== update.type), next];
};

export const removeCondition = (conditions: readonly Condition[], type: string): Condition[] =>
  conditions.filter((c) => c.type !== type);
