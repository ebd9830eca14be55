import type { RunStatus } from '../../runs/records.ts';
import {
  paperKey,
  paperPoint,
  type PaperValue,
  type ProfileName,
  type Reproduction,
  type SeedSpread,
} from '../reproductions/reproduction.ts';

/**
 * What a reproduction measured (results.json) and its Markdown table (table.md). Built from plain data, so
 * a test renders a table from fixture results without training anything.
 */

/** One training run of a cell: its seed, where it lives, how it ended, and each metric read from it. */
export interface SeedResult {
  seed: number;
  runDir: string;
  /** `missing`: never started (or its directory is gone). */
  status: RunStatus | 'missing';
  backend?: string;
  trainSeconds?: number;
  values: Record<string, number | null>;
  message?: string;
}

export interface CellResult {
  id: string;
  row: string;
  column: string;
  seeds: SeedResult[];
}

/** Mean, median and range over the seeds that produced a number. */
export type Spread = SeedSpread;

export interface TableEntry {
  row: string;
  column: string;
  metric: string;
  ours: Spread | null;
  /** Seeds asked for, and why a missing one is missing (statuses of the seeds without a number). */
  seeds: number;
  missing: string[];
  paper: PaperValue | null;
}

export interface RankResult {
  metric: string;
  label: string;
  /** By row id, then column id: 1 = best; null when the column has no number. */
  ours: Record<string, Record<string, number | null>>;
  paper: Record<string, Record<string, number | null>>;
}

export interface CheckResult {
  question: string;
  verdict: 'yes' | 'no' | 'unknown';
  evidence: string;
}

export interface ReproductionResults {
  experiment: string;
  title: string;
  citation: string;
  profile: ProfileName;
  profileDescription: string;
  /** `--set` overrides applied to every cell after the profile. */
  overrides: string[];
  /** Why some cells are not trained in this profile (they have no seeds). */
  skipped: string | null;
  notes: string[];
  seeds: number[];
  generatedAt: string;
  rows: { label: string; entries: { id: string; label: string }[] };
  columns: { label: string; entries: { id: string; label: string }[] };
  metrics: { id: string; label: string }[];
  cells: CellResult[];
  table: TableEntry[];
  rank: RankResult | null;
  checks: CheckResult[];
}

export function spreadOf(values: number[]): Spread | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return {
    mean: values.reduce((a, b) => a + b, 0) / values.length,
    median,
    min: sorted[0],
    max: sorted[sorted.length - 1],
    n: values.length,
  };
}

/** Competition ranking, higher is better: 1, 2, 2, 4. Null values get no rank. */
export function rankValues(values: Record<string, number | null>): Record<string, number | null> {
  const present = Object.values(values).filter((v): v is number => v !== null);
  return Object.fromEntries(
    Object.entries(values).map(([key, v]) => [key, v === null ? null : 1 + present.filter((other) => other > v).length]),
  );
}

/** Aggregates per-seed results into the table: spreads, the paper's numbers, ranks and shape checks. */
export function summarizeResults(
  reproduction: Reproduction,
  profile: ProfileName,
  seeds: number[],
  cells: CellResult[],
  { overrides = [], now = new Date() }: { overrides?: string[]; now?: Date } = {},
): ReproductionResults {
  const table: TableEntry[] = [];
  for (const cell of cells) {
    for (const metric of reproduction.metrics) {
      const values = cell.seeds.map((s) => s.values[metric.id]).filter((v): v is number => v !== null && v !== undefined);
      const missing = cell.seeds.filter((s) => s.values[metric.id] === null || s.values[metric.id] === undefined).map((s) => s.status);
      table.push({
        row: cell.row,
        column: cell.column,
        metric: metric.id,
        ours: spreadOf(values),
        seeds: cell.seeds.length,
        missing,
        paper: reproduction.paper[paperKey(cell.row, cell.column, metric.id)] ?? null,
      });
    }
  }
  const entry = (row: string, column: string, metric: string) =>
    table.find((e) => e.row === row && e.column === column && e.metric === metric);
  const spread = (row: string, column: string, metric: string) => entry(row, column, metric)?.ours ?? null;
  const mean = (row: string, column: string, metric: string) => spread(row, column, metric)?.mean ?? null;
  let rank: RankResult | null = null;
  if (reproduction.rank) {
    const { metric, label } = reproduction.rank;
    const ours: RankResult['ours'] = {};
    const paper: RankResult['paper'] = {};
    for (const row of reproduction.rows.entries) {
      const columns = reproduction.columns.entries.map((c) => c.id);
      ours[row.id] = rankValues(Object.fromEntries(columns.map((c) => [c, mean(row.id, c, metric)])));
      paper[row.id] = rankValues(Object.fromEntries(columns.map((c) => [c, paperPoint(entry(row.id, c, metric)?.paper ?? undefined)])));
    }
    rank = { metric, label, ours, paper };
  }
  const checks = (reproduction.checks ?? []).map((check) => ({ question: check.question, ...check.answer(mean, spread) }));
  const axis = (a: Reproduction['rows']) => ({ label: a.label, entries: a.entries.map(({ id, label }) => ({ id, label })) });
  return {
    experiment: reproduction.name,
    title: reproduction.title,
    citation: reproduction.citation,
    profile,
    profileDescription: reproduction.profiles[profile].description,
    overrides,
    skipped: reproduction.profiles[profile].skip?.reason ?? null,
    notes: reproduction.notes,
    seeds,
    generatedAt: now.toISOString(),
    rows: axis(reproduction.rows),
    columns: axis(reproduction.columns),
    metrics: reproduction.metrics.map(({ id, label }) => ({ id, label })),
    cells,
    table,
    rank,
    checks,
  };
}

