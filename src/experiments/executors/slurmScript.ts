import type { WorkEntry } from './work.ts';

/**
 * The Slurm job array as text: a manifest (one line per run: id, run directory, config, log, tab-separated) and
 * one batch script, where array task i trains manifest line i+1. Both are plain files a user can read and
 * submit by hand; nothing in them depends on the process that wrote them.
 */

/** What the array asks Slurm for; each field is one `#SBATCH` line when set. */
export interface SlurmOptions {
  partition?: string;
  /** Wall-clock limit per array task, in Slurm's format (`2:00:00`, `1-00:00:00`). */
  time?: string;
  /** Memory per array task (`8G`). */
  mem?: string;
  cpusPerTask?: number;
  gpusPerTask?: number;
  /** At most this many array tasks run at once (`%K` of `--array`); default all. */
  maxRunning?: number;
  /** Further `sbatch` arguments, passed through as given (`--account=lab`, `--qos=short`). */
  extra?: string[];
}

export interface ArraySpec {
  /** Job name (`--job-name`), also said in the script's heading. */
  name: string;
  /** The manifest file the script reads, and the script's own file (absolute). */
  manifestFile: string;
  scriptFile: string;
  /** Where Slurm writes each task's own output (absolute; the commands' output goes to the run's log). */
  slurmLogDir: string;
  /** How to start the lab's CLI on a compute node: `node /path/to/bin/arith-lab.js`. */
  command: string[];
  /** Appended to every `arith-lab train` (`--backend torch --device cuda` on GPUs). */
  trainArgs: string[];
  /** Commands run after training, `$RUN` standing for the run directory (reproduce's probes). */
  after: string[][];
  /** Torch threads of every task (ARITH_THREADS), fixed in the script so that a task's numbers do not depend on
   * the cores Slurm gives it: the count local runs use (processPool's threadsPerChild). */
  threads: number;
  options: SlurmOptions;
}

/** One manifest line per entry, absolute paths (a compute node may start in another folder). */
export function manifestText(entries: readonly WorkEntry[]): string {
  for (const entry of entries) {
    for (const field of [entry.id, entry.runDir, entry.configFile, entry.logFile]) {
      // Tabs and newlines would break the manifest's lines and fields.
      if (/[\t\n]/.test(field)) throw new Error(`manifest field with a tab or newline: ${JSON.stringify(field)}`);
    }
  }
  return entries.map((e) => `${e.id}\t${e.runDir}\t${e.configFile}\t${e.logFile}\n`).join('');
}

/** `--array=0-(N-1)` with `%K` when at most K may run at once. */
export function arrayArgument(count: number, maxRunning?: number): string {
  return `--array=0-${count - 1}${maxRunning ? `%${maxRunning}` : ''}`;
}

/** Single-quotes a word for bash. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function sbatchLines(spec: ArraySpec): string[] {
  const { options } = spec;
  const lines = [`--job-name=${spec.name}`, `--output=${spec.slurmLogDir}/%A_%a.out`];
  if (options.partition) lines.push(`--partition=${options.partition}`);
  if (options.time) lines.push(`--time=${options.time}`);
  if (options.mem) lines.push(`--mem=${options.mem}`);
  if (options.cpusPerTask) lines.push(`--cpus-per-task=${options.cpusPerTask}`);
  if (options.gpusPerTask) lines.push(`--gpus-per-task=${options.gpusPerTask}`);
  // Preempted tasks go back to the queue and resume from their checkpoint (the script decides at start).
  lines.push('--requeue');
  lines.push(...(options.extra ?? []));
  return lines.map((line) => `#SBATCH ${line}`);
}

/** The batch script: read manifest line i+1, train or resume into its run directory, then the `after` commands. */
export function arrayScript(spec: ArraySpec, count: number): string {
  const lab = spec.command.map(shellQuote).join(' ');
  const train = spec.trainArgs.map(shellQuote).join(' ');
  const after = spec.after.map((args) => `run ${args.map((a) => (a === '$RUN' ? '"$RUN"' : shellQuote(a))).join(' ')}`);
  return [
    '#!/bin/bash',
    `# ${spec.name}: a Slurm job array written by arith-lab. Array task i trains line i+1 of the manifest`,
    `# (id, run directory, config, log; tab-separated) into its run directory, resuming from its newest checkpoint`,
    '# when it has one, so a requeued or resubmitted task continues exactly. Submit it by hand with',
    `#   sbatch ${arrayArgument(count, spec.options.maxRunning)} ${shellQuote(spec.scriptFile)}`,
    ...sbatchLines(spec),
    'set -euo pipefail',
    `export ARITH_THREADS=${spec.threads}`,
    `MANIFEST=${shellQuote(spec.manifestFile)}`,
    'IFS=$\'\\t\' read -r ID RUN CONFIG LOG < <(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" "$MANIFEST")',
    'exec >>"$LOG" 2>&1',
    'run() {',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's ${...}, not a template
    '  echo "\\$ arith-lab $*   # $(date -u +%Y-%m-%dT%H:%M:%SZ), job ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID} on $(hostname)"',
    `  ${lab} "$@"`,
    '}',
    'if grep -qs \'"status": *"finished"\' "$RUN/run.json"; then',
    '  echo "# $ID: finished already"',
    'elif compgen -G "$RUN/checkpoints/step-*" >/dev/null; then',
    `  run train --resume "$RUN"${train ? ` ${train}` : ''}`,
    'else',
    `  run train --config "$CONFIG" --run-dir "$RUN" --overwrite${train ? ` ${train}` : ''}`,
    'fi',
    ...after,
    '',
  ].join('\n');
}
