import path from 'node:path';

/**
 * What an executor is given: one entry per training run left to do, each a run directory trained from a resolved
 * config file, with a log. Sweep and reproduce plan their runs and hand these to the local process pool or to a
 * Slurm job array.
 */
export interface WorkEntry {
  /** `<cell>-seed<k>`: also the name of its run directory, config and log. */
  id: string;
  runDir: string;
  /** The resolved config the run starts from. */
  configFile: string;
  /** Every command's output is appended here. */
  logFile: string;
}

export type ExecutorName = 'local' | 'slurm';

export const EXECUTOR_NAMES: readonly ExecutorName[] = ['local', 'slurm'];

/** Where entry `id` of a sweep or reproduction folder `dir` lives: `<dir>/<id>/`, `configs/<id>.yaml`, `logs/<id>.log`. */
export function workEntry(dir: string, id: string): WorkEntry {
  return {
    id,
    runDir: path.join(dir, id),
    configFile: path.join(dir, 'configs', `${id}.yaml`),
    logFile: path.join(dir, 'logs', `${id}.log`),
  };
}
