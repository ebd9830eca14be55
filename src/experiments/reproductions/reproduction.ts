import type { Config, ConfigInput } from '../../config/schema.ts';
import type { RunInfo } from '../../runs/records.ts';

/**
 * A paper's table as data: a base config, the rows and columns whose overrides make each training cell, the
 * metrics read from each finished run, the paper's numbers, and two profiles (`quick` for this CPU, `paper`
 * for the paper's settings or as close as the lab gets). `src/experiments/reproduce/` runs one; adding a
 * table is one file in this folder and one line in `index.ts`.
 */

/** A nested partial config: sections and fields to change. Arrays replace arrays (`train_digits: [1, 8]`). */
export type ConfigPatch = {
  [K in keyof ConfigInput]?: ConfigInput[K] extends object | undefined ? Partial<NonNullable<ConfigInput[K]>> : ConfigInput[K];
};

/** One value along the rows or the columns of a table: an id (used in file names), a label, and its overrides. */
export interface AxisEntry {
  /** Letters, digits and "-" only: it becomes part of run directory names. */
  id: string;
  label: string;
  overrides: ConfigPatch;
}

/** What a metric reader sees of one finished run. */
export interface FinishedRun {
  info: RunInfo;
  /** The run's resolved config (e.g. its training and test lengths, for metrics relative to them). */
  config: Config;
  /** `probes/<name>.json` of the run, parsed, for the probes the profile ran. */
  probes: Record<string, unknown>;
}

/** A number each training cell contributes to the table, in percent (0-100), or null when the run has none. */
export interface Metric {
  id: string;
  label: string;
  read: (run: FinishedRun) => number | null;
}

/**
 * A number as the paper prints it. `value` for one number; `min`/`max` for a range over seeds (`max` alone for
 * "≤ 0.1"). `text` is shown verbatim; `source` says where it comes from. Null `value`, `min` and `max` with a
 * `text` such as "n/a" mark a cell the paper does not report (the reason goes in `source`).
 */
export interface PaperValue {
  value?: number;
  min?: number;
  max?: number;
  text: string;
  source: string;
}

/** The number a paper value ranks by: its value, or the middle of its range. */
export function paperPoint(paper: PaperValue | undefined): number | null {
  if (!paper) return null;
  if (paper.value !== undefined) return paper.value;
  if (paper.min !== undefined && paper.max !== undefined) return (paper.min + paper.max) / 2;
  if (paper.max !== undefined) return paper.max / 2;
  if (paper.min !== undefined) return paper.min;
  return null;
}

export type ProfileName = 'quick' | 'paper';
export const PROFILE_NAMES: readonly ProfileName[] = ['quick', 'paper'];

/** A probe to run on every finished cell (its JSON then reaches `Metric.read` and the report page). */
export interface ProbeRequest {
  name: string;
  samples: number;
  maxDigits?: number;
}

export interface Profile {
  /** One paragraph, printed above the table: what this profile changes from the paper and why. */
  description: string;
  /** Seeds when `--seeds` is not given. */
  seeds: number;
  /**
   * Seeds of these columns (ids) when `--seeds` is not given, instead of `seeds`: the column whose question is
   * a median over seeds gets them, the baselines one each, so the profile stays within its time.
   */
  seedsByColumn?: Record<string, number>;
  /** Applied after the row's and the column's overrides, so a profile has the last word. */
  overrides: ConfigPatch;
  /** Per column id (e.g. scratchpads train with other batches), applied after `overrides`. */
  byColumn?: Record<string, ConfigPatch>;
  /** Per row id, applied last. */
  byRow?: Record<string, ConfigPatch>;
  probes?: ProbeRequest[];
  /** Cells this profile does not train (ids, `*` any characters), and why; the table says "skipped". */
  skip?: { cells: string[]; reason: string };
}

/** Seeds of a cell in `column`: `--seeds` when given, else the profile's count for the column, else its `seeds`. */
export function seedsOfColumn(profile: Profile, column: string, seeds?: number): number {
  return seeds ?? profile.seedsByColumn?.[column] ?? profile.seeds;
}

