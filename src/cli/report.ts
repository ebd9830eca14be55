import type { CommandModule } from 'yargs';
import { escapeControl, UserError } from '../errors.ts';
import { expandRuns, hasGlob } from '../report/findRuns.ts';
import { buildReport } from '../report/report.ts';
import { resolveRunDir } from './runArg.ts';

interface ReportArgs {
  runs?: string[];
  compare?: string[];
  out?: string;
}

export const reportCommand: CommandModule<object, ReportArgs> = {
  command: 'report [runs..]',
  describe: 'write an HTML page of plots for a run (or a comparison of several) that opens offline; prints its path',
  builder: (args) =>
    args
      .positional('runs', {
        type: 'string',
        array: true,
        describe: 'run directories (or names under runs/); patterns like runs/addition-* are expanded',
      })
      .option('compare', {
        type: 'string',
        array: true,
        describe: "runs to compare, as a pattern (quote it: --compare 'runs/addition-*'); repeatable",
      })
      .option('out', {
        type: 'string',
        describe: 'write the page here; default <run>/report.html, or runs/compare-<time>.html for several runs',
      })
      .example('$0 report runs/addition-nope-20261126-101500', 'one run: writes runs/addition-nope-20261126-101500/report.html')
      .example("$0 report --compare 'runs/addition-*'", 'overlaid curves and in-range vs beyond accuracy of every matching run') as never,
  handler: (args) => {
    const given = [...(args.runs ?? []).map((run) => (hasGlob(run) ? run : resolveRunDir(run))), ...(args.compare ?? [])];
    if (given.length === 0) throw new UserError('name a run directory, or --compare PATTERN', { field: 'report' });
    const runs = expandRuns(given);
    const result = buildReport(runs, { out: args.out });
    for (const note of result.notes) process.stderr.write(`note: ${escapeControl(note)}\n`);
    process.stderr.write(
      `${result.runs} run${result.runs === 1 ? '' : 's'}, ${result.figures.length} figures, ${(result.bytes / 1e6).toFixed(1)} MB, ${result.seconds.toFixed(2)} s\n`,
    );
    console.log(result.file);
  },
};
