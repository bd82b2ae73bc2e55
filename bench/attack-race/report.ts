// The attack-race figures: one row per scenario × mode (attacks, how many applied the attacker's
// Deployment, how many let Flux's source status reach the attacker's artifact, detection and hold times),
// as a Markdown table for people and JSON for the record.
import type { Mode, TrialResult } from './trial.ts';

export interface Row {
  readonly scenario: string;
  readonly mode: Mode;
  readonly attacks: number;
  readonly errors: number;
  readonly applied: number;
  readonly reachedSource: number;
  readonly appliedS: Stats | null;
  readonly detectS: Stats | null;
  readonly holdS: Stats | null;
  readonly heldS: Stats | null;
}

export interface Stats {
  readonly n: number;
  readonly median: number;
  readonly max: number;
}

const stats = (values: readonly (number | undefined)[]): Stats | null => {
  const sorted = values.filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  return { n: sorted.length, median: Number(median.toFixed(1)), max: sorted.at(-1) ?? 0 };
};

/** One row per scenario × mode, in the order given (scenario-major). */
export const summarize = (
  results: readonly TrialResult[],
  scenarios: readonly string[],
  modes: readonly Mode[],
): Row[] =>
  scenarios.flatMap((scenario) =>
    modes.map((mode) => {
      const all = results.filter((r) => r.scenario === scenario && r.mode === mode);
      const ok = all.filter((r) => r.error === undefined);
      return {
        scenario,
        mode,
        attacks: ok.length,
        errors: all.length - ok.length,
        applied: ok.filter((r) => r.applied).length,
        reachedSource: ok.filter((r) => r.reachedSource).length,
        appliedS: stats(ok.map((r) => r.appliedS)),
        detectS: stats(ok.map((r) => r.detectS)),
        holdS: stats(ok.map((r) => r.holdS)),
        heldS: stats(ok.map((r) => r.heldS)),
      };
    }),
  );

const cell = (s: Stats | null, of: number): string =>
  s === null ? '—' : `${s.median} / ${s.max}${s.n < of ? ` (${s.n})` : ''}`;

export const markdown = (rows: readonly Row[]): string =>
  [
    '| scenario | mode | attacks | applied | source reached | push→applied s (median / max) | push→Verified=False s | push→Held=True s | push→suspend s | errors |',
    '| --- | --- | --: | --: | --: | --: | --: | --: | --: | --: |',
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.mode} | ${r.attacks} | ${r.applied} | ${r.reachedSource} | ${cell(r.appliedS, r.attacks)} | ${cell(r.detectS, r.attacks)} | ${cell(r.heldS, r.attacks)} | ${cell(r.holdS, r.attacks)} | ${r.errors} |`,
    ),
  ].join('\n');
