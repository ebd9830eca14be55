import fs from 'node:fs';
import path from 'node:path';
import { buildReport } from '../../report/report.ts';
import { cellsOf, type FinishedRun, type ProbeRequest, type ProfileName, type Reproduction } from '../reproductions/reproduction.ts';
import { readJsonOrNull, writeFileAtomic } from '../../runs/jsonFiles.ts';
import { probeFile, REPORT_FILE, RUN_FILE } from '../../runs/paths.ts';
import type { RunInfo } from '../../runs/records.ts';
import { readRunInfo } from '../../runs/runDirectory.ts';
import type { Unit } from './unit.ts';
import { renderMarkdown, summarizeResults, type CellResult, type ReproductionResults, type SeedResult } from './table.ts';

/**
 * What the units of a reproduction measured: read from their run directories (run.json and probe results),
 * gathered into the table, and written as table.md, results.json and report.html.
 */

export const TABLE_FILE = 'table.md';
export const RESULTS_FILE = 'results.json';

/** A run directory's run.json, or null when it is missing or unreadable. */
export function safeRunInfo(runDir: string): RunInfo | null {
  try {
    return readRunInfo(runDir);
  } catch {
    return null;
  }
}

/** A probe is done when its JSON exists for the run's final step. */
export function probeDone(runDir: string, request: ProbeRequest): boolean {
  const result = readJsonOrNull<{ step?: number }>(probeFile(runDir, request.name));
  return result !== null && result.step === safeRunInfo(runDir)?.step;
}

/** Reads what a finished unit measured. */
export function readUnit(reproduction: Reproduction, unit: Unit, probes: readonly ProbeRequest[]): SeedResult {
  const info = fs.existsSync(path.join(unit.runDir, RUN_FILE)) ? safeRunInfo(unit.runDir) : null;
  const result: SeedResult = { seed: unit.seed, runDir: unit.runDir, status: info?.status ?? 'missing', values: {} };
  if (info) {
    result.backend = info.backend;
    result.trainSeconds = info.train_seconds;
    if (info.message) result.message = info.message;
  }
  const finished: FinishedRun | null =
    info?.status === 'finished'
      ? {
          info,
          config: unit.config,
          probes: Object.fromEntries(probes.map((p) => [p.name, readJsonOrNull(probeFile(unit.runDir, p.name))])),
        }
      : null;
  for (const metric of reproduction.metrics) result.values[metric.id] = finished ? metric.read(finished) : null;
  return result;
}

/** The table of every cell (also those outside --only, so it shows whatever has been trained) from `units`. */
export function collectResults(
  reproduction: Reproduction,
  profile: ProfileName,
  units: readonly Unit[],
  probes: readonly ProbeRequest[],
  overrides: string[],
): ReproductionResults {
  const cells: CellResult[] = cellsOf(reproduction).map((cell) => ({
    id: cell.id,
    row: cell.row.id,
    column: cell.column.id,
    seeds: units.filter((u) => u.cell.id === cell.id).map((u) => readUnit(reproduction, u, probes)),
  }));
  return summarizeResults(reproduction, profile, [...new Set(units.map((u) => u.seed))], cells, { overrides });
}

export interface WrittenResults {
  markdown: string;
  tableFile: string;
  resultsFile: string;
  /** Null when not asked for, when no unit has finished, or when the page could not be built (then `warn` said why). */
  reportFile: string | null;
}

/** Writes table.md and results.json into `dir`, and with `report` the report page over the finished units. */
export function writeResults(
  dir: string,
  results: ReproductionResults,
  units: readonly Unit[],
  { report, warn }: { report: boolean; warn: (line: string) => void },
): WrittenResults {
  const markdown = renderMarkdown(results);
  const tableFile = path.join(dir, TABLE_FILE);
  const resultsFile = path.join(dir, RESULTS_FILE);
  writeFileAtomic(tableFile, markdown);
  writeFileAtomic(resultsFile, JSON.stringify(results, null, 2) + '\n');
  let reportFile: string | null = null;
  const finished = units.filter((u) => safeRunInfo(u.runDir)?.status === 'finished').map((u) => u.runDir);
  if (report && finished.length > 0) {
    try {
      reportFile = buildReport(finished, { out: path.join(dir, REPORT_FILE) }).file;
    } catch (error) {
      warn(`warning: could not write the report page: ${(error as Error).message}`);
    }
  }
  return { markdown, tableFile, resultsFile, reportFile };
}
