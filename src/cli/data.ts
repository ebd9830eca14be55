import type { CommandModule } from 'yargs';
import { loadConfig } from '../config/load.ts';
import { sequenceRoles, tokenizeExample } from '../data/batches.ts';
import { buildTestSets, describeCurriculum, heldOutKeys, TrainStream } from '../data/dataset.ts';
import { answerOf, parseProblem, problemKey, type Problem } from '../data/problem.ts';
import { quoteInput, UserError } from '../errors.ts';
import { notAProblem } from './ask.ts';
import { prepareExperiment, type Experiment } from '../config/experiment.ts';
import { wholeNumber, withConfigOptions } from './options.ts';
import { getPositionalEncoding, positionalLabel } from '../models/positional/index.ts';
import { positionIds } from '../models/positional/positionIds.ts';
import { createRandom } from '../random.ts';

interface DataArgs {
  config: string;
  set: string[];
  split: 'train' | 'test';
  show: number;
  problem?: string;
  tokens: boolean;
  positions: boolean;
}

/**
 * Whether the config's encoding gives sequences position ids of their own (coupling, Abacus, randomized
 * positions), so that `--positions` has something to show.
 */
function hasOwnPositions(experiment: Experiment): boolean {
  const pe = getPositionalEncoding(experiment.model.pos);
  return pe.positionsFromRoles !== undefined || (pe.positionIndexed === true && experiment.model.randomPositions !== null);
}

/**
 * The tokens the model reads (`<bos>`, prompt, target; the final `<eos>` is only ever predicted) with their
 * position ids, as training draws them (one draw: every batch draws its own starts, offsets or subsets) and
 * as evaluation gives them. Token roles come from the problem's own answer, as training and teacher forcing see it.
 */
function positionLines(problem: Problem, experiment: Experiment): string[] {
  const { format, formatOptions, tokenizer, model, config } = experiment;
  const example = format.encode(problem, formatOptions);
  const ids = tokenizeExample(example, tokenizer).ids.slice(0, -1);
  const roles = sequenceRoles(example, format.roles!(problem, formatOptions), tokenizer).slice(0, -1);
  const pe = getPositionalEncoding(model.pos);
  const draw = (training: boolean) => {
    const random = createRandom(config.seed, `data-positions:${training ? 'train' : 'eval'}:${problemKey(problem)}`);
    const own = positionIds(pe, model, roles, { training, random }) ?? roles.map((_, t) => t);
    return ids.map((id, t) => `${JSON.stringify(tokenizer.tokens[id])}:${own[t]}`).join(' ');
  };
  return [`  positions, a training draw  ${draw(true)}`, `  positions at evaluation     ${draw(false)}`];
}

function describe(problem: Problem, experiment: Experiment, showTokens: boolean, showPositions = false): string {
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
  if (showPositions) lines.push(...positionLines(problem, experiment));
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
      .option('positions', {
        type: 'boolean',
        default: false,
        describe: 'also list each token with its position id, as training draws it and at evaluation (coupled, abacus, random_positions)',
      })
      .example('$0 data -c configs/addition-nope.yaml --show 3', 'first three training examples')
      .example('$0 data -c configs/addition-scratchpad-detailed.yaml --problem 128+367', 'one problem')
      .example('$0 data -c configs/addition-coupled.yaml --problem 128+367 --positions', 'the position ids the model reads') as never,
  handler: (args) => {
    wholeNumber(args.show, '--show', 0);
    const config = loadConfig(args.config, args.set);
    const experiment = prepareExperiment(config);
    if (args.positions && !hasOwnPositions(experiment)) {
      throw new UserError(
        `model.pos "${positionalLabel(config.model.pos)}" reads positions 0, 1, 2, ... of every sequence; ids of their own come with coupled, abacus or model.random_positions`,
        { field: '--positions' },
      );
    }
    const vocabulary = `format ${config.format.name}; vocabulary (${experiment.tokenizer.size}): ${experiment.tokenizer.tokens.map((t) => JSON.stringify(t)).join(' ')}`;
    if (args.problem !== undefined) {
      const problem = parseProblem(args.problem);
      if (!problem) throw new UserError(`${notAProblem(args.problem)}, got ${quoteInput(args.problem.trim())}`, { field: '--problem' });
      // The same rule as predict: a problem of another operation is not one this config's runs learn.
      if (problem.op !== config.task.op) {
        throw new UserError(`this config trains task.op ${config.task.op}, not ${problem.op}`, { field: '--problem' });
      }
      console.log(vocabulary);
      console.log(describe(problem, experiment, args.tokens, args.positions));
      return;
    }
    console.log(vocabulary);
    const testSets = buildTestSets(experiment.task, config.seed);
    if (args.split === 'test') {
      for (const [digits, problems] of testSets) {
        console.log(`\n== test, ${digits}-digit operands (${problems.length} problems)`);
        for (const problem of problems.slice(0, args.show)) console.log(describe(problem, experiment, args.tokens, args.positions));
      }
      return;
    }
    const stream = new TrainStream(experiment.task, config.seed, heldOutKeys(testSets));
    console.log(stream.problems ? `training set: ${stream.problems.length} fixed problems` : 'training data: fresh problems every batch');
    const curriculum = describeCurriculum(experiment.task);
    if (curriculum) console.log(`${curriculum} (shown: the first batch)`);
    for (const problem of stream.next(args.show, 1)) console.log(describe(problem, experiment, args.tokens, args.positions));
  },
};
