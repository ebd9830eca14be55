import * as tf from '@tensorflow/tfjs';

/**
 * Query position minus key position, i - j, for every pair: [T, S] from positions [T] and [S] (or [B, T, S]
 * from per-sequence positions [B, T] and [B, S]). Int32 in, int32 out.
 */
export function relativeDistance(positions: tf.Tensor, keyPositions: tf.Tensor): tf.Tensor {
  return tf.sub(tf.expandDims(positions, -1), tf.expandDims(keyPositions, -2));
}

/** A bias computed per pair, [T, S, H] (or [B, T, S, H]), as attention logits want it: [1, H, T, S] ([B, H, T, S]). */
export function headsFirst(bias: tf.Tensor): tf.Tensor {
  return bias.rank === 3 ? tf.transpose(bias, [2, 0, 1]).expandDims(0) : tf.transpose(bias, [0, 3, 1, 2]);
}
