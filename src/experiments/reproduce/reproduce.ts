import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { RunStoppedError } from '../../errors.ts';
import { formatDuration } from '../../duration.ts';
import type { Reproduction } from '../reproductions/reproduction.ts';
import { writeFileAtomic } from '../../runs/jsonFiles.ts';
import { acquireLock } from '../../runs/lock.ts';
import { makeDirectoryFor } from '../../runs/makeDirectory.ts';
import { describePlan, planReproduction, taskOf, type PlanOptions, type ReproductionPlan } from './plan.ts';
import type { ExecutionOptions } from '../executors/execution.ts';
import { DEFAULT_COMMAND, runAll, type PoolEvent, type TaskOutcome } from '../executors/processPool.ts';
import { describeRunStates } from '../executors/runStates.ts';
import { assertNothingQueued, queuedRuns, submitSlurmArray, type SlurmSubmitted } from '../executors/slurmExecutor.ts';
import { collectResults, readUnit, safeRunInfo, writeResults } from './results.ts';
import { renderMarkdown, type ReproductionResults } from './table.ts';
import type { Unit } from './unit.ts';

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
 *
 * The parts: plan.ts (units and what each run directory holds), processPool.ts (the children), runs/lock.ts (one
 * reproduce per folder), results.ts and table.ts (what the runs measured, and the files written from it).
 */

const LOCK_FILE = 'reproduce.lock';

export interface ReproduceOptions extends PlanOptions, Omit<ExecutionOptions, 'jobs'> {
  /** Write report.html (default true). */
  report?: boolean;
  /** Plan only: say what would run, train nothing, write nothing (Slurm: write the array's files, submit nothing). */
  dryRun?: boolean;
  log?: (line: string) => void;
  /** Once aborted: no new run starts, running children get SIGTERM (they checkpoint), then RunStoppedError. */
  signal?: AbortSignal;
  /** Test hooks: a unit's training (and probes) ended; a child wrote output. */
  onUnitDone?: (unit: Unit, outcome: TaskOutcome) => void;
  onOutput?: (unit: Unit, text: string) => void;
}

export interface ReproduceResult {
  dir: string;
  results: ReproductionResults;
  markdown: string;
  tableFile: string;
  resultsFile: string;
  reportFile: string | null;
  /** --executor slurm with work left: the array written (and submitted unless a dry run); no table yet. */
  submitted?: SlurmSubmitted;
  /** --status: one line per run. */
  status?: string[];
}

/** Runs (or continues) a reproduction and writes its table; see the file comment. */
export async function reproduce(reproduction: Reproduction, options: ReproduceOptions = {}): Promise<ReproduceResult> {
  const log = options.log ?? (() => {});
  const plan = planReproduction(reproduction, options);
  for (const line of describePlan(reproduction, plan, { eachUnit: options.dryRun, slurm: options.executor === 'slurm' })) log(line);
  const { dir, profile, allUnits, probes, overrides } = plan;
  const soFar = () => {
    const results = collectResults(reproduction, profile, allUnits, probes, overrides);
    return { dir, results, markdown: renderMarkdown(results), tableFile: '', resultsFile: '', reportFile: null };
  };
  if (options.status) {
    const queued = queuedRuns(dir);
    const runs = plan.units.map((u) => ({ id: u.id, runDir: u.runDir, steps: u.config.train.steps }));
    const heading = queued ? [`Slurm array job ${queued.job}: ${queued.queued.size} task(s) in the queue`] : [];
    return { ...soFar(), status: [...heading, ...describeRunStates(runs, queued?.queued ?? null)] };
  }
  if (options.executor === 'slurm' && plan.work.length > 0) return { ...soFar(), submitted: submitToSlurm(reproduction, plan, options) };
  if (options.dryRun) {
    const results = collectResults(reproduction, profile, allUnits, probes, overrides);
    return { dir, results, markdown: renderMarkdown(results), tableFile: '', resultsFile: '', reportFile: null };
  }

  makeDirectoryFor(path.join(dir, 'configs'), '--runs');
  makeDirectoryFor(path.join(dir, 'logs'), '--runs');
  assertNothingQueued(dir);
  const releaseLock = acquireLock(path.join(dir, LOCK_FILE), 'reproduce');
  try {
    writeConfigs(reproduction, plan);
    const trainArgs = options.trainArgs ?? [];
    const tasks = plan.work
      .map((unit) => taskOf(unit, plan))
      .map((task) => ({
        ...task,
        steps: task.steps.map((step) => (step.name === 'train' ? { ...step, args: [...step.args, ...trainArgs] } : step)),
      }));
    await runAll(tasks, {
      jobs: plan.jobs,
      signal: options.signal,
      command: options.command,
      onEvent: unitReporter(reproduction, plan, options),
    });
    if (options.signal?.aborted) {
      throw new RunStoppedError(
        `interrupted; finished runs are kept and interrupted ones checkpointed: run the same command again to continue (${dir})`,
        String(options.signal.reason) === 'SIGINT' ? 130 : 143,
      );
    }
    const results = collectResults(reproduction, profile, allUnits, probes, overrides);
    const written = writeResults(dir, results, allUnits, { report: options.report !== false, warn: log });
    return { dir, results, ...written };
  } finally {
    releaseLock();
  }
}

