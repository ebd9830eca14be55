import type { FinishedRun, Metric, SeedSpread } from './reproduction.ts';

/**
 * Metrics of the length-generalization tables (Cho'24, McLeish'24), read from a finished run's final held-out
 * exact match by operand length (both operands n digits). The lengths are relative to the run's own training
 * range, so one definition serves a quick profile (trained on ≤ 10 digits) and the paper's (≤ 20 or ≤ 30); the
 * whole curve, out to the longest tested length, is in each run's metrics and in the comparison report.
 */

const percent = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? null : 100 * x);

/** Exact match (%) at `digits`, or null when the run did not test that length. */
function accuracyAt(run: FinishedRun, digits: number): number | null {
  return percent(run.info.result?.accuracy[String(digits)]);
}

/** Exact match at k times the longest training length (clipped to the longest tested one). */
function atMultiple(k: number): Metric {
  return {
    id: `at-${k}x`,
    label: `at ${k}× the longest training length`,
    read: (run) => accuracyAt(run, Math.min(k * run.config.task.train_digits[1], run.config.task.test_digits[1])),
  };
}

/** In range (mean over trained lengths), at 2× and 3× the training length, at the longest tested length, beyond (mean). */
export const LENGTH_METRICS: Metric[] = [
  { id: 'in-range', label: 'in range (mean over trained lengths)', read: (run) => percent(run.info.result?.accuracy_in_range) },
  atMultiple(2),
  atMultiple(3),
  { id: 'longest', label: 'at the longest tested length', read: (run) => accuracyAt(run, run.config.task.test_digits[1]) },
  { id: 'beyond', label: 'beyond (mean over untrained lengths)', read: (run) => percent(run.info.result?.accuracy_beyond) },
];

type Verdict = { verdict: 'yes' | 'no' | 'unknown'; evidence: string };

/** `median 97.0 (95.0–99.0)`, or `missing`. */
function describeSpread(label: string, spread: SeedSpread | null): string {
  if (!spread) return `${label} missing`;
  const range = spread.n > 1 ? ` (${spread.min.toFixed(1)}–${spread.max.toFixed(1)})` : '';
  return `${label} median ${spread.median.toFixed(1)}${range}`;
}

/**
 * Whether `leader`'s median is at least `floor` while every one of `others` has a median at most `ceiling`
 * (null: no ceiling, only a floor; `above`: the leader's median must also exceed each other's).
 */
export function leadsOthers(
  leader: [label: string, spread: SeedSpread | null],
  others: [label: string, spread: SeedSpread | null][],
  { floor, ceiling = null, above = false }: { floor: number; ceiling?: number | null; above?: boolean },
): Verdict {
  const evidence = [leader, ...others].map(([label, spread]) => describeSpread(label, spread)).join(', ');
  const [, lead] = leader;
  if (!lead || others.some(([, spread]) => !spread)) return { verdict: 'unknown', evidence: `${evidence}: cells missing` };
  const ok =
    lead.median >= floor &&
    others.every(([, spread]) => (ceiling === null || spread!.median <= ceiling) && (!above || lead.median > spread!.median));
  return { verdict: ok ? 'yes' : 'no', evidence };
}

/** Whether every column's median in range is at least `floor` (do the models fit what they were trained on?). */
export function fitsTrainingRange(columns: [label: string, spread: SeedSpread | null][], floor = 95): Verdict {
  const evidence = columns.map(([label, spread]) => describeSpread(label, spread)).join(', ');
  if (columns.some(([, spread]) => !spread)) return { verdict: 'unknown', evidence: `${evidence}: cells missing` };
  return { verdict: columns.every(([, spread]) => spread!.median >= floor) ? 'yes' : 'no', evidence };
}
