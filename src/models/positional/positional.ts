import type * as tf from '@tensorflow/tfjs';

export interface ModelShape {
  layers: number;
  heads: number;
  dModel: number;
  maxLen: number;
}

/** Options a positional encoding may read from `model` in the config. */
export interface PositionalOptions {
  ropeFraction: number;
  ropeBase: number;
}

/** A new parameter a PE asks for: its name in the checkpoint, shape and initial values. */
export interface ParameterSpec {
  name: string;
  shape: number[];
  init: 'normal' | 'zeros' | 'ones';
}

export interface PositionalContext {
  /** Position of each new token (the queries), [T] int32; `<bos>` is position 0. */
  positions: tf.Tensor1D;
  /** Position of every key: cached tokens then the new ones, [offset + T] int32. */
  keyPositions: tf.Tensor1D;
  /** Number of new tokens. */
  seqLen: number;
  /** Tokens already in the key/value cache before these (0 without a cache). */
  offset: number;
  params: Record<string, tf.Variable>;
  shape: ModelShape;
  options: PositionalOptions;
}

/**
 * A positional encoding is data plus hooks: the model calls whichever hooks exist and never switches on the
 * PE's name. `embed` adds to token embeddings; `rotate` acts on per-head queries and keys of the new tokens
 * ([B, H, T, dHead]); `attentionBias` returns a bias broadcastable to the attention logits [B, H, T, offset + T].
 */
export interface PositionalEncoding {
  name: string;
  description: string;
  parameters(shape: ModelShape, options: PositionalOptions): ParameterSpec[];
  embed?(tokenEmbeddings: tf.Tensor, context: PositionalContext): tf.Tensor;
  rotate?(queries: tf.Tensor, keys: tf.Tensor, context: PositionalContext): [tf.Tensor, tf.Tensor];
  attentionBias?(context: PositionalContext): tf.Tensor;
  /** Whether positions beyond `maxLen` can be represented (false for a learned table). */
  extrapolates: boolean;
}
