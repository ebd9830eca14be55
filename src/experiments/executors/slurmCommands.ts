import { spawnSync } from 'node:child_process';
import { UserError } from '../../errors.ts';

/**
 * The Slurm commands the executor calls (`sbatch`, `squeue`), each turning Slurm's own complaint into one
 * UserError line: `sbatch` missing, a controller that does not answer, a partition that does not exist.
 */

function slurm(command: string, args: string[], input?: string): { code: number; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { input, encoding: 'utf8', timeout: 60_000 });
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new UserError(`${command} not found: --executor slurm needs Slurm's client commands on this machine's PATH`, {
        field: '--executor',
      });
    }
    throw new UserError(`${command} could not run (${result.error.message})`, { field: '--executor' });
  }
  return { code: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

/** Slurm's message on one line (it prints `sbatch: error: ...` and sometimes a second line saying the same). */
function slurmMessage(stderr: string, fallback: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  return lines.length ? [...new Set(lines)].join('; ') : fallback;
}

/**
 * Asks the controller whether the script would be accepted (`sbatch --test-only`), without submitting: the
 * check that runs before anything is written.
 */
export function testSubmission(script: string, args: string[]): void {
  const { code, stderr } = slurm('sbatch', ['--test-only', ...args], script);
  if (code !== 0)
    throw new UserError(`Slurm refused the job: ${slurmMessage(stderr, `sbatch exited with ${code}`)}`, { field: '--executor' });
}

/** Submits the script file; returns the job id. */
export function submit(scriptFile: string, args: string[]): string {
  const { code, stdout, stderr } = slurm('sbatch', ['--parsable', ...args, scriptFile]);
  if (code !== 0)
    throw new UserError(`Slurm refused the job: ${slurmMessage(stderr, `sbatch exited with ${code}`)}`, { field: '--executor' });
  // --parsable prints `<job id>` or `<job id>;<cluster>`.
  return stdout.trim().split(';')[0];
}

/**
 * The array tasks of `jobId` still in Slurm's queue, by array index, with their state (`PENDING`, `RUNNING`,
 * ...). Empty when the job has left the queue (Slurm forgets finished jobs after a while and then calls the id
 * invalid).
 */
export function queuedTasks(jobId: string): Map<number, string> {
  const { code, stdout, stderr } = slurm('squeue', ['--noheader', '--array', `--jobs=${jobId}`, '--format=%K|%T']);
  if (code !== 0) {
    if (/invalid job id/i.test(stderr)) return new Map();
    throw new UserError(`squeue failed: ${slurmMessage(stderr, `exit ${code}`)}`, { field: '--executor' });
  }
  const tasks = new Map<number, string>();
  for (const line of stdout.split('\n')) {
    const [index, state] = line.trim().split('|');
    // A pending array's remaining tasks show as one line with a range (`2-5%2`).
    const range = /^(\d+)(?:-(\d+))?/.exec(index ?? '');
    if (!range || !state) continue;
    for (let i = Number(range[1]); i <= Number(range[2] ?? range[1]); i++) tasks.set(i, state);
  }
  return tasks;
}
