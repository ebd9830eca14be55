import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { RunStoppedError } from '../../errors.ts';
import { formatDuration } from '../../duration.ts';
import { writeFileAtomic } from '../../runs/jsonFiles.ts';
import type { ExecutionOptions } from '../executors/execution.ts';
import { acquireLock } from '../../runs/lock.ts';
import { makeDirectoryFor } from '../../runs/makeDirectory.ts';
import { DEFAULT_COMMAND, runAll, type Task } from '../executors/processPool.ts';
import { describeRunStates } from '../executors/runStates.ts';
import { assertNothingQueued, queuedRuns, submitSlurmArray, type SlurmSubmitted } from '../executors/slurmExecutor.ts';
import { collectSweepResults, type SweepResults, type WrittenSweep, writeSweepResults } from './sweepResults.ts';
import { DEFINITION_FILE, describeSweepPlan, planSweep, type SweepOptions, type SweepPlan, type SweepUnit } from './sweepPlan.ts';

/**
 * `arith-lab sweep`: every cell of a grid x every seed, trained by the local process pool or a Slurm job array:
 *
 *   runs/sweeps/<name>/
 *     sweep.json                 the definition (config, --set, --grid): another one under the same name is an error
 *     <cell>-seed<k>/            one run directory per cell and seed
 *     configs/<cell>-seed<k>.yaml   logs/<cell>-seed<k>.log
 *     slurm/                     the array's script, manifest and submission (--executor slurm)
 *     table.md  results.json  report.html   once every run has finished
 *
 * Running the same command again continues: finished runs are read, interrupted ones resume from their newest
 * checkpoint, and a finished sweep only writes its table.
 */

const LOCK_FILE = 'sweep.lock';

export interface SweepRunOptions extends SweepOptions, ExecutionOptions {
  report?: boolean;
  /** Local: say what would run and write nothing. Slurm: write the array's files, submit nothing. */
  dryRun?: boolean;
  log?: (line: string) => void;
  /** Local: once aborted, running trainings checkpoint and stop, then RunStoppedError. */
  signal?: AbortSignal;
  /** Test hook: a training wrote output. */
  onOutput?: (unit: SweepUnit, text: string) => void;
}

export type SweepOutcome =
  | { kind: 'status'; plan: SweepPlan; lines: string[] }
  | { kind: 'planned'; plan: SweepPlan }
  | { kind: 'submitted'; plan: SweepPlan; submitted: SlurmSubmitted }
  | ({ kind: 'done'; plan: SweepPlan; results: SweepResults } & WrittenSweep);

function trainTask(unit: SweepUnit, plan: SweepPlan, trainArgs: string[]): Task {
  const action = plan.plans.get(unit.id)!.action;
  const args =
    action === 'resume'
      ? ['train', '--resume', unit.runDir]
      : ['train', '--config', unit.configFile, '--run-dir', unit.runDir, ...(action === 'restart' ? ['--overwrite'] : [])];
  return { id: unit.id, logFile: unit.logFile, steps: [{ name: 'train', args: [...args, ...trainArgs] }] };
}

/** sweep.json and every unit's resolved config. */
function writeInputs(plan: SweepPlan): void {
  makeDirectoryFor(path.join(plan.dir, 'configs'), '--runs');
  makeDirectoryFor(path.join(plan.dir, 'logs'), '--runs');
  writeFileAtomic(path.join(plan.dir, DEFINITION_FILE), JSON.stringify(plan.definition, null, 2) + '\n');
  for (const unit of plan.units) {
    writeFileAtomic(unit.configFile, `# sweep ${plan.name}, ${unit.id}: resolved config\n${YAML.stringify(unit.config)}`);
  }
}

