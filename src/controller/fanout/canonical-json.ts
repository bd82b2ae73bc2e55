// JSON with every object's keys sorted, to compare what tagguard computed with what the API server returns:
// it stores custom resources as maps and answers with their keys in its own (sorted) order.

export const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
