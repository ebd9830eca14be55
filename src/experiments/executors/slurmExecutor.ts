import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.ts';
import { readJsonOrNull, writeFileAtomic } from '../../runs/jsonFiles.ts';
import { queuedTasks, submit, testSubmission } from './slurmCommands.ts';
import { threadsPerChild } from './processPool.ts';
import { arrayArgument, arrayScript, manifestText, type SlurmOptions } from './slurmScript.ts';
import type { WorkEntry } from './work.ts';

/**
 * The Slurm executor: the runs left to do become one job array, submitted once (`sbatch --array=0-(N-1)%K`).
 * Its files live in `<dir>/slurm/`:
 *
 *   array.sh          the batch script (plain text; `sbatch --array=... array.sh` submits it by hand)
 *   manifest.tsv      one line per array task: id, run directory, config, log
 *   submission.json   the job id and which run each array index trains
 *   logs/<job>_<i>.out   Slurm's own output of each task (the commands' output goes to the run's log)
 *
 * A new array is refused while the previous one of the folder is still in the queue (its tasks read the
 * manifest when they start, and two trainings must never share a run directory).
 */

const SLURM_DIR = 'slurm';

interface Submission {
  job: string;
  submitted_at: string;
  /** Run ids by array index. */
  entries: string[];
}

export interface SlurmRequest {
  /** The sweep's or reproduction's folder. */
  dir: string;
  /** Job name. */
  name: string;
  entries: readonly WorkEntry[];
  command: string[];
  trainArgs: string[];
  after: string[][];
  options: SlurmOptions;
  /** Write the files, submit nothing. */
  dryRun: boolean;
  /** Called after Slurm has said it would accept the job and before the array's files are written. */
  prepare: () => void;
}

export interface SlurmSubmitted {
  scriptFile: string;
  manifestFile: string;
  /** Null on a dry run. */
  job: string | null;
}

function submissionFile(dir: string): string {
  return path.join(dir, SLURM_DIR, 'submission.json');
}

/** The folder's last array, with its tasks still in Slurm's queue (by run id), or null when none was submitted. */
export function queuedRuns(dir: string): { job: string; queued: Map<string, string> } | null {
  const submission = readJsonOrNull<Submission>(submissionFile(dir));
  if (!submission) return null;
  const queued = new Map<string, string>();
  for (const [index, state] of queuedTasks(submission.job)) {
    const id = submission.entries[index];
    if (id !== undefined) queued.set(id, state);
  }
  return { job: submission.job, queued };
}

/** Refuses to start work on a folder whose previous array still has tasks in the queue. */
export function assertNothingQueued(dir: string): void {
  if (!fs.existsSync(submissionFile(dir))) return;
  const last = queuedRuns(dir);
  if (last && last.queued.size > 0) {
    throw new UserError(
      `array job ${last.job} of this folder still has ${last.queued.size} task${last.queued.size === 1 ? '' : 's'} in Slurm's queue; ` +
        `wait for it (--status shows them) or cancel it (scancel ${last.job})`,
      { file: dir },
    );
  }
}

/** Checks with Slurm, writes the array's files and submits it; see the file comment. */
export function submitSlurmArray(request: SlurmRequest): SlurmSubmitted {
  const slurmDir = path.resolve(request.dir, SLURM_DIR);
  const scriptFile = path.join(slurmDir, 'array.sh');
  const manifestFile = path.join(slurmDir, 'manifest.tsv');
  const absolute = request.entries.map((e) => ({
    id: e.id,
    runDir: path.resolve(e.runDir),
    configFile: path.resolve(e.configFile),
    logFile: path.resolve(e.logFile),
  }));
  const script = arrayScript(
    {
      name: request.name,
      manifestFile,
      scriptFile,
      slurmLogDir: path.join(slurmDir, 'logs'),
      command: request.command,
      trainArgs: request.trainArgs,
      after: request.after,
      threads: threadsPerChild(),
      options: request.options,
    },
    absolute.length,
  );
  const array = arrayArgument(absolute.length, request.options.maxRunning);
  if (!request.dryRun) {
    assertNothingQueued(request.dir);
    testSubmission(script, [array]);
  }
  request.prepare();
  fs.mkdirSync(path.join(slurmDir, 'logs'), { recursive: true });
  writeFileAtomic(manifestFile, manifestText(absolute));
  writeFileAtomic(scriptFile, script);
  fs.chmodSync(scriptFile, 0o755);
  if (request.dryRun) return { scriptFile, manifestFile, job: null };
  const job = submit(scriptFile, [array]);
  const submission: Submission = { job, submitted_at: new Date().toISOString(), entries: absolute.map((e) => e.id) };
  writeFileAtomic(submissionFile(request.dir), JSON.stringify(submission, null, 2) + '\n');
  return { scriptFile, manifestFile, job };
}
