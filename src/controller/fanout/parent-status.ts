// The status of a HelmRepository parent, summed up from its children: each consumed chart with the child's
// verdict (capped list, problems first), counts, the Charts column text, conditions (Ready only when every
// chart is trusted) and the Events of a chart whose verdict changed or a consumer that came or went. Pure.
import type {
  ArtifactVerification,
  ArtifactVerificationStatus,
  ChartCounts,
  ChartStatus,
  ChartVerdict,
  Condition,
} from '../../api/artifact-verification.ts';
import { ConditionType, Reason } from '../../api/conditions.ts';
import { EventReason } from '../../api/event-reasons.ts';
import type { HelmRepositoryConsumer } from '../../sources/resolve-source.ts';
import { removeCondition, setCondition } from '../conditions.ts';
import type { ReconcileError } from '../reconcile-error.ts';
import type { PlannedEvent } from '../summary/events.ts';
import { sortConditions } from '../summary/conditions.ts';
import { shortDigest } from '../summary/format.ts';
import { sourceLabel } from '../summary/status.ts';
import { consumerKey } from './child-plan.ts';

export const MAX_CHARTS = 50;
/** How many problem charts the Ready message names before "and N more". */
const NAMED_IN_MESSAGE = 5;

const conditionOf = (object: ArtifactVerification, type: string): Condition | undefined =>
  object.status?.conditions?.find((c) => c.type === type);

/**
 * A child's verdict on its chart, as the parent shows it. Pending until the child has judged its current
 * spec (observedGeneration) and while it verifies a new digest (Ready reason Verifying) or awaits a manual
 * approval; then the Ready condition (True: Trusted), else the history's verdict on the digest shown, else
 * Error with the Ready reason (the child could not judge: source missing, registry down, …).
 */
export const childVerdict = (
  child: ArtifactVerification | undefined,
): { readonly verdict: ChartVerdict; readonly reason?: string } => {
  if (child === undefined) return { verdict: 'Pending', reason: 'NotReconciled' };
  const generation = child.metadata.generation;
  const ready = conditionOf(child, ConditionType.Ready);
  if (
    ready === undefined ||
    child.status?.observedGeneration !== generation ||
    (ready.observedGeneration !== undefined && ready.observedGeneration !== generation)
  )
    return { verdict: 'Pending', reason: 'NotReconciled' };
  if (ready.status === 'True') return { verdict: 'Trusted', reason: ready.reason };
  if (ready.reason === Reason.Verifying || ready.reason === Reason.AwaitingApproval)
    return { verdict: 'Pending', reason: ready.reason };
  const digest = child.status?.artifact?.digest;
  const judged = child.status?.history?.find((h) => h.digest === digest);
  if (
    judged !== undefined &&
    judged.verdict !== 'Trusted' &&
    conditionOf(child, ConditionType.Stalled) === undefined
  )
    return { verdict: judged.verdict, reason: judged.reason ?? ready.reason };
  return { verdict: 'Error', reason: ready.reason };
};

/** The last path segment of oci://host/path/chart: the chart's name. */
const chartName = (url: string | undefined): string | undefined =>
  url === undefined ? undefined : url.slice(url.lastIndexOf('/') + 1) || undefined;

export const chartStatus = (
  consumer: HelmRepositoryConsumer,
  childName: string,
  child: ArtifactVerification | undefined,
): ChartStatus => {
  const { verdict, reason } = childVerdict(child);
  const artifact = child?.status?.artifact;
  const chart = chartName(artifact?.url);
  return {
    consumer: consumerKey(consumer),
    ...(chart !== undefined ? { chart } : {}),
    ...(artifact?.tag !== undefined ? { version: artifact.tag } : {}),
    ...(artifact?.digest !== undefined ? { digest: artifact.digest } : {}),
    verdict,
    ...(reason !== undefined ? { reason } : {}),
    child: childName,
  };
};

/** Not localeCompare: the order must not depend on the operator's locale. */
const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const ORDER: Readonly<Record<ChartVerdict, number>> = { Untrusted: 0, Error: 1, Pending: 2, Trusted: 3 };

