import type { CommandModule } from 'yargs';
import type { BackendName } from '../backends/select.ts';
import { sweep } from '../experiments/sweep/sweep.ts';
import { executionOptions, withExecutorOptions } from './executorOptions.ts';
import { withBackendOption } from './options.ts';
import { stopTrainingsOnSignals } from './signals.ts';

interface SweepArgs {
  config: string;
  grid: string[];
  set: string[];
  seeds: number;
  name?: string;
  runs: string;
  backend?: string;
  device?: string;
  report: boolean;
  'dry-run': boolean;
  'retry-failed': boolean;
  executor: string;
  jobs: number;
  sbatch: string[];
  status: boolean;
}

export const sweepCommand: CommandModule<object, SweepArgs> = {
  command: 'sweep',
  describe: 'train every cell of a grid x seeds (resumable), locally or as a Slurm job array, then tabulate',
  builder: (args) =>
    withExecutorOptions(withBackendOption(args))
      .option('config', { alias: 'c', type: 'string', demandOption: true, describe: 'the base YAML config' })
      .option('grid', {
        type: 'string',
        array: true,
        default: [] as string[],
        describe: 'one axis: field=value1,value2,... (values read as YAML, like --set; repeatable)',
      })
      .option('set', {
        type: 'string',
        array: true,
        default: [] as string[],
        describe: 'override a field in every cell, before the grid (repeatable)',
      })
      .option('seeds', { type: 'number', default: 1, describe: 'seeds 0..N-1 per cell' })
      .option('name', { type: 'string', describe: "the sweep's folder under <runs>/sweeps/ (default the config's name)" })
      .option('runs', { type: 'string', default: 'runs', describe: 'folder that holds sweeps/<name>/' })
      .option('report', { type: 'boolean', default: true, describe: 'write report.html beside table.md (--no-report to skip)' })
      .option('retry-failed', { type: 'boolean', default: false, describe: 'start failed runs over' })
      .option('dry-run', {
        type: 'boolean',
        default: false,
        describe: 'local: say what would run, write nothing; slurm: write the array script and manifest, submit nothing',
      })
      .example('$0 sweep -c configs/addition-nope.yaml --grid model.pos=nope,ape,rope --grid train.lr=1e-3,3e-3 --seeds 3', '18 runs')
      .example(
        '$0 sweep -c configs/addition-nope.yaml --grid model.pos=nope,rope --executor slurm --partition gpu --gpus-per-task 1',
        'on a cluster',
      )
      .example('$0 sweep -c configs/addition-nope.yaml --grid model.pos=nope,rope --executor slurm --status', 'where each run stands')
      .epilog('Running the same command again continues: finished runs are kept, interrupted ones resume.') as never,
  handler: async (args) => {
    const execution = executionOptions(args);
    const log = (line: string) => process.stderr.write(line + '\n');
    const stop = stopTrainingsOnSignals(log);
    try {
      const outcome = await sweep({
        config: args.config,
        grid: args.grid,
        overrides: args.set,
        seeds: args.seeds,
        name: args.name,
        runsRoot: args.runs,
        backend: args.backend as BackendName | undefined,
        retryFailed: args['retry-failed'],
        report: args.report,
        dryRun: args['dry-run'],
        ...execution,
        log,
        signal: stop.signal,
      });
      if (outcome.kind === 'status') console.log(outcome.lines.join('\n'));
      else if (outcome.kind === 'done') {
        console.log(`\n${outcome.markdown}`);
        console.log(
          `table: ${outcome.tableFile}\nresults: ${outcome.resultsFile}${outcome.reportFile ? `\nreport: ${outcome.reportFile}` : ''}`,
        );
      } else if (outcome.kind === 'submitted') console.log(outcome.submitted.job ?? outcome.submitted.scriptFile);
    } finally {
      stop.release();
    }
  },
};
