import { sequenceRoles } from '../data/batches.ts';
import { chainOfThoughtLength } from '../data/internalize.ts';
import { longestProblem } from '../data/problem.ts';
import { answerIsLsbFirst } from '../data/runningSum.ts';
import { auxLayers } from '../models/auxLoss.ts';
import type { DataSetup } from './dataSetup.ts';
import type { Config } from './schema.ts';

type Fail = (field: string, message: string) => never;

/** The training methods' own rules: the running-sum auxiliary loss and stepwise internalization. */
export function checkMethods(config: Config, data: DataSetup, fail: Fail): void {
  const { aux_loss: aux, internalize } = config.train;
  const { format, formatOptions, tokenizer } = data;
  const longest = longestProblem(config.task.op, config.task.train_digits[1]);
  if (aux) {
    if (config.task.op !== 'mul') {
      fail('train.aux_loss', `the running-sum target is defined for multiplication (task.op mul), not task.op "${config.task.op}"`);
    }
    const example = format.encode(longest, formatOptions);
    const roles = format.roles && sequenceRoles(example, format.roles(longest, formatOptions), tokenizer);
    if (!roles || !answerIsLsbFirst(roles)) {
      fail(
        'train.aux_loss',
        `format "${format.name}" does not write its answer digits least significant first with declared roles; the running sum needs a reversed format (e.g. reversed, reversed-padded, cot-multiplication)`,
      );
    }
    const layers = auxLayers(aux);
    for (const layer of layers) {
      if (layer > config.model.layers) {
        fail('train.aux_loss.layer', `layer ${layer} is outside the model: expected 1 to model.layers (${config.model.layers})`);
      }
    }
    if (new Set(layers).size !== layers.length) fail('train.aux_loss.layer', `layers [${layers.join(', ')}] name a block twice`);
    if (aux.until_step !== undefined && aux.until_step >= config.train.steps) {
      fail(
        'train.aux_loss.until_step',
        `is ${aux.until_step}, not before train.steps ${config.train.steps}: the loss would be added at every step (omit until_step for that)`,
      );
    }
  }
  if (internalize) {
    const cot = chainOfThoughtLength(format.encode(longest, formatOptions));
    if (cot === null) fail('train.internalize', `format "${format.name}" has no chain of thought to internalize (use cot-multiplication)`);
    if (internalize.tokens_per_stage > cot!) {
      fail(
        'train.internalize.tokens_per_stage',
        `${internalize.tokens_per_stage} tokens per stage is more than the whole chain of thought (${cot} tokens for ${config.task.train_digits[1]}-digit operands)`,
      );
    }
  }
}