/** Plans, then trains what is left (or submits it), or shows the state with `status`; see the file comment. */
export async function sweep(options: SweepRunOptions): Promise<SweepOutcome> {
  const log = options.log ?? (() => {});
  const plan = planSweep(options);
  if (options.status) {
    const queued = queuedRuns(plan.dir);
    const lines = [
      describeSweepPlan(plan),
      ...(queued ? [`Slurm array job ${queued.job}: ${queued.queued.size} task${queued.queued.size === 1 ? '' : 's'} in the queue`] : []),
      ...describeRunStates(
        plan.units.map((u) => ({ id: u.id, runDir: u.runDir, steps: u.config.train.steps })),
        queued?.queued ?? null,
      ),
    ];
    return { kind: 'status', plan, lines };
  }
  log(describeSweepPlan(plan));
  const trainArgs = options.trainArgs ?? [];
  const command = options.command ?? DEFAULT_COMMAND;
  const finish = (): SweepOutcome => {
    const results = collectSweepResults(plan);
    return { kind: 'done', plan, results, ...writeSweepResults(plan, results, { report: options.report !== false, warn: log }) };
  };

  if (options.executor === 'slurm') {
    if (plan.work.length === 0) {
      // Nothing to submit; the array (if any) has left the queue only when every run finished or failed.
      assertNothingQueued(plan.dir);
      return finish();
    }
    let release = () => {};
    try {
      const submitted = submitSlurmArray({
        dir: plan.dir,
        name: `arith-lab-sweep-${plan.name}`,
        entries: plan.work,
        command,
        trainArgs,
        after: [],
        options: options.slurm ?? {},
        dryRun: options.dryRun === true,
        prepare: () => {
          makeDirectoryFor(plan.dir, '--runs');
          release = acquireLock(path.join(plan.dir, LOCK_FILE), 'sweep');
          writeInputs(plan);
          // A run to start over is cleared now: the array task resumes whatever checkpoint it finds.
          for (const unit of plan.work)
            if (plan.plans.get(unit.id)!.action === 'restart') fs.rmSync(unit.runDir, { recursive: true, force: true });
        },
      });
      log(
        submitted.job === null
          ? `wrote ${submitted.scriptFile} (${plan.work.length} array tasks; --dry-run: not submitted)`
          : `submitted Slurm array job ${submitted.job}: ${plan.work.length} task${plan.work.length === 1 ? '' : 's'} (${submitted.scriptFile}); ` +
              'the same command with --status shows progress; run it again when the array is done for the table',
      );
      return { kind: 'submitted', plan, submitted };
    } finally {
      release();
    }
  }

  if (options.dryRun) {
    for (const unit of plan.units) {
      const unitPlan = plan.plans.get(unit.id)!;
      log(`  ${unit.id}: ${unitPlan.action}${unitPlan.action === 'resume' ? ` from step ${unitPlan.step}` : ''}`);
    }
    return { kind: 'planned', plan };
  }
  if (plan.work.length === 0) return finish();
  makeDirectoryFor(plan.dir, '--runs');
  assertNothingQueued(plan.dir);
  const release = acquireLock(path.join(plan.dir, LOCK_FILE), 'sweep');
  try {
    writeInputs(plan);
    const unitOf = new Map(plan.work.map((unit) => [unit.id, unit]));
    let started = 0;
    await runAll(
      plan.work.map((unit) => trainTask(unit, plan, trainArgs)),
      {
        jobs: options.jobs ?? 1,
        signal: options.signal,
        command,
        onEvent: (event) => {
          const unit = unitOf.get(event.task.id)!;
          if (event.type === 'output') options.onOutput?.(unit, event.text);
          else if (event.type === 'start') log(`[${++started}/${plan.work.length}] ${unit.id}: ${plan.plans.get(unit.id)!.action}`);
          else
            log(
              `${unit.id}: ${event.outcome} after ${formatDuration(event.seconds)}${event.outcome === 'failed' ? ` (see ${unit.logFile})` : ''}`,
            );
        },
      },
    );
    if (options.signal?.aborted) {
      throw new RunStoppedError(
        `interrupted; finished runs are kept and interrupted ones checkpointed: run the same command again to continue (${plan.dir})`,
        String(options.signal.reason) === 'SIGINT' ? 130 : 143,
      );
    }
    return finish();
  } finally {
    release();
  }
}
