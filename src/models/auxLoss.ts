import * as tf from '@tensorflow/tfjs';
import type { Gpt } from './gpt.ts';

/**
 * The running-sum auxiliary loss of Bai et al. 2025 ("Why Can't Transformers Learn Multiplication?", code
 * github.com/ajyl/icot): a linear regression head (`aux_head.weight`, `aux_head.bias`) on the residual stream
 * after block `layer` predicts ĉ_k / scale at the position that writes answer digit k, trained with mean squared
 * error over those positions. Plain tfjs ops, so it trains on every backend.
 */
export interface AuxLossSpec {
  /** Residual stream after this block, 1-based (1 = after the first block). */
  layer: number;
  weight: number;
  scale: number;
}

/** The activation name (src/models/gpt.ts hooks) the head reads. */
export const auxResidualName = (layer: number): string => `blocks.${layer - 1}.resid_post`;

/**
 * Mean squared error of the head's prediction against `targets / scale` where `mask` is 1. residual [B, T, d],
 * targets and mask [B, T].
 */
export function runningSumLoss(model: Gpt, residual: tf.Tensor, targets: tf.Tensor2D, mask: tf.Tensor2D, scale: number): tf.Scalar {
  const weight = model.params['aux_head.weight'];
  const bias = model.params['aux_head.bias'];
  if (!weight || !bias) throw new Error('the model has no aux_head: build it with auxHead set');
  const [batch, seqLen, d] = residual.shape;
  const predicted = tf.add(tf.matMul(tf.reshape(residual, [batch * seqLen, d]), weight), bias).reshape([batch, seqLen]);
  const error = tf.sub(predicted, tf.div(targets, scale));
  return tf.div(tf.sum(tf.mul(tf.square(error), mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
}
