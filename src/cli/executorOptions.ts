import type { Argv } from 'yargs';
import { UserError } from '../errors.ts';
import type { ExecutionOptions } from '../experiments/executors/execution.ts';
import { EXECUTOR_NAMES, type ExecutorName } from '../experiments/executors/work.ts';

/** --executor, --jobs, the Slurm options and --status: shared by sweep and reproduce. */
export function withExecutorOptions<T>(args: Argv<T>) {
  return args
    .option('executor', {
      type: 'string',
      choices: EXECUTOR_NAMES,
      default: 'local',
      describe: 'local: child processes on this machine (--jobs); slurm: one job array (sbatch --array)',
    })
    .option('jobs', { type: 'number', default: 1, describe: 'local: runs trained at once, each in its own process' })
    .option('partition', { type: 'string', describe: 'slurm: partition (sbatch --partition)' })
    .option('time', { type: 'string', describe: 'slurm: time limit per run (sbatch --time, e.g. 2:00:00)' })
    .option('mem', { type: 'string', describe: 'slurm: memory per run (sbatch --mem, e.g. 8G)' })
    .option('cpus-per-task', { type: 'number', describe: 'slurm: CPUs per run' })
    .option('gpus-per-task', { type: 'number', describe: 'slurm: GPUs per run; trains with --backend torch --device cuda' })
    .option('max-running', { type: 'number', describe: 'slurm: at most K runs at once (--array=0-(N-1)%K)' })
    .option('sbatch', {
      type: 'string',
      array: true,
      default: [] as string[],
      describe: 'slurm: further sbatch arguments, as one word each (--sbatch=--account=lab --sbatch=--qos=short)',
    })
    .option('status', {
      type: 'boolean',
      default: false,
      describe: "each run's state from its run directory and Slurm's queue; runs nothing",
    });
}

interface ExecutorArgs {
  executor: string;
  jobs: number;
  partition?: string;
  time?: string;
  mem?: string;
  'cpus-per-task'?: number;
  'gpus-per-task'?: number;
  'max-running'?: number;
  sbatch: string[];
  status: boolean;
  backend?: string;
  device?: string;
}

function wholeNumber(value: number | undefined, flag: string): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
    throw new UserError(`expected a whole number of at least 1, got ${value}`, { field: flag });
  }
}

/** The parsed options as ExecutionOptions (`command`: this CLI's own entry point). */
export function executionOptions(args: ExecutorArgs): ExecutionOptions {
  wholeNumber(args.jobs, '--jobs');
  wholeNumber(args['cpus-per-task'], '--cpus-per-task');
  wholeNumber(args['gpus-per-task'], '--gpus-per-task');
  wholeNumber(args['max-running'], '--max-running');
  const executor = args.executor as ExecutorName;
  const slurmOnly = ['partition', 'time', 'mem', 'cpus-per-task', 'gpus-per-task', 'max-running'] as const;
  const given = slurmOnly.find((flag) => args[flag] !== undefined) ?? (args.sbatch.length ? 'sbatch' : undefined);
  if (executor !== 'slurm' && given) throw new UserError('is a Slurm option: add --executor slurm', { field: `--${given}` });
  // On GPU nodes: the torch engine on cuda, unless --backend or --device say otherwise.
  const gpu = args['gpus-per-task'] !== undefined && args.backend === undefined && args.device === undefined;
  const trainArgs = gpu ? ['--backend', 'torch', '--device', 'cuda'] : args.device ? ['--device', args.device] : [];
  return {
    executor,
    jobs: args.jobs,
    slurm: {
      partition: args.partition,
      time: args.time,
      mem: args.mem,
      cpusPerTask: args['cpus-per-task'],
      gpusPerTask: args['gpus-per-task'],
      maxRunning: args['max-running'],
      extra: args.sbatch,
    },
    trainArgs,
    command: [process.execPath, process.argv[1]],
    status: args.status,
  };
}
