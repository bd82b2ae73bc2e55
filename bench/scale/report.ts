// The scale bench's result and its Markdown table: one column per tool and the ratio tagguard /
// source-controller, the figure to read on a shared machine.

export interface ToolFigures {
  /** CRs (tagguard) or OCIRepositories (source-controller). */
  readonly objects: number;
  readonly createdAfterSeconds: number;
  /** From the first create to all Ready for their generation; null when the timeout came first. */
  readonly allReadySeconds: number | null;
  readonly readyAtTimeout: number;
  readonly readyAtWindowEnd: number;
  /** CPU seconds used from idle (before the first create) to all Ready (or the timeout). */
  readonly cpuSecondsToReady: number;
  readonly steadyCpuPercent: number;
  readonly idleRssMiB: number;
  readonly rssMiB: number;
  readonly peakRssMiB: number;
  readonly rssPerObjectKiB: number;
  /** (RSS at the end − RSS idle) / objects: V8 may not have collected its start-up garbage while idle. */
  readonly rssGrowthKiBPerObject: number;
  readonly registryRequestsPerMinute: number;
  readonly registryRequestsPerTagPerInterval: number;
  readonly registryRequestsByAgent: Record<string, number>;
  readonly apiWritesPerMinute: number;
  readonly apiWritesByResource: Record<string, number>;
}

export interface ScaleResult {
  readonly benchmark: 'scale';
  readonly crs: number;
  readonly tags: number;
  readonly tagsPerRepository: number;
  readonly intervalSeconds: number;
  readonly settleSeconds: number;
  readonly windowSeconds: number;
  readonly operatorArgs: readonly string[];
  /** One entry per operator process (one unless --shards). */
  readonly shards: readonly {
    readonly name: string;
    readonly crs: number;
    readonly steadyCpuPercent: number;
    readonly rssMiB: number;
    readonly peakRssMiB: number;
  }[];
  /** NODE_OPTIONS of the operator (config/manager's), null for node's own heap sizing. */
  readonly operatorNodeOptions: string | null;
  readonly sourceControllerArgs: readonly string[];
  readonly machine: {
    readonly cpus: number;
    readonly loadAtStart: readonly number[];
    readonly loadAtWindowStart: readonly number[];
    readonly loadAtWindowEnd: readonly number[];
  };
  readonly tagguard: ToolFigures & { readonly metricRegistryRequestsPerMinute: number };
  readonly sourceController: ToolFigures;
  readonly otherApiWrites: Record<string, number>;
  readonly ratios: Record<string, number | null>;
  readonly runDir: string;
}

const show = (n: number | null): string => (n === null ? '–' : n.toLocaleString('en-US'));
const ready = (f: ToolFigures): string =>
  f.allReadySeconds === null
    ? `${f.readyAtTimeout} of ${f.objects} at the timeout`
    : `${show(f.allReadySeconds)} s`;

export const markdownReport = (r: ScaleResult): string => {
  const t = r.tagguard;
  const s = r.sourceController;
  const rows: [string, string, string, number | null | undefined][] = [
    ['objects', `${show(t.objects)} CRs`, `${show(s.objects)} OCIRepositories`, undefined],
    ['created after', `${show(t.createdAfterSeconds)} s`, `${show(s.createdAfterSeconds)} s`, undefined],
    ['all Ready after', ready(t), ready(s), r.ratios.allReady],
    [
      'CPU to all Ready (s of CPU)',
      show(t.cpuSecondsToReady),
      show(s.cpuSecondsToReady),
      r.ratios.cpuSecondsToReady,
    ],
    ['steady CPU (% of one core)', show(t.steadyCpuPercent), show(s.steadyCpuPercent), r.ratios.steadyCpu],
    [
      'steady CPU per 1,000 objects (% of one core)',
      show(Number(((1000 * t.steadyCpuPercent) / t.objects).toFixed(2))),
      show(Number(((1000 * s.steadyCpuPercent) / s.objects).toFixed(2))),
      r.ratios.steadyCpuPerObject,
    ],
    ['RSS, end of window (MiB)', show(t.rssMiB), show(s.rssMiB), r.ratios.rss],
    ['peak RSS (VmHWM, MiB)', show(t.peakRssMiB), show(s.peakRssMiB), undefined],
    ['RSS idle, before any object (MiB)', show(t.idleRssMiB), show(s.idleRssMiB), undefined],
    ['RSS per object (KiB)', show(t.rssPerObjectKiB), show(s.rssPerObjectKiB), r.ratios.rssPerObject],
    [
      'RSS growth over idle per object (KiB)',
      show(t.rssGrowthKiBPerObject),
      show(s.rssGrowthKiBPerObject),
      undefined,
    ],
    [
      'registry requests / min',
      show(t.registryRequestsPerMinute),
      show(s.registryRequestsPerMinute),
      undefined,
    ],
    [
      'registry requests per distinct tag per interval',
      show(t.registryRequestsPerTagPerInterval),
      show(s.registryRequestsPerTagPerInterval),
      r.ratios.registryRequestsPerTagPerInterval,
    ],
    ['API writes / min', show(t.apiWritesPerMinute), show(s.apiWritesPerMinute), r.ratios.apiWritesPerMinute],
    ['Ready at the end of the window', show(t.readyAtWindowEnd), show(s.readyAtWindowEnd), undefined],
  ];
  const table = [
    '| | tagguard | source-controller | tagguard / source-controller |',
    '|---|---|---|---|',
    ...rows.map(
      ([name, a, b, ratio]) => `| ${name} | ${a} | ${b} | ${ratio === undefined ? '' : show(ratio)} |`,
    ),
  ];
  const details = [
    ...(r.shards.length > 1
      ? r.shards.map(
          (x) =>
            `- ${x.name}: ${show(x.crs)} CRs, steady CPU ${show(x.steadyCpuPercent)} % of one core, ` +
            `RSS ${show(x.rssMiB)} MiB (peak ${show(x.peakRssMiB)} MiB)`,
        )
      : []),
    `- tagguard registry requests by agent and method: ${JSON.stringify(t.registryRequestsByAgent)} ` +
      `(its own tagguard_registry_requests_total: ${show(t.metricRegistryRequestsPerMinute)} / min)`,
    `- source-controller registry requests: ${JSON.stringify(s.registryRequestsByAgent)}`,
    `- tagguard API writes in the window: ${JSON.stringify(t.apiWritesByResource)}`,
    `- source-controller API writes in the window: ${JSON.stringify(s.apiWritesByResource)}`,
    `- other API writes in the window: ${JSON.stringify(r.otherApiWrites)}`,
  ];
  return [
    `scale: ${show(r.crs)} ArtifactVerifications over ${show(r.tags)} tags (${r.tagsPerRepository} per repository), ` +
      `interval ${r.intervalSeconds} s, steady window ${r.windowSeconds} s after ${r.settleSeconds} s of settling; ` +
      `${r.machine.cpus} CPUs, load ${r.machine.loadAtStart.join(' ')} at start, ` +
      `${r.machine.loadAtWindowStart.join(' ')} → ${r.machine.loadAtWindowEnd.join(' ')} over the window` +
      (r.operatorArgs.length ? `; tagguard run ${r.operatorArgs.join(' ')}` : '') +
      `; operator NODE_OPTIONS ${r.operatorNodeOptions ?? '(none: node sizes its heap from the machine)'}` +
      (r.sourceControllerArgs.length ? `; source-controller ${r.sourceControllerArgs.join(' ')}` : ''),
    '',
    ...table,
    '',
    ...details,
    `- run directory (logs): ${r.runDir}`,
  ].join('\n');
};
