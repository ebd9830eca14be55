import type { Config } from '../config/schema.ts';
import { sequenceLength } from '../data/batches.ts';
import type { DataFormat, FormatOptions } from '../data/formats/format.ts';
import { getFormat } from '../data/formats/index.ts';
import type { TaskSpec } from '../data/dataset.ts';
import type { Problem } from '../data/problem.ts';
import { Tokenizer } from '../data/tokenizer.ts';
import type { GptConfig } from '../models/gpt.ts';

/** Everything a run derives from its config before touching tensors. Pure and cheap. */
export interface Experiment {
  config: Config;
  format: DataFormat;
  formatOptions: FormatOptions;
  tokenizer: Tokenizer;
  task: TaskSpec;
  model: GptConfig;
}

export function taskSpec(config: Config): TaskSpec {
  const t = config.task;
  return {
    op: t.op,
    trainDigits: t.train_digits,
    testDigits: t.test_digits,
    testSize: t.test_size,
    trainSize: t.train_size,
    sampling: t.sampling,
    operandLengths: t.operand_lengths,
  };
}

export function prepareExperiment(config: Config): Experiment {
  const format = getFormat(config.format.name);
  const formatOptions: FormatOptions = {
    padWidth: config.format.pad_width ?? config.task.train_digits[1],
    maxDigits: Math.max(config.task.train_digits[1], config.task.test_digits[1]),
  };
  const tokenizer = new Tokenizer(format.vocabulary(formatOptions));
  const m = config.model;
  const model: GptConfig = {
    layers: m.layers,
    heads: m.heads,
    dModel: m.d_model,
    dFf: m.d_ff ?? 4 * m.d_model,
    dropout: m.dropout,
    maxLen: m.max_len,
    pos: m.pos,
    ropeFraction: m.rope_fraction,
    ropeBase: m.rope_base,
    tieEmbeddings: m.tie_embeddings,
    vocabSize: tokenizer.size,
  };
  return { config, format, formatOptions, tokenizer, task: taskSpec(config), model };
}

/** The problem with the longest rendering at a length: all nines (longest answer, a carry in every column). */
export function longestProblem(op: Problem['op'], digits: number): Problem {
  const nines = 10n ** BigInt(digits) - 1n;
  return { op, a: nines, b: nines };
}

/** Tokens (with `<bos>` and `<eos>`) of the longest example with operands of up to `digits` digits. */
export function longestSequence(experiment: Experiment, digits: number): number {
  const { format, formatOptions, tokenizer, task } = experiment;
  return sequenceLength(format.encode(longestProblem(task.op, digits), formatOptions), tokenizer);
}
