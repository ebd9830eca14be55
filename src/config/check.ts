import { UserError } from '../errors.ts';
import { testLengths, testSetSize } from '../data/dataset.ts';
import { LARGE_DIGITS_SHARE, LARGE_SUMS, largestRunningSum } from '../data/sampling.ts';
import type { Problem } from '../data/problem.ts';
import { positionalConflict } from '../models/positional/compose.ts';
import { getPositionalEncoding, positionalLabel, positionalNames } from '../models/positional/index.ts';
import { rotaryDims } from '../models/positional/rope.ts';
import { checkMethods } from './checkMethods.ts';
import { checkPositions } from './checkPositions.ts';
import { dataSetup, longestSequence, type DataSetup } from './dataSetup.ts';
import type { Config } from './schema.ts';

/** Number of distinct training problems the sampler can produce. */
function trainingSpaceSize(config: Config): bigint {
  const [lo, hi] = config.task.train_digits;
  const operandsOf = (n: number) => (n === 1 ? 10n : 9n * 10n ** BigInt(n - 1));
  let total = 0n;
  let operands = 0n;
  for (let n = lo; n <= hi; n++) {
    operands += operandsOf(n);
    total += operandsOf(n) * operandsOf(n);
  }
  const equalLengths = config.task.operand_lengths === 'equal' || config.task.sampling === 'balanced';
  return equalLengths ? total : operands * operands;
}

/** Whether the format's examples depend on format.pad_width (fixed-width formats), judged by what it writes. */
function padsOperands({ format, formatOptions, task }: DataSetup): boolean {
  const problem: Problem = { op: task.op, a: 1n, b: 1n };
  const wide = { ...formatOptions, padWidth: formatOptions.padWidth + 1 };
  return format.encode(problem, formatOptions).prompt !== format.encode(problem, wide).prompt;
}

/** Samplings that draw from the running-sum tail (task.large_sums) and that draw large digits (task.large_digits_share). */
const DRAWS_LARGE_SUMS = new Set<Config['task']['sampling'] | undefined>(['large-sums', 'large-mixed']);
const DRAWS_LARGE_DIGITS = new Set<Config['task']['sampling'] | undefined>(['large-digits', 'large-mixed']);

/** Where large-sums sampling draws: the field that asks for it and the longest operands it draws there. */
function largeSumsStages(task: Config['task']): [string, number][] {
  const stages: [string, number][] = DRAWS_LARGE_SUMS.has(task.sampling) ? [['task.sampling', task.train_digits[1]]] : [];
  task.curriculum.forEach((stage, i) => {
    if (DRAWS_LARGE_SUMS.has(stage.sampling ?? task.sampling))
      stages.push([stage.sampling ? `task.curriculum.${i}.sampling` : 'task.sampling', stage.train_digits[1]]);
  });
  return stages;
}

/**
 * Curriculum stages end in order and before training does, draw fresh problems, and stay within the task's
 * longest operands: max_len, pad widths and the memory estimate are all sized by task.train_digits.
 */
function checkCurriculum(config: Config, fail: (field: string, message: string) => never): void {
  const { task, train } = config;
  task.curriculum.forEach((stage, i) => {
    const field = `task.curriculum.${i}`;
    if (i > 0 && stage.until_step <= task.curriculum[i - 1].until_step) {
      fail(
        `${field}.until_step`,
        `${stage.until_step} must be after the stage before it (until_step ${task.curriculum[i - 1].until_step})`,
      );
    }
    if (stage.until_step >= train.steps) {
      fail(
        `${field}.until_step`,
        `${stage.until_step} is not before the last of train.steps ${train.steps}: task.train_digits would never be trained`,
      );
    }
    if (stage.train_digits[1] > task.train_digits[1]) {
      fail(
        `${field}.train_digits`,
        `[${stage.train_digits.join(', ')}] is longer than task.train_digits [${task.train_digits.join(', ')}], which sizes the model and the format; widen task.train_digits`,
      );
    }
  });
  if (task.curriculum.length > 0 && task.train_size !== null) {
    fail(
      'task.curriculum',
      `stages draw fresh problems; a fixed training set (task.train_size ${task.train_size}) has none to draw, set it to null`,
    );
  }
}

