import type { CommandModule } from 'yargs';
import { loadConfig } from '../config/load.ts';
import { tokenizeExample } from '../data/batches.ts';
import { buildTestSets, heldOutKeys, TrainStream } from '../data/dataset.ts';
import { answerOf, parseProblem, type Problem } from '../data/problem.ts';
import { quoteInput, UserError } from '../errors.ts';
import { notAProblem } from './ask.ts';
import { prepareExperiment, type Experiment } from '../config/experiment.ts';
import { wholeNumber, withConfigOptions } from './options.ts';

interface DataArgs {
  config: string;
  set: string[];
  split: 'train' | 'test';
  show: number;
  problem?: string;
  tokens: boolean;
}

function describe(problem: Problem, experiment: Experiment, showTokens: boolean): string {
  const example = experiment.format.encode(problem, experiment.formatOptions);
  const { ids, promptLength } = tokenizeExample(example, experiment.tokenizer);
  const lines = [
    `problem ${problem.a}${problem.op === 'add' ? '+' : '*'}${problem.b} = ${answerOf(problem)}`,
    `  prompt  ${JSON.stringify(example.prompt)}`,
    `  target  ${JSON.stringify(example.target)}`,
    `  model sees <bos> + prompt (${promptLength} tokens), learns target + <eos> (${ids.length - promptLength} tokens)`,
  ];
  if (showTokens)
    lines.push(
      `  tokens  ${ids
        .map((id) => experiment.tokenizer.tokens[id])
        .map((t) => JSON.stringify(t))
        .join(' ')}`,
    );
  return lines.join('\n');
}

export const dataCommand: CommandModule<object, DataArgs> = {
  command: 'data',
  describe: 'print training or test examples exactly as the model sees them',
  builder: (args) =>
    withConfigOptions(args)
      .option('split', { choices: ['train', 'test'] as const, default: 'train' as const, describe: 'which data to show' })
      .option('show', { type: 'number', default: 5, describe: 'how many examples' })
      .option('problem', { type: 'string', describe: 'render one given problem instead, e.g. 128+367 or 12*34' })
      .option('tokens', { type: 'boolean', default: false, describe: 'also list the tokens' })
      .example('$0 data -c configs/addition-nope.yaml --show 3', 'first three training examples')
      .example('$0 data -c configs/addition-scratchpad-detailed.yaml --problem 128+367', 'one problem') as never,
  handler: (args) => {
    wholeNumber(args.show, '--show', 0);
    const config = loadConfig(args.config, args.set);
    const experiment = prepareExperiment(config);
    const vocabulary = `format ${config.format.name}; vocabulary (${experiment.tokenizer.size}): ${experiment.tokenizer.tokens.map((t) => JSON.stringify(t)).join(' ')}`;
    if (args.problem !== undefined) {
      const problem = parseProblem(args.problem);
      if (!problem) throw new UserError(`${notAProblem(args.problem)}, got ${quoteInput(args.problem.trim())}`, { field: '--problem' });
      // The same rule as predict: a problem of another operation is not one this config's runs learn.
      if (problem.op !== config.task.op) {
        throw new UserError(`this config trains task.op ${config.task.op}, not ${problem.op}`, { field: '--problem' });
      }
      console.log(vocabulary);
      console.log(describe(problem, experiment, args.tokens));
      return;
    }
    console.log(vocabulary);
    const testSets = buildTestSets(experiment.task, config.seed);
    if (args.split === 'test') {
      for (const [digits, problems] of testSets) {
        console.log(`\n== test, ${digits}-digit operands (${problems.length} problems)`);
        for (const problem of problems.slice(0, args.show)) console.log(describe(problem, experiment, args.tokens));
      }
      return;
    }
    const stream = new TrainStream(experiment.task, config.seed, heldOutKeys(testSets));
    console.log(stream.problems ? `training set: ${stream.problems.length} fixed problems` : 'training data: fresh problems every batch');
    for (const problem of stream.next(args.show)) console.log(describe(problem, experiment, args.tokens));
  },
};
