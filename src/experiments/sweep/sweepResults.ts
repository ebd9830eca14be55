import path from 'node:path';
import { buildReport } from '../../report/report.ts';
import { writeFileAtomic } from '../../runs/jsonFiles.ts';
import { REPORT_FILE } from '../../runs/paths.ts';
import { safeRunInfo, RESULTS_FILE, TABLE_FILE } from '../reproduce/results.ts';
import { type Spread, spreadOf } from '../reproduce/table.ts';
import type { SweepPlan } from './sweepPlan.ts';

/**
 * What a sweep measured: each run's final held-out exact match in and beyond the training lengths (run.json),
 * per cell the mean and min-max over seeds; written as results.json, table.md and the comparison report page.
 */

export interface SweepRunResult {
  seed: number;
  runDir: string;
  status: string;
  backend?: string;
  trainSeconds?: number;
  /** Percent; null until the run finished (or when it has no test length there). */
  inRange: number | null;
  beyond: number | null;
}

export interface SweepCellResult {
  id: string;
  values: Record<string, string>;
  inRange: Spread | null;
  beyond: Spread | null;
  runs: SweepRunResult[];
}

export interface SweepResults {
  sweep: string;
  definition: SweepPlan['definition'];
  seeds: number[];
  generatedAt: string;
  cells: SweepCellResult[];
}

const percent = (x: number | null | undefined) => (x === null || x === undefined ? null : 100 * x);

export function collectSweepResults(plan: SweepPlan, now = new Date()): SweepResults {
  const cells = new Map<string, SweepCellResult>();
  for (const unit of plan.units) {
    const info = safeRunInfo(unit.runDir);
    const finished = info?.status === 'finished';
    const run: SweepRunResult = {
      seed: unit.seed,
      runDir: unit.runDir,
      status: info?.status ?? 'missing',
      backend: info?.backend,
      trainSeconds: info?.train_seconds,
      inRange: finished ? percent(info.result?.accuracy_in_range) : null,
      beyond: finished ? percent(info.result?.accuracy_beyond) : null,
    };
    const cell = cells.get(unit.cell.id) ?? { id: unit.cell.id, values: unit.cell.values, inRange: null, beyond: null, runs: [] };
    cell.runs.push(run);
    cells.set(unit.cell.id, cell);
  }
  for (const cell of cells.values()) {
    cell.inRange = spreadOf(cell.runs.map((r) => r.inRange).filter((v): v is number => v !== null));
    cell.beyond = spreadOf(cell.runs.map((r) => r.beyond).filter((v): v is number => v !== null));
  }
  return {
    sweep: plan.name,
    definition: plan.definition,
    seeds: Array.from({ length: plan.seeds }, (_, k) => k),
    generatedAt: now.toISOString(),
    cells: [...cells.values()],
  };
}

/** `97.5 (95.0–100.0)` over several seeds, `[2/3 seeds]` when some have no number yet, `-` when none has. */
function formatSpread(spread: Spread | null, seeds: number): string {
  if (!spread) return '-';
  const text = spread.n > 1 ? `${spread.mean.toFixed(1)} (${spread.min.toFixed(1)}–${spread.max.toFixed(1)})` : spread.mean.toFixed(1);
  return spread.n < seeds ? `${text} [${spread.n}/${seeds} seeds]` : text;
}

/** The Markdown table: one row per cell, a column per grid field, then the two accuracies. */
export function renderSweepTable(results: SweepResults): string {
  const fields = results.definition.grid.map((axis) => axis.field);
  const seeds = results.seeds.length;
  const header = [...(fields.length ? fields : ['cell']), 'in range %', 'beyond %', 'finished'];
  const lines = [
    `## Sweep ${results.sweep}`,
    '',
    `Final held-out exact match (${seeds === 1 ? 'seed 0' : `seeds 0-${seeds - 1}: mean, then min–max`}).`,
    '',
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i < Math.max(fields.length, 1) ? '---' : '---:')).join('|')}|`,
  ];
  for (const cell of results.cells) {
    const finished = cell.runs.filter((r) => r.status === 'finished').length;
    const keys = fields.length ? fields.map((f) => cell.values[f]) : [cell.id];
    lines.push(
      `| ${[...keys, formatSpread(cell.inRange, seeds), formatSpread(cell.beyond, seeds), `${finished}/${cell.runs.length}`].join(' | ')} |`,
    );
  }
  return lines.join('\n') + '\n';
}

export interface WrittenSweep {
  markdown: string;
  tableFile: string;
  resultsFile: string;
  reportFile: string | null;
}

/** Writes table.md, results.json and, when some run finished and `report` is set, report.html. */
export function writeSweepResults(
  plan: SweepPlan,
  results: SweepResults,
  { report, warn }: { report: boolean; warn: (line: string) => void },
): WrittenSweep {
  const markdown = renderSweepTable(results);
  const tableFile = path.join(plan.dir, TABLE_FILE);
  const resultsFile = path.join(plan.dir, RESULTS_FILE);
  writeFileAtomic(tableFile, markdown);
  writeFileAtomic(resultsFile, JSON.stringify(results, null, 2) + '\n');
  let reportFile: string | null = null;
  const finished = plan.units.filter((u) => safeRunInfo(u.runDir)?.status === 'finished').map((u) => u.runDir);
  if (report && finished.length > 0) {
    try {
      reportFile = buildReport(finished, { out: path.join(plan.dir, REPORT_FILE) }).file;
    } catch (error) {
      warn(`warning: could not write the report page: ${(error as Error).message}`);
    }
  }
  return { markdown, tableFile, resultsFile, reportFile };
}
