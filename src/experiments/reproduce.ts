import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import type { BackendName } from '../backends/select.ts';
import { applyOverrides, parseConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { RunStoppedError, UserError } from '../errors.ts';
import { flattenConfig } from '../report/compare.ts';
import { buildReport } from '../report/report.ts';
import { formatDuration } from '../duration.ts';
import { expectedParameters, latestCheckpoint, openRun } from './checkpoint.ts';
import { renderMarkdown, summarizeResults, type CellResult, type ReproductionResults, type SeedResult } from './reproduceTable.ts';
import { cellConfigInput, cellsOf, matchesPattern, type Cell, type FinishedRun, type ProbeRequest, type ProfileName, type Reproduction } from './reproductions/reproduction.ts';
import { CONFIG_FILE, readRunInfo, RUN_FILE, writeFileAtomic, type RunInfo } from './runDir.ts';
import { longestSequence, prepareExperiment } from './setup.ts';

/**
 * Runs every training of a paper's table, one child process per run (`arith-lab train`), `jobs` at a time:
 *
 *   runs/reproduce/<name>/<profile>/
 *     <cell>-seed<k>/      one run directory per cell and seed (the usual train layout)
 *     configs/<cell>-seed<k>.yaml   the resolved config each was started from
 *     logs/<cell>-seed<k>.log       the child's output
 *     table.md  results.json  report.html
 *
 * Directories are fixed by name, so running the command again continues: finished runs are read, not
 * retrained; interrupted ones resume from their newest checkpoint (`train --resume`), or start over when they
 * have none. A finished run is never overwritten. Each run is deterministic per seed on one backend, so the
 * numbers do not depend on `jobs` or on interruptions.
 */

export const REPRODUCE_DIR = 'reproduce';
const LOCK_FILE = 'reproduce.lock';

export interface ReproduceOptions {
  profile?: ProfileName;
  /** Seeds 0..seeds-1; default the profile's. */
  seeds?: number;
  /** Runs trained at once, each in its own process. */
  jobs?: number;
  /** Folder under which `reproduce/<name>/<profile>/` lives (default `runs`). */
  runsRoot?: string;
  /** Overrides every cell's `backend`. */
  backend?: BackendName;
  /** How to start the lab's CLI: default `node bin/arith-lab.js`; the CLI passes its own entry point. */
  command?: string[];
  /** Write report.html (default true). */
  report?: boolean;
  /** Start failed runs over (default: keep them; a diverged run diverges again, a crashed one may not). */
  retryFailed?: boolean;
  /** Plan only: say what would run, train nothing, write nothing. */
  dryRun?: boolean;
  /**
   * `--set key.path=value` for every cell, after the profile: "the table, changing one thing". The runs go to
   * `<profile>+<overrides>/`, apart from the plain profile's.
   */
  overrides?: string[];
  /** Only cells whose id matches one of these patterns (`*` any characters): e.g. `n2k-*`, `*-reversed`. */
  only?: string[];
  log?: (line: string) => void;
  /** Once aborted: no new run starts, running children get SIGTERM (they checkpoint), then RunStoppedError. */
  signal?: AbortSignal;
  /** Test hooks: a unit's training (and probes) ended; a child wrote output. */
  onUnitDone?: (unit: Unit, outcome: UnitOutcome) => void;
  onOutput?: (unit: Unit, text: string) => void;
}

/** One training run: a cell and a seed. */
export interface Unit {
  id: string;
  cell: Cell;
  seed: number;
  config: Config;
  runDir: string;
  configFile: string;
  logFile: string;
}

export type UnitPlan =
  | { action: 'new' }
  | { action: 'finished' }
  | { action: 'failed'; message: string }
  | { action: 'resume'; step: number }
  | { action: 'restart'; reason: string };

export type UnitOutcome = 'finished' | 'failed' | 'interrupted';

export interface ReproduceResult {
  dir: string;
  results: ReproductionResults;
  markdown: string;
  tableFile: string;
  resultsFile: string;
  reportFile: string | null;
}

const DEFAULT_COMMAND = [process.execPath, fileURLToPath(new URL('../../bin/arith-lab.js', import.meta.url))];

export function experimentDir(runsRoot: string, name: string, profile: ProfileName, overrides: readonly string[] = []): string {
  const variant = overrides.map((o) => o.replace(/[^A-Za-z0-9._=,-]/g, '_')).join('+');
  return path.join(runsRoot, REPRODUCE_DIR, name, variant ? `${profile}+${variant}` : profile);
}

/** Config fields that say what a run computes: everything but the engine (whose rounding differs slightly). */
function comparable(config: Config): Record<string, string> {
  const flat = flattenConfig(config as unknown as Record<string, unknown>);
  delete flat.backend;
  return flat;
}

function differences(a: Config, b: Config): string[] {
  const [x, y] = [comparable(a), comparable(b)];
  return [...new Set([...Object.keys(x), ...Object.keys(y)])].filter((key) => x[key] !== y[key]);
}

/**
 * What to do with a unit's run directory. A finished run whose config differs from the definition's is an
 * error (it is never overwritten); an unfinished one with another config starts over.
 */
export function planUnit(runDir: string, config: Config): UnitPlan {
  if (!fs.existsSync(runDir) || fs.readdirSync(runDir).length === 0) return { action: 'new' };
  const hasFiles = [CONFIG_FILE, RUN_FILE].every((file) => fs.existsSync(path.join(runDir, file)));
  if (!hasFiles) return { action: 'restart', reason: 'no config.yaml or run.json' };
  let run: ReturnType<typeof openRun>;
  try {
    run = openRun(runDir);
  } catch (error) {
    const info = safeRunInfo(runDir);
    if (info?.status === 'finished') throw error;
    return { action: 'restart', reason: `unreadable (${(error as Error).message})` };
  }
  const changed = differences(run.config, config);
  if (run.info.status === 'finished') {
    if (changed.length > 0) {
      throw new UserError(
        `finished with a different config (${changed.slice(0, 4).join(', ')}${changed.length > 4 ? ', ...' : ''}); ` +
          'it is never overwritten: move it away, or use another --runs folder',
        { file: runDir },
      );
    }
    return { action: 'finished' };
  }
  if (changed.length > 0) return { action: 'restart', reason: `its config differs (${changed.slice(0, 4).join(', ')})` };
  if (run.info.status === 'failed') return { action: 'failed', message: run.info.message ?? 'failed' };
  try {
    const checkpoint = latestCheckpoint(runDir, expectedParameters(prepareExperiment(config).model));
    return checkpoint ? { action: 'resume', step: checkpoint.step } : { action: 'restart', reason: 'no checkpoint yet' };
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    return { action: 'restart', reason: error.message };
  }
}

function safeRunInfo(runDir: string): RunInfo | null {
  try {
    return readRunInfo(runDir);
  } catch {
    return null;
  }
}

function probeFile(runDir: string, name: string): string {
  return path.join(runDir, 'probes', `${name}.json`);
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/** A probe is done when its JSON exists for the run's final step. */
function probeDone(runDir: string, request: ProbeRequest, step: number | undefined): boolean {
  const result = readJson(probeFile(runDir, request.name)) as { step?: number } | null;
  return result !== null && result.step === step;
}

/**
 * Builds every unit's config (validated, so a bad definition fails before anything runs), except the cells the
 * profile skips.
 */
export function unitsOf(
  reproduction: Reproduction,
  profile: ProfileName,
  seeds: number,
  dir: string,
  backend?: BackendName,
  overrides: readonly string[] = [],
): Unit[] {
  const units: Unit[] = [];
  const skip = reproduction.profiles[profile].skip?.cells ?? [];
  for (const cell of cellsOf(reproduction)) {
    if (skip.some((pattern) => matchesPattern(pattern, cell.id))) continue;
    for (let seed = 0; seed < seeds; seed++) {
      const raw = cellConfigInput(reproduction, profile, cell, seed);
      applyOverrides(raw, overrides);
      if (backend) raw.backend = backend;
      const id = `${cell.id}-seed${seed}`;
      const config = parseConfig(raw, `${reproduction.name} (${id}, profile ${profile})`);
      units.push({
        id,
        cell,
        seed,
        config,
        runDir: path.join(dir, id),
        configFile: path.join(dir, 'configs', `${id}.yaml`),
        logFile: path.join(dir, 'logs', `${id}.log`),
      });
    }
  }
  return units;
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
      ? { info, probes: Object.fromEntries(probes.map((p) => [p.name, readJson(probeFile(unit.runDir, p.name))])) }
      : null;
  for (const metric of reproduction.metrics) result.values[metric.id] = finished ? metric.read(finished) : null;
  return result;
}

/** Rough training cost of a unit, to start the longest first: steps x batch x longest training sequence. */
function estimatedCost(unit: Unit): number {
  const experiment = prepareExperiment(unit.config);
  return unit.config.train.steps * unit.config.train.batch * longestSequence(experiment, unit.config.task.train_digits[1]);
}

function acquireLock(dir: string): () => void {
  const file = path.join(dir, LOCK_FILE);
  const holder = Number(readJson(file));
  if (Number.isInteger(holder) && holder > 0 && holder !== process.pid) {
    let alive = true;
    try {
      process.kill(holder, 0);
    } catch (error) {
      alive = (error as { code?: string }).code === 'EPERM';
    }
    if (alive) throw new UserError(`another reproduce (process ${holder}) is working here; wait for it or stop it`, { file: dir });
  }
  fs.writeFileSync(file, String(process.pid));
  return () => fs.rmSync(file, { force: true });
}

/** Runs (or continues) a reproduction and writes its table; see the file comment. */
export async function reproduce(reproduction: Reproduction, options: ReproduceOptions = {}): Promise<ReproduceResult> {
  const log = options.log ?? (() => {});
  const profile = options.profile ?? 'quick';
  const chosen = reproduction.profiles[profile];
  if (!chosen) throw new UserError(`unknown profile "${profile}" (expected quick or paper)`, { field: '--profile' });
  const seedCount = options.seeds ?? chosen.seeds;
  const jobs = options.jobs ?? 1;
  for (const [flag, value] of [['--seeds', seedCount], ['--jobs', jobs]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new UserError(`expected a whole number of at least 1, got ${value}`, { field: flag });
  }
  const probes = chosen.probes ?? [];
  const overrides = options.overrides ?? [];
  const dir = experimentDir(options.runsRoot ?? 'runs', reproduction.name, profile, overrides);
  const allUnits = unitsOf(reproduction, profile, seedCount, dir, options.backend, overrides);
  const units = options.only?.length ? allUnits.filter((unit) => options.only!.some((pattern) => matchesPattern(pattern, unit.cell.id))) : allUnits;
  if (units.length === 0) throw new UserError(`no cell matches ${options.only!.join(', ')} (cells: ${cellsOf(reproduction).map((c) => c.id).join(', ')})`, { field: '--only' });
  const plans = new Map(
    units.map((unit): [string, UnitPlan] => {
      const plan = planUnit(unit.runDir, unit.config);
      return [unit.id, plan.action === 'failed' && options.retryFailed ? { action: 'restart', reason: `it failed: ${plan.message}` } : plan];
    }),
  );
  const needsProbes = (unit: Unit) => probes.some((p) => !probeDone(unit.runDir, p, safeRunInfo(unit.runDir)?.step));
  // Longest runs first: with several jobs the last to finish is then a short one (results do not depend on order).
  const work = units
    .filter((unit) => {
      const action = plans.get(unit.id)!.action;
      return action === 'new' || action === 'resume' || action === 'restart' || (action === 'finished' && needsProbes(unit));
    })
    .sort((a, b) => estimatedCost(b) - estimatedCost(a));
  const count = (action: UnitPlan['action']) => units.filter((u) => plans.get(u.id)!.action === action).length;
  log(
    `${reproduction.name}, profile ${profile}: ${reproduction.rows.entries.length * reproduction.columns.entries.length} cells x ${seedCount} ` +
      `seed${seedCount === 1 ? '' : 's'} = ${allUnits.length} runs${units.length < allUnits.length ? ` (${units.length} selected by --only)` : ''} in ${dir}: ${count('finished')} finished, ${count('resume')} to resume, ` +
      `${count('restart')} to start over, ${count('new')} new, ${count('failed')} failed${count('failed') ? ' (kept: --retry-failed starts them over)' : ''}; ${jobs} at a time`,
  );
  if (options.dryRun) {
    for (const unit of units) {
      const plan = plans.get(unit.id)!;
      const detail = plan.action === 'resume' ? ` from step ${plan.step}` : plan.action === 'restart' ? `: ${plan.reason}` : plan.action === 'failed' ? `: ${plan.message}` : '';
      log(`  ${unit.id}: ${plan.action}${detail}`);
    }
  }
  const cellResults = (): CellResult[] =>
    cellsOf(reproduction).map((cell) => ({
      id: cell.id,
      row: cell.row.id,
      column: cell.column.id,
      // Every cell, also those outside --only, so the table shows whatever has been trained.
      seeds: allUnits.filter((u) => u.cell.id === cell.id).map((u) => readUnit(reproduction, u, probes)),
    }));
  if (options.dryRun) {
    const results = summarizeResults(reproduction, profile, [...new Set(allUnits.map((u) => u.seed))], cellResults(), { overrides });
    return { dir, results, markdown: renderMarkdown(results), tableFile: '', resultsFile: '', reportFile: null };
  }

  fs.mkdirSync(path.join(dir, 'configs'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
  const releaseLock = acquireLock(dir);
  const running = new Set<ChildProcess>();
  const stopChildren = () => {
    for (const child of running) child.kill('SIGTERM');
  };
  options.signal?.addEventListener('abort', stopChildren);
  // Children run in their own process groups (a terminal's Ctrl-C reaches only this process, which passes one
  // SIGTERM on; two signals would make a child quit without its checkpoint). If this process exits, they stop too.
  const onExit = () => stopChildren();
  process.on('exit', onExit);
  try {
    for (const unit of units) writeFileAtomic(unit.configFile, `# ${reproduction.name}, profile ${profile}, ${unit.id}: resolved config\n${YAML.stringify(unit.config)}`);
    const command = options.command ?? DEFAULT_COMMAND;
    const runChild = (unit: Unit, args: string[]): Promise<number> =>
      new Promise((resolve, reject) => {
        const out = fs.openSync(unit.logFile, 'a');
        fs.writeSync(out, `\n$ arith-lab ${args.join(' ')}   # ${new Date().toISOString()}\n`);
        const child = spawn(command[0], [...command.slice(1), ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
        running.add(child);
        const forward = (data: Buffer) => {
          fs.writeSync(out, data);
          options.onOutput?.(unit, data.toString());
        };
        child.stdout!.on('data', forward);
        child.stderr!.on('data', forward);
        child.on('error', (error) => {
          running.delete(child);
          fs.closeSync(out);
          reject(error);
        });
        child.on('close', (code, signal) => {
          running.delete(child);
          fs.closeSync(out);
          resolve(code ?? (signal === 'SIGINT' ? 130 : 143));
        });
      });

    let started = 0;
    let next = 0;
    const stopped = () => options.signal?.aborted === true;
    const runUnit = async (unit: Unit): Promise<UnitOutcome> => {
      const plan = plans.get(unit.id)!;
      const ordinal = `[${++started}/${work.length}]`;
      const begun = performance.now();
      if (plan.action !== 'finished') {
        const args =
          plan.action === 'resume'
            ? ['train', '--resume', unit.runDir]
            : ['train', '--config', unit.configFile, '--run-dir', unit.runDir, ...(plan.action === 'restart' ? ['--overwrite'] : [])];
        log(`${ordinal} ${unit.id}: ${plan.action === 'resume' ? `resuming from step ${plan.step}` : plan.action === 'restart' ? `starting over (${plan.reason})` : 'training'}`);
        const code = await runChild(unit, args);
        if (code === 130 || code === 143) {
          if (!stopped()) log(`${unit.id}: stopped from outside (exit ${code}); run the command again to continue it`);
          return 'interrupted';
        }
        if (code !== 0) {
          const info = safeRunInfo(unit.runDir);
          log(`${unit.id}: failed (exit ${code}${info?.message ? `: ${info.message}` : ''}); see ${unit.logFile} (--retry-failed starts it over)`);
          return 'failed';
        }
      }
      for (const request of probes) {
        if (stopped()) return 'interrupted';
        if (probeDone(unit.runDir, request, safeRunInfo(unit.runDir)?.step)) continue;
        const args = ['probe', unit.runDir, '--probe', request.name, '--samples', String(request.samples)];
        if (request.maxDigits !== undefined) args.push('--max-digits', String(request.maxDigits));
        const code = await runChild(unit, args);
        if (code !== 0) {
          log(`${unit.id}: probe ${request.name} failed (exit ${code}); see ${unit.logFile}`);
          return code === 130 || code === 143 ? 'interrupted' : 'failed';
        }
      }
      const result = readUnit(reproduction, unit, probes);
      const values = reproduction.metrics.map((m) => `${m.label} ${result.values[m.id] === null ? '-' : `${result.values[m.id]!.toFixed(1)}%`}`);
      log(`${unit.id}: finished in ${formatDuration((performance.now() - begun) / 1000)} (${formatDuration(result.trainSeconds ?? NaN)} of training): ${values.join(', ')}`);
      return 'finished';
    };
    const worker = async () => {
      while (!stopped() && next < work.length) {
        const unit = work[next++];
        const outcome = await runUnit(unit);
        options.onUnitDone?.(unit, outcome);
      }
    };
    await Promise.all(Array.from({ length: Math.min(jobs, work.length) }, worker));
    if (stopped()) {
      const reason = String(options.signal!.reason);
      throw new RunStoppedError(
        `interrupted; finished runs are kept and interrupted ones checkpointed: run the same command again to continue (${dir})`,
        reason === 'SIGINT' ? 130 : 143,
      );
    }

    const results = summarizeResults(reproduction, profile, [...new Set(allUnits.map((u) => u.seed))], cellResults(), { overrides });
    const markdown = renderMarkdown(results);
    const tableFile = path.join(dir, 'table.md');
    const resultsFile = path.join(dir, 'results.json');
    writeFileAtomic(tableFile, markdown);
    writeFileAtomic(resultsFile, JSON.stringify(results, null, 2) + '\n');
    let reportFile: string | null = null;
    const finished = allUnits.filter((u) => safeRunInfo(u.runDir)?.status === 'finished').map((u) => u.runDir);
    if (options.report !== false && finished.length > 0) {
      try {
        reportFile = buildReport(finished, { out: path.join(dir, 'report.html') }).file;
      } catch (error) {
        log(`warning: could not write the report page: ${(error as Error).message}`);
      }
    }
    return { dir, results, markdown, tableFile, resultsFile, reportFile };
  } finally {
    // Only an error gets here with children still running (a failed spawn beside them): stop them too.
    stopChildren();
    options.signal?.removeEventListener('abort', stopChildren);
    process.off('exit', onExit);
    releaseLock();
  }
}
