// Durations as flags take them, in Go's notation (Flux and Argo CD flags use it): "500ms", "30s", "2m",
// "1m30s", "1h". Integers only; a bare number is refused, its unit would be a guess.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds, or undefined when `value` is not such a duration. */
export const parseDuration = (value: string): number | undefined => {
  if (!/^(?:\d{1,9}(?:ms|s|m|h))+$/.test(value)) return undefined;
  let total = 0;
  for (const [, amount = '', unit = ''] of value.matchAll(/(\d+)(ms|s|m|h)/g)) {
    total += Number(amount) * (UNIT_MS[unit] ?? 0);
  }
  return Number.isSafeInteger(total) ? total : undefined;
};