/**
 * `12.3`, or `12.3 (med 11.0, 10.1–14.0)` (mean, median, min–max) over several seeds, with `[2/3 seeds]` when
 * some are missing; `skipped` for a cell the profile does not train. Published length-generalization numbers
 * are often a median or the best of several seeds, so the table shows all three.
 */
export function formatOurs(entry: TableEntry): string {
  if (!entry.ours) {
    if (entry.seeds === 0) return 'skipped';
    const statuses = [...new Set(entry.missing)];
    return statuses.length === 1 && statuses[0] !== 'missing' ? statuses[0] : 'missing';
  }
  const { mean, median, min, max, n } = entry.ours;
  const text = n > 1 ? `${mean.toFixed(1)} (med ${median.toFixed(1)}, ${min.toFixed(1)}–${max.toFixed(1)})` : mean.toFixed(1);
  return n < entry.seeds ? `${text} [${n}/${entry.seeds} seeds]` : text;
}

/**
 * The Markdown page: title, citation, profile, one table (rows × metrics down, columns across, ours beside the
 * paper's), the rank row, shape checks and notes.
 */
export function renderMarkdown(results: ReproductionResults): string {
  const lines: string[] = [];
  // A profile may give some columns more seeds (seedsByColumn): a cell with one seed shows its number alone.
  const mixed = new Set(results.cells.map((c) => c.seeds.length).filter((n) => n > 0)).size > 1;
  const seedText =
    results.seeds.length === 1
      ? `seed ${results.seeds[0]}`
      : `seeds ${results.seeds.join(', ')} (mean, then median and min–max${mixed ? '; not every column has every seed' : ''})`;
  lines.push(`## ${results.title}`, '');
  lines.push(`${results.citation}`, '');
  const changed = results.overrides.length ? `, changed: ${results.overrides.map((o) => `\`${o}\``).join(', ')}` : '';
  lines.push(`\`${results.experiment}\`, profile \`${results.profile}\`${changed}, ${seedText}. ${results.profileDescription}`, '');
  const oneRow = results.rows.entries.length === 1;
  const oneMetric = results.metrics.length === 1;
  const corner = oneMetric ? results.rows.label : oneRow ? 'metric' : `${results.rows.label}, metric`;
  const header = [corner, ...results.columns.entries.flatMap((c) => [`${c.label} ours`, 'paper'])];
  lines.push(`| ${header.join(' | ')} |`);
  lines.push(`|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
  for (const row of results.rows.entries) {
    for (const metric of results.metrics) {
      const label = oneMetric ? row.label : oneRow ? metric.label : `${row.label}, ${metric.label}`;
      const cells = results.columns.entries.flatMap((column) => {
        const entry = results.table.find((e) => e.row === row.id && e.column === column.id && e.metric === metric.id);
        return entry ? [formatOurs(entry), entry.paper?.text ?? 'n/a'] : ['missing', 'n/a'];
      });
      lines.push(`| ${[label, ...cells].join(' | ')} |`);
    }
    if (results.rank) {
      const rank = results.rank;
      const label = oneRow ? rank.label : `${row.label}, ${rank.label}`;
      const cells = results.columns.entries.flatMap((column) =>
        [rank.ours[row.id]?.[column.id], rank.paper[row.id]?.[column.id]].map((r) => (r === null || r === undefined ? '–' : String(r))),
      );
      lines.push(`| ${[label, ...cells].join(' | ')} |`);
    }
  }
  lines.push('');
  lines.push(
    oneMetric
      ? `Numbers: ${results.metrics[0].label}, %. "ours": this lab; "paper": as published (sources in results.json).`
      : 'Numbers: exact match, %. "ours": this lab; "paper": as published (sources in results.json).',
  );
  const sources = [...new Set(results.table.map((e) => e.paper?.source).filter((s): s is string => Boolean(s)))];
  for (const source of sources) lines.push(`- paper: ${source}`);
  if (results.skipped) lines.push(`- skipped in profile \`${results.profile}\`: ${results.skipped}`);
  if (results.checks.length > 0) {
    lines.push('', 'Shape checks (ours):');
    for (const check of results.checks) lines.push(`- ${check.question} **${check.verdict}** (${check.evidence})`);
  }
  lines.push('', 'Notes:');
  for (const note of results.notes) lines.push(`- ${note}`);
  return lines.join('\n') + '\n';
}
