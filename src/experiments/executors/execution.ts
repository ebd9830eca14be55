import type { SlurmOptions } from './slurmScript.ts';
import type { ExecutorName } from './work.ts';

/** How sweep and reproduce run their trainings: the choice of executor and what each one takes. */
export interface ExecutionOptions {
  /** `local` (default): child processes on this machine; `slurm`: one job array. */
  executor?: ExecutorName;
  /** Local: runs trained at once. */
  jobs?: number;
  /** Slurm: what the array asks for. */
  slurm?: SlurmOptions;
  /** Appended to every `arith-lab train` (`--backend torch --device cuda` for GPU nodes). */
  trainArgs?: string[];
  /** How to start the lab's CLI: default `node bin/arith-lab.js`; the CLI passes its own entry point. */
  command?: string[];
  /** Show each run's state (run directories and Slurm's queue), run nothing. */
  status?: boolean;
}