export const countCharts = (charts: readonly ChartStatus[]): ChartCounts => ({
  total: charts.length,
  trusted: charts.filter((c) => c.verdict === 'Trusted').length,
  untrusted: charts.filter((c) => c.verdict === 'Untrusted').length,
  error: charts.filter((c) => c.verdict === 'Error').length,
  pending: charts.filter((c) => c.verdict === 'Pending').length,
});

/** "3/4 trusted, 1 untrusted": the printer column Charts. */
export const chartsSummary = (counts: ChartCounts): string =>
  [
    `${counts.trusted}/${counts.total} trusted`,
    ...(counts.untrusted > 0 ? [`${counts.untrusted} untrusted`] : []),
    ...(counts.error > 0 ? [`${counts.error} error`] : []),
    ...(counts.pending > 0 ? [`${counts.pending} pending`] : []),
  ].join(', ');

const describeChart = (c: ChartStatus): string =>
  `${c.consumer}${c.chart ? ` (${c.chart}${c.version ? ` ${c.version}` : ''}${c.digest ? `@${shortDigest(c.digest)}` : ''})` : ''}`;

const named = (charts: readonly ChartStatus[], show: (c: ChartStatus) => string): string => {
  const shown = charts.slice(0, NAMED_IN_MESSAGE).map(show).join(', ');
  return charts.length > NAMED_IN_MESSAGE ? `${shown} and ${charts.length - NAMED_IN_MESSAGE} more` : shown;
};

export interface ParentInput {
  readonly parent: ArtifactVerification;
  readonly now: Date;
  /** Each consumer with its child's name and the child as listed (undefined: not created yet). */
  readonly charts: readonly {
    readonly consumer: HelmRepositoryConsumer;
    readonly name: string;
    readonly child: ArtifactVerification | undefined;
  }[];
  readonly added: readonly HelmRepositoryConsumer[];
  readonly removed: readonly ArtifactVerification[];
  readonly error?: ReconcileError;
}

export interface ParentSummary {
  readonly status: ArtifactVerificationStatus;
  readonly events: readonly PlannedEvent[];
}

const conditionsOf = (
  input: ParentInput,
  charts: readonly ChartStatus[],
  counts: ChartCounts,
  heldBy: readonly string[],
): Condition[] => {
  const { parent, now, error } = input;
  const generation = parent.metadata.generation;
  let conditions: Condition[] = [...(parent.status?.conditions ?? [])];
  const set = (type: string, status: Condition['status'], reason: string, message: string): void => {
    conditions = setCondition(conditions, { type, status, reason, message }, generation, now);
  };
  const clear = (type: string): void => {
    conditions = removeCondition(conditions, type);
  };
  if (heldBy.length > 0)
    set(
      ConditionType.Held,
      'True',
      Reason.Held,
      `held by their child ArtifactVerification: the consumers of ${named(
        charts.filter((c) => heldBy.includes(c.child)),
        describeChart,
      )}`,
    );
  else set(ConditionType.Held, 'False', Reason.NotHeld, 'no child holds its consumers');
  if (error) {
    set(ConditionType.Ready, 'False', error.reason, error.message);
    if (error.code === 'Stalled') {
      set(ConditionType.Stalled, 'True', error.reason, error.message);
      clear(ConditionType.Reconciling);
    } else {
      set(
        ConditionType.Reconciling,
        'True',
        error.code === 'Waiting' ? Reason.Waiting : Reason.RetryingAfterError,
        error.message,
      );
      clear(ConditionType.Stalled);
    }
    return sortConditions(conditions);
  }
  clear(ConditionType.Stalled);
  const problems = charts.filter((c) => c.verdict === 'Untrusted' || c.verdict === 'Error');
  const pending = charts.filter((c) => c.verdict === 'Pending');
  if (pending.length > 0)
    set(
      ConditionType.Reconciling,
      'True',
      Reason.Verifying,
      `${named(pending, (c) => c.consumer)}: not judged yet`,
    );
  else clear(ConditionType.Reconciling);
  const summary = chartsSummary(counts);
  const source = sourceLabel(parent);
  if (counts.total === 0)
    set(ConditionType.Ready, 'True', Reason.NoConsumers, `no HelmRelease or HelmChart consumes ${source}`);
  else if (problems.length > 0)
    set(
      ConditionType.Ready,
      'False',
      Reason.ChartsUntrusted,
      `${summary}; not trusted: ${named(problems, (c) => `${describeChart(c)}: ${c.verdict}${c.reason ? ` (${c.reason})` : ''}`)}; only their consumers are held`,
    );
  else if (pending.length > 0) set(ConditionType.Ready, 'False', Reason.Verifying, `${summary}`);
  else
    set(ConditionType.Ready, 'True', Reason.ChartsTrusted, `${summary}: every chart consumed from ${source}`);
  return sortConditions(conditions);
};

