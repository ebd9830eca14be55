import type * as tf from '@tensorflow/tfjs';
import type { z } from 'zod';
import type { TokenRole } from '../../contracts/tokenRoles.ts';
import type { Random } from '../../random.ts';

export interface ModelShape {
  layers: number;
  heads: number;
  dModel: number;
  maxLen: number;
}

/**
 * The options a positional encoding reads, declared once in its own file: a zod schema per option (type, range,
 * default, description) under the name the model config uses. The config file spells that name in snake_case
 * (ropeFraction is model.rope_fraction); the config schema, `train --help`, the model config and the checkpoint's
 * metadata all take the options from this declaration (src/config/positionalOptions.ts maps the names). rope.ts
 * shows the pattern: `options: ropeOptions`, and `satisfies PositionalEncoding<OptionValues<typeof ropeOptions>>`
 * so that its hooks see the values typed.
 */
export type OptionSchemas = Record<string, z.ZodType>;

/** The values of declared options, as the model config holds them. */
export type OptionValues<Schemas extends OptionSchemas> = { [Name in keyof Schemas]: z.output<Schemas[Name]> };

/**
 * A new parameter a PE asks for: its name in the checkpoint, shape and initial values. Besides the model's
 * N(0, 0.02), zeros and ones, a PE may ask for a constant (FIRE's c = 0.1) or U(-bound, bound) (PyTorch's
 * nn.Linear default, which FIRE's reference MLP starts from).
 */
export interface ParameterSpec {
  name: string;
  shape: number[];
  init: 'normal' | 'zeros' | 'ones' | { constant: number } | { uniform: number };
}

export interface PositionalContext<Options = object> {
  /** Position of each new token (the queries), [T] int32; `<bos>` is position 0. */
  positions: tf.Tensor1D;
  /** Position of every key: cached tokens then the new ones, [offset + T] int32. */
  keyPositions: tf.Tensor1D;
  /** Number of new tokens. */
  seqLen: number;
  /**
   * Position ids of the new tokens, [B, T] int32, when the sequence has its own (position coupling, Abacus,
   * randomized positions); absent, every row's positions are `positions` (0..T-1 after the cache).
   */
  positionIds?: tf.Tensor2D;
  /** With `positionIds`: the ids of every key, cached tokens then the new ones, [B, offset + T] int32. */
  keyPositionIds?: tf.Tensor2D;
  /** Tokens already in the key/value cache before these (0 without a cache). */
  offset: number;
  params: Record<string, tf.Variable>;
  shape: ModelShape;
  options: Options;
}

/**
 * A positional encoding is data plus hooks: the model calls whichever hooks exist and never switches on the
 * PE's name. `embed` adds to token embeddings; `rotate` acts on the queries and keys of the new tokens where the
 * c_attn projection writes them, q|k|v [B, T, 3·heads·dHead] (head h at columns h·dHead.. of each; v passes
 * through); `attentionBias` returns a bias broadcastable to the attention logits [B, H, T, offset + T].
 */
export interface PositionalEncoding<Options = object> {
  name: string;
  description: string;
  /** The options it reads (see OptionSchemas), when it has any; `Options` are their values. */
  options?: OptionSchemas;
  parameters(shape: ModelShape, options: Options): ParameterSpec[];
  embed?(tokenEmbeddings: tf.Tensor, context: PositionalContext<Options>): tf.Tensor;
  rotate?(qkv: tf.Tensor, context: PositionalContext<Options>): tf.Tensor;
  attentionBias?(context: PositionalContext<Options>): tf.Tensor;
  /** Whether `attentionBias` depends on parameters (T5, FIRE): then the attention passes its gradient back. */
  learnedBias?: boolean;
  /** Whether positions beyond `maxLen` can be represented (false for a learned table). */
  extrapolates: boolean;
  /**
   * The encoding reads a position per token (learned, sinusoidal, RoPE, ALiBi, ...): it then accepts position
   * ids other than 0..T-1, and randomized positions (model.random_positions, Ruoss et al. 2023) apply to it.
   */
  positionIndexed?: boolean;
  /**
   * The encoding gives each token a position id from its role (format.ts, `roles`): position coupling, Abacus.
   * `draw.training` says whether to draw the training-time random start or offset from `draw.random`. Throws
   * when an id falls outside the encoding's table.
   */
  positionsFromRoles?(roles: readonly TokenRole[], options: Options, draw: PositionDraw): number[];
  /**
   * Rows its table needs for sequences whose digits reach significance `trainSignificance` in training and
   * `testSignificance` in evaluation; the config check compares it with `model.max_position`.
   */
  tableRows?(trainSignificance: number, testSignificance: number, options: Options): number;
}

/** Whether position ids are drawn as in training (random starts, offsets, subsets) or as in evaluation. */
export interface PositionDraw {
  training: boolean;
  random: Random;
}
