import * as tf from '@tensorflow/tfjs';
import { fusedMaskedCrossEntropy, useFused } from './fused.ts';

/**
 * Mean cross-entropy over the positions where `mask` is 1. logits [B, T, V], targets [B, T] int32 (the next
 * token at each position), mask [B, T] float32. Written with oneHot rather than gather so it trains on wasm.
 */
export function maskedCrossEntropy(logits: tf.Tensor3D, targets: tf.Tensor2D, mask: tf.Tensor2D): tf.Scalar {
  if (useFused('cross-entropy')) return fusedMaskedCrossEntropy(logits, targets, mask);
  const vocab = logits.shape[2];
  const logProbabilities = tf.logSoftmax(logits);
  const picked = tf.sum(tf.mul(logProbabilities, tf.oneHot(targets, vocab)), 2);
  return tf.div(tf.neg(tf.sum(tf.mul(picked, mask))), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
}
