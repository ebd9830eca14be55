import type { CommandModule } from 'yargs';
import type { BackendName } from '../backends/select.ts';
import { UserError } from '../errors.ts';
import { reproduce } from '../experiments/reproduce/reproduce.ts';
import { getReproduction, REPRODUCTIONS } from '../experiments/reproductions/index.ts';
import { cellsOf, PROFILE_NAMES, type ProfileName } from '../experiments/reproductions/reproduction.ts';
import { executionOptions, withExecutorOptions } from './executorOptions.ts';
import { withBackendOption } from './options.ts';
import { stopTrainingsOnSignals } from './signals.ts';

interface ReproduceArgs {
  name?: string;
  profile: string;
  seeds?: number;
  jobs: number;
  runs: string;
  backend?: string;
  report: boolean;
  'dry-run': boolean;
  only?: string[];
  set: string[];
  'retry-failed': boolean;
  executor: string;
  sbatch: string[];
  status: boolean;
}

function listing(): string {
  return Object.values(REPRODUCTIONS)
    .map((r) => `  ${r.name.padEnd(28)} ${cellsOf(r).length} cells: ${r.title}`)
    .join('\n');
}

export const reproduceCommand: CommandModule<object, ReproduceArgs> = {
  command: 'reproduce [name]',
  describe: "train every cell of a paper's table (resumable), then print ours beside the paper's numbers",
  builder: (args) =>
    withExecutorOptions(withBackendOption(args))
      .positional('name', { type: 'string', describe: 'experiment; without it, the list' })
      .option('profile', {
        type: 'string',
        choices: PROFILE_NAMES,
        default: 'quick',
        describe: "quick: sized for a 2-core CPU; paper: the paper's settings (GPU)",
      })
      .option('seeds', { type: 'number', describe: "seeds 0..N-1 per cell; default the profile's (the table says how many)" })
      .option('runs', { type: 'string', default: 'runs', describe: 'folder that holds reproduce/<name>/<profile>/' })
      .option('report', { type: 'boolean', default: true, describe: 'write report.html beside table.md (--no-report to skip)' })
      .option('set', {
        type: 'string',
        array: true,
        default: [] as string[],
        describe:
          'change one thing in every cell, after the profile (repeatable): --set train.loss_on=all; runs go to <profile>+<changes>/',
      })
      .option('only', {
        type: 'string',
        array: true,
        describe: "train only cells whose id matches (repeatable; * any characters): --only 'n2k-*' --only '*-reversed'",
      })
      .option('retry-failed', {
        type: 'boolean',
        default: false,
        describe: 'start failed runs over (by default they are kept: a diverged run diverges again)',
      })
      .option('dry-run', {
        type: 'boolean',
        default: false,
        describe:
          'say what would train, resume or be skipped (paper profile: with estimated GPU time per cell), and print the table so far; train nothing',
      })
      .example('$0 reproduce', 'list the experiments')
      .example('$0 reproduce lee2023-sample-efficiency --jobs 2', 'the quick profile, two runs at a time')
      .example('$0 reproduce kazemnejad2023-pe --profile paper --seeds 3 --backend webgpu', "the paper's settings on a GPU")
      .epilog(
        `Experiments:\n${listing()}\n\nRunning the same command again continues: finished runs are kept, interrupted ones resume.`,
      ) as never,
  handler: async (args) => {
    if (args.name === undefined) {
      console.log(`experiments (arith-lab reproduce <name>):\n${listing()}`);
      return;
    }
    const reproduction = getReproduction(args.name);
    if (args.seeds !== undefined && (!Number.isInteger(args.seeds) || args.seeds < 1)) {
      throw new UserError(`expected a whole number of at least 1, got ${args.seeds}`, { field: '--seeds' });
    }
    const execution = executionOptions(args);
    const log = (line: string) => process.stderr.write(line + '\n');
    // First Ctrl-C or SIGTERM: no new run starts, running ones checkpoint and stop. A second one quits at once.
    const stop = stopTrainingsOnSignals(log);
    try {
      const result = await reproduce(reproduction, {
        profile: args.profile as ProfileName,
        seeds: args.seeds,
        jobs: args.jobs,
        runsRoot: args.runs,
        backend: args.backend as BackendName | undefined,
        ...execution,
        report: args.report,
        dryRun: args['dry-run'],
        only: args.only,
        overrides: args.set,
        retryFailed: args['retry-failed'],
        log,
        signal: stop.signal,
      });
      if (result.status) {
        console.log(result.status.join('\n'));
        return;
      }
      if (result.submitted) {
        console.log(result.submitted.job ?? result.submitted.scriptFile);
        return;
      }
      console.log(`\n${result.markdown}`);
      if (!args['dry-run']) {
        console.log(
          `table: ${result.tableFile}\nresults: ${result.resultsFile}${result.reportFile ? `\nreport: ${result.reportFile}` : ''}`,
        );
      }
    } finally {
      stop.release();
    }
  },
};
