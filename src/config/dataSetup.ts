import { sequenceLength } from '../data/batches.ts';
import type { TaskSpec } from '../data/dataset.ts';
import type { DataFormat, FormatOptions } from '../data/formats/format.ts';
import { getFormat } from '../data/formats/index.ts';
import { longestProblem } from '../data/problem.ts';
import { Tokenizer } from '../data/tokenizer.ts';
import type { Config } from './schema.ts';

/**
 * What a config says about the data: the format and its options, the tokenizer, the task. Pure and cheap; the
 * config's own checks need it, and src/experiments/setup.ts adds the model to it.
 */
export interface DataSetup {
  format: DataFormat;
  formatOptions: FormatOptions;
  tokenizer: Tokenizer;
  task: TaskSpec;
}

function taskSpec(config: Config): TaskSpec {
  const t = config.task;
  return {
    op: t.op,
    trainDigits: t.train_digits,
    testDigits: t.test_digits,
    testSize: t.test_size,
    trainSize: t.train_size,
    sampling: t.sampling,
    operandLengths: t.operand_lengths,
    ...(t.large_digits_share !== undefined && { largeDigitsShare: t.large_digits_share }),
    ...(t.large_sums !== undefined && { largeSums: t.large_sums }),
    curriculum: t.curriculum.map((stage) => ({
      untilStep: stage.until_step,
      trainDigits: stage.train_digits,
      ...(stage.sampling && { sampling: stage.sampling }),
    })),
  };
}

export function dataSetup(config: Config): DataSetup {
  const format = getFormat(config.format.name);
  const formatOptions: FormatOptions = {
    padWidth: config.format.pad_width ?? config.task.train_digits[1],
    padExtra: config.format.pad_extra,
    maxDigits: Math.max(config.task.train_digits[1], config.task.test_digits[1]),
  };
  const tokenizer = new Tokenizer(format.vocabulary(formatOptions));
  return { format, formatOptions, tokenizer, task: taskSpec(config) };
}

/** Tokens (with `<bos>` and `<eos>`) of the longest example with operands of up to `digits` digits. */
export function longestSequence(setup: DataSetup, digits: number): number {
  const { format, formatOptions, tokenizer, task } = setup;
  return sequenceLength(format.encode(longestProblem(task.op, digits), formatOptions), tokenizer);
}
