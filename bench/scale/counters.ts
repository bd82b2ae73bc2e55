// Counters read at the start and the end of the steady window: API writes from kube-apiserver's
// apiserver_request_total (by API group, so each controller's writes are told apart: tagguard writes
// tagguard.dev objects and events.k8s.io Events, source-controller source.toolkit.fluxcd.io objects and
// core/v1 Events), registry requests from distribution's access log (by User-Agent), and tagguard's own
// tagguard_registry_requests_total.
import { readFileSync, statSync } from 'node:fs';

const WRITE_VERBS: ReadonlySet<string> = new Set([
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'DELETECOLLECTION',
  'APPLY',
]);

const labelsOf = (text: string): Record<string, string> =>
  Object.fromEntries([...text.matchAll(/([a-z_]+)="([^"]*)"/g)].map((m) => [m[1] ?? '', m[2] ?? '']));

/** Write requests by "group/resource[/subresource] VERB" (core group: "core"). */
export const apiWrites = (metricsText: string): Map<string, number> => {
  const writes = new Map<string, number>();
  for (const line of metricsText.split('\n')) {
    const match = /^apiserver_request_total\{([^}]*)\} (\S+)$/.exec(line);
    if (!match) continue;
    const labels = labelsOf(match[1] ?? '');
    if (!WRITE_VERBS.has(labels.verb ?? '')) continue;
    const key = `${labels.group || 'core'}/${labels.resource}${labels.subresource ? `/${labels.subresource}` : ''} ${labels.verb}`;
    writes.set(key, (writes.get(key) ?? 0) + Number(match[2]));
  }
  return writes;
};

export const diffCounts = (from: Map<string, number>, to: Map<string, number>): Map<string, number> => {
  const diff = new Map<string, number>();
  for (const [key, value] of to) {
    const delta = value - (from.get(key) ?? 0);
    if (delta !== 0) diff.set(key, delta);
  }
  return diff;
};

export const sumWhere = (counts: Map<string, number>, keep: (key: string) => boolean): number =>
  [...counts].filter(([key]) => keep(key)).reduce((sum, [, n]) => sum + n, 0);

/** The byte length of a log file now: the window's start and end offsets. */
export const logOffset = (file: string): number => statSync(file).size;

/**
 * distribution's access log between two offsets, counted by "User-Agent METHOD" (the Apache combined
 * format that distribution writes for each request).
 */
export const registryRequests = (file: string, from: number, to: number): Map<string, number> => {
  const text = readFileSync(file).subarray(from, to).toString('utf8');
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /"([A-Z]+) \S+ HTTP\/[\d.]+" \d{3} \S+ "[^"]*" "([^"]*)"\s*$/.exec(line);
    if (!match) continue;
    const key = `${match[2]} ${match[1]}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
};

/** tagguard_registry_requests_total summed by method. */
export const tagguardRegistryRequests = (metricsText: string): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const line of metricsText.split('\n')) {
    const match = /^tagguard_registry_requests_total\{([^}]*)\} (\S+)$/.exec(line);
    if (!match) continue;
    const method = labelsOf(match[1] ?? '').method ?? '?';
    counts.set(method, (counts.get(method) ?? 0) + Number(match[2]));
  }
  return counts;
};
