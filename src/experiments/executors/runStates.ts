import { readJsonOrNull } from '../../runs/jsonFiles.ts';
import { RUN_FILE } from '../../runs/paths.ts';
import type { RunInfo } from '../../runs/records.ts';
import path from 'node:path';

/**
 * `--status`: one line per run, from its run directory (run.json) and, when an array of the folder was
 * submitted, Slurm's queue.
 */
export function describeRunStates(
  runs: readonly { id: string; runDir: string; steps: number }[],
  queued: Map<string, string> | null,
): string[] {
  const width = Math.max(0, ...runs.map((run) => run.id.length));
  return runs.map((run) => {
    const info = readJsonOrNull<RunInfo>(path.join(run.runDir, RUN_FILE));
    const at = `step ${info?.step ?? 0}/${run.steps}`;
    const state = info === null ? 'not started' : info.status === 'finished' ? `finished (${at})` : `${info.status} (${at})`;
    const slurm = queued?.get(run.id);
    return `  ${run.id.padEnd(width)}  ${state}${slurm ? `, Slurm: ${slurm.toLowerCase()}` : ''}`;
  });
}
