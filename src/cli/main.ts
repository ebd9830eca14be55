import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { RunStoppedError, UserError } from '../errors.ts';
import { dataCommand } from './data.ts';
import { exitWhenWritten } from './exit.ts';
import { predictCommand, protectMinusProblems } from './predict.ts';
import { probeCommand } from './probe.ts';
import { reportCommand } from './report.ts';
import { reproduceCommand } from './reproduce.ts';
import { sweepCommand } from './sweep.ts';
import { trainCommand } from './train.ts';

/**
 * Exit codes: 0 ok, 1 a run failed (e.g. diverged) or a bug, 2 bad input from the user, 130 / 143 training
 * interrupted by SIGINT / SIGTERM (after writing a checkpoint).
 */
async function main(argv: string[]): Promise<void> {
  await yargs(argv)
    .scriptName('arith-lab')
    .usage('$0 <command> [options]\n\nTrain tiny transformers on generated arithmetic and measure what they learn.')
    .command(trainCommand)
    .command(dataCommand)
    .command(probeCommand)
    .command(predictCommand)
    .command(reportCommand)
    .command(reproduceCommand)
    .command(sweepCommand)
    .demandCommand(1, 'name a command: train, data, probe, predict, report, reproduce or sweep')
    .strict()
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version(false)
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    .fail((message, error) => {
      throw error ?? new UserError(message);
    })
    .parseAsync();
}

// `arith-lab data ... | head` closes stdout early; that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

main(protectMinusProblems(hideBin(process.argv)))
  // End explicitly (see exitWhenWritten), keeping a status a command set without throwing (predict answers every
  // line, then exits 2 if any line was bad), once all output is written.
  .then(() => exitWhenWritten())
  .catch((error: unknown) => {
    if (error instanceof UserError) {
      process.stderr.write(`arith-lab: error: ${error.toString()}\n`);
      return exitWhenWritten(2);
    }
    if (error instanceof RunStoppedError) {
      process.stderr.write(`arith-lab: ${error.message}\n`);
      return exitWhenWritten(error.exitCode);
    }
    process.stderr.write(`arith-lab: ${(error as Error)?.stack ?? String(error)}\n`);
    return exitWhenWritten(1);
  });
