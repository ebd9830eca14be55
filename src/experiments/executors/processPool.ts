import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { threadsFromEnv } from '../../backends/threads.ts';

/**
 * Runs tasks, each a short list of `arith-lab` commands, as child processes on this machine, `jobs` tasks at a
 * time. It knows nothing of reproductions: a task is its commands and a log file, and the caller learns what
 * happened through events. (Another executor, e.g. one submitting to a cluster, can take the same tasks.)
 */

/** One command of a task: the lab CLI's arguments after its entry point. */
export interface Step {
  /** For messages: `train`, `probe length`. */
  name: string;
  args: string[];
  /** Asked just before the step would start; false skips it (work a previous session already did). */
  needed?: () => boolean;
}

export interface Task {
  id: string;
  /** Every command's output is appended here, after a `$ arith-lab <args>   # <time>` line. */
  logFile: string;
  /** Run in order; the first that exits nonzero ends the task. */
  steps: Step[];
}

/** `interrupted`: a step was stopped by a signal (exit 130 or 143), or the pool was stopped before a step. */
export type TaskOutcome = 'finished' | 'failed' | 'interrupted';

export type PoolEvent =
  | { type: 'start'; task: Task }
  | { type: 'output'; task: Task; text: string }
  /** `endedBy`: the step whose nonzero exit ended the task, with its exit code. */
  | { type: 'done'; task: Task; outcome: TaskOutcome; seconds: number; endedBy?: { step: Step; code: number } };

export interface PoolOptions {
  /** Tasks run at once, each in its own process. */
  jobs: number;
  /** Once aborted: no new step starts, and running children get SIGTERM (the lab's commands then checkpoint). */
  signal?: AbortSignal;
  onEvent?: (event: PoolEvent) => void;
  /** How to start the lab's CLI: default `node bin/arith-lab.js`. */
  command?: string[];
}

/**
 * The lab's CLI in a checkout; in a bundle (scripts/gpu-bundle.sh's main.mjs, where no bin/ sits beside the code)
 * the script this process was started with, which is that bundle's CLI.
 */
export function defaultCommand(script = fileURLToPath(new URL('../../../bin/arith-lab.js', import.meta.url))): string[] {
  return [process.execPath, fs.existsSync(script) ? script : process.argv[1]];
}

export const DEFAULT_COMMAND = defaultCommand();

/**
 * Torch threads of each child (ARITH_THREADS): the parent's ARITH_THREADS when set, else 1. One thread per
 * training keeps N jobs from oversubscribing the cores, and keeps each run's numbers independent of --jobs and
 * of the machine's cores: float sums are split by thread, so a loss curve repeats bit for bit only at one count.
 * Slurm array tasks get the same count (written into the array's script), so both executors give the same numbers.
 */
export function threadsPerChild(env: NodeJS.ProcessEnv = process.env): number {
  return threadsFromEnv(env) ?? 1;
}

/** Exit codes of a command stopped by SIGINT or SIGTERM. */
function interruptedExit(code: number): boolean {
  return code === 130 || code === 143;
}

/**
 * Runs every task (in the order given, `jobs` at a time) and resolves with the outcome of each that started.
 * A task that fails does not stop the others; an error starting a process rejects, after stopping the children
 * still running.
 */
export async function runAll(tasks: readonly Task[], options: PoolOptions): Promise<Map<string, TaskOutcome>> {
  const command = options.command ?? DEFAULT_COMMAND;
  const emit = options.onEvent ?? (() => {});
  const env = { ...process.env, ARITH_THREADS: String(threadsPerChild()) };
  const outcomes = new Map<string, TaskOutcome>();
  const running = new Set<ChildProcess>();
  let broken = false;
  const stopped = () => broken || options.signal?.aborted === true;
  const stopChildren = () => {
    for (const child of running) child.kill('SIGTERM');
  };

  const runStep = (task: Task, args: string[]): Promise<number> =>
    new Promise((resolve, reject) => {
      const out = fs.openSync(task.logFile, 'a');
      fs.writeSync(out, `\n$ arith-lab ${args.join(' ')}   # ${new Date().toISOString()}\n`);
      const child = spawn(command[0], [...command.slice(1), ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env });
      running.add(child);
      const forward = (data: Buffer) => {
        fs.writeSync(out, data);
        emit({ type: 'output', task, text: data.toString() });
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

  const runTask = async (task: Task): Promise<void> => {
    const begun = performance.now();
    const done = (outcome: TaskOutcome, endedBy?: { step: Step; code: number }) => {
      outcomes.set(task.id, outcome);
      emit({ type: 'done', task, outcome, seconds: (performance.now() - begun) / 1000, endedBy });
    };
    emit({ type: 'start', task });
    for (const step of task.steps) {
      if (stopped()) return done('interrupted');
      if (step.needed && !step.needed()) continue;
      const code = await runStep(task, step.args);
      if (code !== 0) return done(interruptedExit(code) ? 'interrupted' : 'failed', { step, code });
    }
    done('finished');
  };

  let next = 0;
  const worker = async () => {
    while (!stopped() && next < tasks.length) await runTask(tasks[next++]);
  };

  options.signal?.addEventListener('abort', stopChildren);
  // Children run in their own process groups (a terminal's Ctrl-C reaches only this process, which passes one
  // SIGTERM on; two signals would make a child quit without its checkpoint). If this process exits, they stop too.
  process.on('exit', stopChildren);
  try {
    await Promise.all(Array.from({ length: Math.min(options.jobs, tasks.length) }, worker));
    return outcomes;
  } catch (error) {
    // A process that could not start: start nothing more, and stop those beside it.
    broken = true;
    throw error;
  } finally {
    stopChildren();
    options.signal?.removeEventListener('abort', stopChildren);
    process.off('exit', stopChildren);
  }
}
