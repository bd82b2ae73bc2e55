// Exponential backoff with "equal jitter": the n-th consecutive failure waits a random time between half
// and all of min(max, base·2^(n-1)). Half is fixed so the delay still grows; the random half keeps many
// keys (or many operator replicas) that failed together from retrying in lockstep.
export interface BackoffPolicy {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** A uniform random number in [0, 1); Math.random by default, injected by tests. */
  readonly random?: (() => number) | undefined;
}

/** The capped exponential delay before jitter, for the n-th consecutive failure (n ≥ 1). */
export const backoffCeiling = (failures: number, policy: BackoffPolicy): number => {
  const exponent = Math.max(0, failures - 1);
  // 2^exponent overflows to Infinity long before it matters; min() caps it.
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(exponent, 1024));
};

export const backoffDelay = (failures: number, policy: BackoffPolicy): number => {
  const ceiling = backoffCeiling(failures, policy);
  const random = (policy.random ?? Math.random)();
  const unit = Math.min(Math.max(random, 0), 1);
  return Math.round(ceiling / 2 + (ceiling / 2) * unit);
};
