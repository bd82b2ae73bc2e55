// Go-style durations as Kubernetes specs write them ("1m", "90s", "1h30m", "500ms").
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export const parseDuration = (text: string): number | undefined => {
  if (!/^(\d+(?:\.\d+)?(ms|s|m|h))+$/.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g))
    total += Number(amount) * (UNIT_MS[unit ?? 's'] ?? 0);
  return total;
};