/** `*` matches any characters, everything else itself. */
export function matchesPattern(pattern: string, id: string): boolean {
  const escaped = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`).test(id);
}

/** Ranks the columns by one metric (1 = best, ties share the better rank), ours and the paper's. */
export interface RankSpec {
  metric: string;
  label: string;
}

/** Our numbers of one table entry over the seeds that produced one. */
export interface SeedSpread {
  mean: number;
  median: number;
  min: number;
  max: number;
  n: number;
}

/** Whether our table has the paper's shape in one respect, answered from the table itself. */
export interface ShapeCheck {
  question: string;
  /**
   * `mean(row, column, metric)` is our mean over seeds (null when missing); `spread` the same entry's mean,
   * median and range (for papers that report a median or the best of several seeds).
   */
  answer: (
    mean: (row: string, column: string, metric: string) => number | null,
    spread: (row: string, column: string, metric: string) => SeedSpread | null,
  ) => { verdict: 'yes' | 'no' | 'unknown'; evidence: string };
}

export interface Reproduction {
  /** Registry name, equal to the file name: `lee2023-sample-efficiency`. */
  name: string;
  title: string;
  citation: string;
  /** What the table measures, how cells are read, and every deliberate departure from the paper. */
  notes: string[];
  /** A complete config (every required field): the shared setup of all cells. */
  base: ConfigInput;
  rows: { label: string; entries: AxisEntry[] };
  columns: { label: string; entries: AxisEntry[] };
  metrics: Metric[];
  /** The paper's numbers by `paperKey(row, column, metric)`; every cell has one (possibly "n/a"). */
  paper: Record<string, PaperValue>;
  /** Ranks the columns by one metric, ours and the paper's (from `paper` by `paperPoint`). */
  rank?: RankSpec;
  /** Questions about the table's shape, answered under it (e.g. does reversed beat plain at 2k-4k?). */
  checks?: ShapeCheck[];
  profiles: Record<ProfileName, Profile>;
}

export function paperKey(row: string, column: string, metric: string): string {
  return `${row}/${column}/${metric}`;
}

/** A training cell: one row and one column of the table (trained once per seed). */
export interface Cell {
  id: string;
  row: AxisEntry;
  column: AxisEntry;
}

/** Cells in table order (row by row); the id is `<row>-<column>`, or the column id alone for a one-row table. */
export function cellsOf(reproduction: Reproduction): Cell[] {
  const oneRow = reproduction.rows.entries.length === 1;
  return reproduction.rows.entries.flatMap((row) =>
    reproduction.columns.entries.map((column) => ({ id: oneRow ? column.id : `${row.id}-${column.id}`, row, column })),
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Deep merge of config patches: objects merge key by key, anything else (arrays included) replaces. */
export function mergePatch(target: Record<string, unknown>, patch: object | undefined): Record<string, unknown> {
  for (const [key, value] of Object.entries(patch ?? {})) {
    if (value === undefined) continue;
    target[key] =
      isPlainObject(value) && isPlainObject(target[key])
        ? mergePatch({ ...(target[key] as object) } as Record<string, unknown>, value)
        : structuredClone(value);
  }
  return target;
}

/**
 * The raw (unvalidated) config of one cell and seed: base, then column, row, profile, profile-by-column and
 * profile-by-row overrides, then the seed and a run name `<cell>-seed<k>`.
 */
export function cellConfigInput(reproduction: Reproduction, profile: ProfileName, cell: Cell, seed: number): Record<string, unknown> {
  const chosen = reproduction.profiles[profile];
  const raw = structuredClone(reproduction.base) as Record<string, unknown>;
  for (const patch of [
    cell.column.overrides,
    cell.row.overrides,
    chosen.overrides,
    chosen.byColumn?.[cell.column.id],
    chosen.byRow?.[cell.row.id],
  ]) {
    mergePatch(raw, patch);
  }
  raw.seed = seed;
  raw.name = `${cell.id}-seed${seed}`;
  return raw;
}
