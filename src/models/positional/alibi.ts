import * as tf from '@tensorflow/tfjs';
import type { OptionValues, PositionalEncoding } from './positional.ts';
import { randomPositionOptions } from './randomPositions.ts';

/**
 * Head slopes from Press et al.: for H a power of two, m_h = 2^(-8h/H), h = 1..H. Otherwise the paper takes the
 * slopes of the nearest lower power of two, then every other slope of the next power of two.
 */
export function alibiSlopes(heads: number): number[] {
  const powerOfTwo = (n: number) => Array.from({ length: n }, (_, h) => Math.pow(2, (-8 * (h + 1)) / n));
  if (Number.isInteger(Math.log2(heads))) return powerOfTwo(heads);
  const lower = Math.pow(2, Math.floor(Math.log2(heads)));
  const extra = powerOfTwo(2 * lower)
    .filter((_, i) => i % 2 === 0)
    .slice(0, heads - lower);
  return [...powerOfTwo(lower), ...extra];
}

/** ALiBi: adds -m_h * (i - j) to the logit of query i and key j <= i. No embedding. */
export const alibi = {
  name: 'alibi',
  description: 'linear attention biases -m_h*(i-j) with Press et al. head slopes',
  extrapolates: true,
  positionIndexed: true,
  options: randomPositionOptions,
  parameters: () => [],
  attentionBias({ positions, keyPositions, positionIds, keyPositionIds, shape }) {
    if (positionIds && keyPositionIds) {
      // Ids of their own: i - j per sequence, [B, 1, T, offset + T].
      const distance = tf.sub(tf.cast(positionIds, 'float32').expandDims(2), tf.cast(keyPositionIds, 'float32').expandDims(1));
      const headSlopes = tf.tensor1d(alibiSlopes(shape.heads)).reshape([1, shape.heads, 1, 1]);
      return tf.mul(tf.neg(headSlopes), tf.relu(distance).expandDims(1));
    }
    const queries = tf.cast(positions, 'float32').reshape([-1, 1]);
    const keys = tf.cast(keyPositions, 'float32').reshape([1, -1]);
    const distance = tf.sub(queries, keys); // [T, offset + T], i - j
    const slopes = tf.tensor1d(alibiSlopes(shape.heads)).reshape([shape.heads, 1, 1]);
    // Future keys (j > i) are masked by the causal mask anyway; clamp so their bias stays finite and small.
    return tf.mul(tf.neg(slopes), tf.relu(distance)).expandDims(0); // [1, H, T, offset + T]
  },
} satisfies PositionalEncoding<OptionValues<typeof randomPositionOptions>>;