function writeConfigs(reproduction: Reproduction, plan: ReproductionPlan): void {
  for (const unit of plan.units)
    writeFileAtomic(
      unit.configFile,
      `# ${reproduction.name}, profile ${plan.profile}, ${unit.id}: resolved config\n${YAML.stringify(unit.config)}`,
    );
}

/**
 * The runs left to do as one Slurm job array: each task trains (or resumes) its run, then runs the profile's
 * probes. The table is written by the next invocation once every run has finished.
 */
function submitToSlurm(reproduction: Reproduction, plan: ReproductionPlan, options: ReproduceOptions): SlurmSubmitted {
  const log = options.log ?? (() => {});
  const after = plan.probes.map((request) => [
    'probe',
    '$RUN',
    '--probe',
    request.name,
    '--samples',
    String(request.samples),
    ...(request.maxDigits === undefined ? [] : ['--max-digits', String(request.maxDigits)]),
  ]);
  let release = () => {};
  try {
    const submitted = submitSlurmArray({
      dir: plan.dir,
      name: `arith-lab-reproduce-${reproduction.name}`,
      entries: plan.work,
      command: options.command ?? DEFAULT_COMMAND,
      trainArgs: options.trainArgs ?? [],
      after,
      options: options.slurm ?? {},
      dryRun: options.dryRun === true,
      prepare: () => {
        fs.mkdirSync(path.join(plan.dir, 'configs'), { recursive: true });
        fs.mkdirSync(path.join(plan.dir, 'logs'), { recursive: true });
        release = acquireLock(path.join(plan.dir, LOCK_FILE), 'reproduce');
        writeConfigs(reproduction, plan);
        // A run to start over is cleared now: the array task resumes whatever checkpoint it finds.
        for (const unit of plan.work)
          if (plan.plans.get(unit.id)!.action === 'restart') fs.rmSync(unit.runDir, { recursive: true, force: true });
      },
    });
    log(
      submitted.job === null
        ? `wrote ${submitted.scriptFile} (${plan.work.length} array tasks; --dry-run: not submitted)`
        : `submitted Slurm array job ${submitted.job}: ${plan.work.length} task(s) (${submitted.scriptFile}); --status shows progress; run the same command again when it is done for the table`,
    );
    return submitted;
  } finally {
    release();
  }
}

/** Turns the pool's events into progress lines (and the test hooks) about units. */
function unitReporter(reproduction: Reproduction, plan: ReproductionPlan, options: ReproduceOptions): (event: PoolEvent) => void {
  const log = options.log ?? (() => {});
  const unitOf = new Map(plan.work.map((unit) => [unit.id, unit]));
  let started = 0;
  return (event) => {
    const unit = unitOf.get(event.task.id)!;
    if (event.type === 'output') {
      options.onOutput?.(unit, event.text);
    } else if (event.type === 'start') {
      const ordinal = `[${++started}/${plan.work.length}]`;
      const unitPlan = plan.plans.get(unit.id)!;
      if (unitPlan.action === 'resume') log(`${ordinal} ${unit.id}: resuming from step ${unitPlan.step}`);
      else if (unitPlan.action === 'restart') log(`${ordinal} ${unit.id}: starting over (${unitPlan.reason})`);
      else if (unitPlan.action === 'new') log(`${ordinal} ${unit.id}: training`);
    } else {
      if (event.endedBy) {
        const { step, code } = event.endedBy;
        if (step.name !== 'train') {
          log(`${unit.id}: ${step.name} failed (exit ${code}); see ${unit.logFile}`);
        } else if (event.outcome === 'interrupted') {
          if (!options.signal?.aborted) log(`${unit.id}: stopped from outside (exit ${code}); run the command again to continue it`);
        } else {
          const info = safeRunInfo(unit.runDir);
          log(
            `${unit.id}: failed (exit ${code}${info?.message ? `: ${info.message}` : ''}); see ${unit.logFile} (--retry-failed starts it over)`,
          );
        }
      } else if (event.outcome === 'finished') {
        const result = readUnit(reproduction, unit, plan.probes);
        const values = reproduction.metrics.map(
          (m) => `${m.label} ${result.values[m.id] === null ? '-' : `${result.values[m.id]!.toFixed(1)}%`}`,
        );
        log(
          `${unit.id}: finished in ${formatDuration(event.seconds)} (${formatDuration(result.trainSeconds ?? NaN)} of training): ${values.join(', ')}`,
        );
      }
      options.onUnitDone?.(unit, event.outcome);
    }
  };
}