/** Rules that span fields, which the schema alone cannot state. Each failure names the field to fix. */
export function checkConfig(config: Config, file: string): void {
  const fail = (field: string, message: string): never => {
    throw new UserError(message, { file, field });
  };
  const { task, model, format, train } = config;
  if (model.d_model % model.heads !== 0) {
    fail('model.d_model', `d_model ${model.d_model} must be divisible by model.heads ${model.heads}`);
  }
  if (Array.isArray(model.mlp) && model.mlp.length !== model.layers) {
    fail('model.mlp', `lists ${model.mlp.length} MLP kinds for model.layers ${model.layers}: give one kind, or one per block`);
  }
  if (Array.isArray(model.d_ff) && model.d_ff.length !== model.layers) {
    fail('model.d_ff', `lists ${model.d_ff.length} MLP widths for model.layers ${model.layers}: give one width, or one per block`);
  }
  if (positionalNames(model.pos).includes('rope') && rotaryDims(model.d_model / model.heads, model.rope_fraction) === 0) {
    const dHead = model.d_model / model.heads;
    fail(
      'model.rope_fraction',
      `rope_fraction ${model.rope_fraction} of a ${dHead}-dimension head rotates no dimension (RoPE rotates pairs); ` +
        `use at least ${2 / dHead}`,
    );
  }
  if (positionalNames(model.pos).includes('t5')) {
    // The log-spaced buckets run from the last exact distance to t5_max_distance; with nothing between, they are
    // undefined (log of 1 over log of 1).
    const exact = Math.floor(model.t5_buckets / (model.t5_bidirectional ? 4 : 2));
    if (model.t5_max_distance <= exact) {
      fail(
        'model.t5_max_distance',
        `${model.t5_max_distance} must exceed the ${exact} exact distances of ${model.t5_buckets}${model.t5_bidirectional ? ' bidirectional' : ''} buckets ` +
          `(model.t5_buckets); set it to at least ${exact + 1} or use fewer buckets`,
      );
    }
  }
  const data = dataSetup(config);
  if (!data.format.ops.includes(task.op)) {
    fail('format.name', `format "${format.name}" cannot express task.op "${task.op}" (it supports ${data.format.ops.join(', ')})`);
  }
  if (format.pad_extra > 0 && format.name !== 'reversed-padded') {
    fail(
      'format.pad_extra',
      `${format.pad_extra} leading zeros are written only by format reversed-padded, not "${format.name}"; set it to 0`,
    );
  }
  if (format.pad_width !== null && format.pad_width < task.train_digits[1] && padsOperands(data)) {
    fail(
      'format.pad_width',
      `pad_width ${format.pad_width} is narrower than the ${task.train_digits[1]}-digit training operands: training ` +
        `examples would mix padded and unpadded layouts; use at least ${task.train_digits[1]} (or null)`,
    );
  }
  const samplings = [
    ['task.sampling', task.sampling],
    ...task.curriculum.map((stage, i) => [`task.curriculum.${i}.sampling`, stage.sampling] as const),
  ] as const;
  for (const [field, sampling] of samplings) {
    if (sampling === 'balanced' && task.op !== 'add') fail(field, 'balanced sampling balances carries and is defined for addition only');
    if (sampling === 'qiu' && task.op !== 'mul')
      fail(field, 'qiu sampling sparsifies the multiplier and is defined for multiplication only');
  }
  if (task.large_sums !== undefined && !samplings.some(([, sampling]) => DRAWS_LARGE_SUMS.has(sampling))) {
    fail('task.large_sums', 'applies to large-sums and large-mixed sampling, which neither task.sampling nor any curriculum stage uses');
  }
  for (const [field, digits] of largeSumsStages(task)) {
    if (task.op !== 'mul') fail(field, 'large-sums and large-mixed sampling draw large running column sums of multiplication only');
    const from = task.large_sums?.from ?? LARGE_SUMS.from;
    const most = largestRunningSum({ op: 'mul', a: 10n ** BigInt(digits) - 1n, b: 10n ** BigInt(digits) - 1n });
    if (most < from) {
      fail(
        task.large_sums ? 'task.large_sums.from' : field,
        `no ${digits}x${digits} problem has a running column sum of ${from} (at most ${most}); lower task.large_sums.from`,
      );
    }
  }
  if (task.large_digits_share !== undefined && !samplings.some(([, sampling]) => DRAWS_LARGE_DIGITS.has(sampling))) {
    fail(
      'task.large_digits_share',
      'applies to large-digits and large-mixed sampling, which neither task.sampling nor any curriculum stage uses',
    );
  }
  if (samplings.some(([, sampling]) => sampling === 'large-mixed')) {
    const digitsShare = task.large_digits_share ?? LARGE_DIGITS_SHARE;
    const sumsShare = task.large_sums?.share ?? LARGE_SUMS.share;
    if (digitsShare + sumsShare > 1) {
      // Name the share the user set; when both are set, the larger one.
      const sumsNamed = task.large_sums !== undefined && (task.large_digits_share === undefined || sumsShare > digitsShare);
      fail(
        sumsNamed ? 'task.large_sums.share' : 'task.large_digits_share',
        `large-mixed draws ${digitsShare} of problems with large digits and ${sumsShare} from the running-sum tail: together at most 1`,
      );
    }
  }
  checkCurriculum(config, fail);
  if (train.min_lr > train.lr) fail('train.min_lr', `min_lr ${train.min_lr} is above lr ${train.lr}`);
  const neverReached = train.keep_checkpoints_at.find((step) => step > train.steps);
  if (neverReached !== undefined) {
    fail('train.keep_checkpoints_at', `step ${neverReached} is past train.steps ${train.steps}: its checkpoint would never be written`);
  }
  const trainTokens = longestSequence(data, task.train_digits[1]);
  if (trainTokens > model.max_len) {
    fail('model.max_len', `training examples need up to ${trainTokens} tokens but max_len is ${model.max_len}`);
  }
  const names = positionalNames(model.pos);
  const conflict = positionalConflict(names.map((name) => getPositionalEncoding(name)));
  if (conflict) fail('model.pos', `[${names.join(', ')}]: ${conflict}`);
  const pe = getPositionalEncoding(model.pos);
  let testTokens = 0;
  try {
    testTokens = longestSequence(data, task.test_digits[1]);
  } catch (error) {
    fail('task.test_digits', `format "${format.name}" cannot write ${task.test_digits[1]}-digit problems: ${(error as Error).message}`);
  }
  if (!pe.extrapolates && testTokens > model.max_len) {
    fail(
      'task.test_digits',
      `${task.test_digits[1]}-digit test problems need ${testTokens} tokens, beyond the learned "${positionalLabel(model.pos)}" ` +
        `table of model.max_len ${model.max_len}; raise max_len or shorten the test range`,
    );
  }
  checkPositions(config, data, fail);
  checkMethods(config, data, fail);
  if (task.train_size !== null) {
    let heldOut = 0n;
    for (const digits of testLengths(data.task)) {
      if (digits >= task.train_digits[0] && digits <= task.train_digits[1]) heldOut += BigInt(testSetSize(data.task, digits));
    }
    const available = trainingSpaceSize(config) - heldOut;
    if (BigInt(task.train_size) > available) {
      fail('task.train_size', `only ${available} distinct problems exist in task.train_digits outside the held-out test sets`);
    }
  }
}