const verdictEvents = (parent: ArtifactVerification, charts: readonly ChartStatus[]): PlannedEvent[] => {
  const previous = parent.status?.charts ?? [];
  // Past the cap the previous status does not list every chart: an absent one is not news then.
  const capped = (parent.status?.chartCounts?.total ?? 0) > previous.length;
  const events: PlannedEvent[] = [];
  for (const chart of charts) {
    if (chart.verdict === 'Pending') continue;
    const before = previous.find((p) => p.child === chart.child);
    if (before === undefined ? capped : before.verdict === chart.verdict) continue;
    const trusted = chart.verdict === 'Trusted';
    events.push({
      target: 'self',
      type: trusted ? 'Normal' : 'Warning',
      reason: trusted ? EventReason.ChartTrusted : EventReason.ChartUntrusted,
      action: 'Verify',
      note: `${describeChart(chart)}: ${chart.verdict}${chart.reason ? ` (${chart.reason})` : ''}, judged by ArtifactVerification ${chart.child}`,
    });
  }
  return events;
};

const consumerEvents = (input: ParentInput): PlannedEvent[] => [
  ...input.added.map((consumer): PlannedEvent => ({
    target: 'self',
    type: 'Normal',
    reason: EventReason.ConsumerAdded,
    action: 'Create',
    note: `${consumerKey(consumer)} consumes ${sourceLabel(input.parent)}: watched by a child ArtifactVerification`,
  })),
  ...input.removed.map((child): PlannedEvent => ({
    target: 'self',
    type: 'Normal',
    reason: EventReason.ConsumerRemoved,
    action: 'Delete',
    note: `ArtifactVerification ${child.metadata.name} deleted: its consumer is gone (its holds are released)`,
  })),
];

/**
 * The parent's whole status and Events. After an error the chart list keeps its last value (what the
 * children hold did not change; each child reports on its own), with the error in the conditions.
 */
export const summarizeParent = (input: ParentInput): ParentSummary => {
  const { parent } = input;
  const previous = parent.status ?? {};
  const generation = parent.metadata.generation;
  const charts = input.error
    ? [...(previous.charts ?? [])]
    : input.charts
        .map(({ consumer, name, child }) => chartStatus(consumer, name, child))
        .sort((a, b) => ORDER[a.verdict] - ORDER[b.verdict] || byCodePoint(a.consumer, b.consumer));
  const counts = input.error && previous.chartCounts ? previous.chartCounts : countCharts(charts);
  const heldBy = input.charts
    .filter(({ child }) => child !== undefined && conditionOf(child, ConditionType.Held)?.status === 'True')
    .map(({ name }) => name);
  const status: ArtifactVerificationStatus = {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    conditions: conditionsOf(input, charts, counts, heldBy),
    source: sourceLabel(parent),
    // An error before any chart was listed (an HTTP repository, a forbidden namespace) shows no counts.
    ...(input.error && previous.chartCounts === undefined
      ? {}
      : { charts: charts.slice(0, MAX_CHARTS), chartCounts: counts, chartsSummary: chartsSummary(counts) }),
    ...(input.error
      ? {
          lastFailure: {
            reason: input.error.reason,
            message: input.error.message.slice(0, 32768),
            time: input.now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
          },
        }
      : previous.lastFailure
        ? { lastFailure: previous.lastFailure }
        : {}),
  };
  return {
    status,
    events: input.error
      ? consumerEvents(input)
      : [...consumerEvents(input), ...verdictEvents(parent, charts)],
  };
};
