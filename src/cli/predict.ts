import readline from 'node:readline';
import type { CommandModule } from 'yargs';
import type { BackendName, DeviceName } from '../backends/select.ts';
import { loadRun } from '../experiments/checkpoint.ts';
import { modelDecoder } from '../inference/decode.ts';
import { ask, isRejected, type AskResult } from './ask.ts';
import { escapeControl, quoteInput } from '../errors.ts';
import { recurrenceArgument, wholeNumber, withBackendOption, withRecurrenceOption } from './options.ts';
import { resolveRunDir } from './runArg.ts';

interface PredictArgs {
  _: (string | number)[];
  run: string;
  problems: string[];
  json: boolean;
  checkpoint?: number;
  backend?: string;
  device?: string;
  recurrence?: number;
}

/** One stdout line per answered question (the answer, or `?`); reasons go to stderr so stdout stays clean. */
export function printAnswers(results: AskResult[], json: boolean, out = process.stdout, err = process.stderr): number {
  let bad = 0;
  for (const result of results) {
    if (json) {
      out.write(JSON.stringify(result) + '\n');
      if (isRejected(result)) bad += 1;
      continue;
    }
    if (isRejected(result)) {
      bad += 1;
      err.write(`arith-lab: line ${result.line}: ${escapeControl(`${quoteInput(result.input)}: ${result.error}`)}\n`);
      out.write('?\n');
    } else if (result.answer === null) {
      err.write(
        `arith-lab: line ${result.line}: ${result.problem}: the model's output ${JSON.stringify(result.output)} does not parse (${result.parseError})\n`,
      );
      out.write('?\n');
    } else {
      out.write(`${result.answer}\n`);
    }
  }
  return bad;
}

/**
 * `predict <run> -5+3` and `data --problem -5+3`: a word starting with "-" and a digit is a problem (one the
 * command then refuses with a reason), not a cluster of short flags for yargs to reject as `Unknown argument: 5`.
 * A leading space keeps yargs from reading it as flags; reading a problem trims it. Words after `--` stay as given.
 */
export function protectMinusProblems(argv: string[]): string[] {
  const end = argv.indexOf('--');
  return argv.map((word, i) => {
    const problem = argv[0] === 'predict' || argv[i - 1] === '--problem';
    return problem && (end < 0 || i < end) && /^-\d/.test(word) ? ` ${word}` : word;
  });
}

export const predictCommand: CommandModule<object, PredictArgs> = {
  command: 'predict <run> [problems..]',
  describe: 'answer problems like 128+367 with a trained run (arguments, or one per line on stdin)',
  builder: (args) =>
    withRecurrenceOption(withBackendOption(args))
      .positional('run', { type: 'string', demandOption: true, describe: 'run directory (or its name under runs/)' })
      .positional('problems', { type: 'string', array: true, default: [] as string[], describe: 'problems; default: read stdin' })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'one JSON object per line: prompt, output, answer, expected, ok (or error)',
      })
      .option('checkpoint', { type: 'number', describe: 'checkpoint step to load; default the newest' })
      .example('$0 predict runs/addition-nope-20261126-101500 128+367 12+5', 'prints 495 and 17, one per line')
      .example("printf '128+367\\n99999+1\\n' | $0 predict addition-nope-20261126-101500 --json", 'from stdin, as JSON') as never,
  handler: async (args) => {
    wholeNumber(args.checkpoint, '--checkpoint', 0);
    // Problems after `--` (`predict <run> -- -5+3`) land in `_`, after the command's own name.
    const problems = [...args.problems, ...args._.slice(1)].map(String);
    const log = (line: string) => process.stderr.write(line + '\n');
    const recurrence = recurrenceArgument(args.recurrence);
    const loaded = await loadRun(resolveRunDir(args.run), {
      step: args.checkpoint,
      backend: args.backend as BackendName | undefined,
      device: args.device as DeviceName | undefined,
      recurrence,
      log,
    });
    const decode = modelDecoder(loaded.model);
    let bad = 0;
    try {
      if (problems.length > 0) {
        bad = printAnswers(await ask(decode, loaded.experiment, problems), args.json);
      } else {
        // A terminal gets each answer as its line is typed; a pipe is read whole and decoded in one batch.
        const lines = readline.createInterface({ input: process.stdin, terminal: false });
        const batch: string[] = [];
        let lineNumber = 0;
        for await (const line of lines) {
          lineNumber += 1;
          if (process.stdin.isTTY) bad += printAnswers(await ask(decode, loaded.experiment, [line], lineNumber), args.json);
          else batch.push(line);
        }
        if (batch.length > 0) bad += printAnswers(await ask(decode, loaded.experiment, batch), args.json);
      }
    } finally {
      loaded.model.dispose();
    }
    if (bad > 0) {
      log(`arith-lab: ${bad} line${bad === 1 ? ' was' : 's were'} not a problem this run can answer`);
      process.exitCode = 2;
    }
  },
};
