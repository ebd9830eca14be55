import * as tf from '@tensorflow/tfjs';
import type { Gpt } from './gpt.ts';

/**
 * The running-sum auxiliary loss of Bai et al. 2025 ("Why Can't Transformers Learn Multiplication?", code
 * github.com/ajyl/icot): linear regression heads predict ĉ_k / scale at the position that writes answer digit k,
 * trained with mean squared error over those positions. `residual`: one head (`aux_head.weight`, `aux_head.bias`)
 * on the residual stream after block `layer`. `heads`: as in Bai et al.'s checkpoints, one bias-free head per
 * attention head of block `layer` (a row of `aux_head.weight` [heads, d_head]), each reading that head's output
 * before the projection; the error is averaged over heads. Plain tfjs ops, so it trains on every backend.
 */
export interface AuxLossSpec {
  /** Block whose output is read, 1-based (1 = the first); a list: one head per block, their losses summed. */
  layer: number | readonly number[];
  weight: number;
  scale: number;
  read: 'residual' | 'heads';
  /** The loss is added through this step and not after (the heads stay in checkpoints); absent: every step. */
  until_step?: number;
}

/** The auxiliary loss that step `step` trains with: the spec until its `until_step`, then none. */
export const auxLossAt = <Spec extends Pick<AuxLossSpec, 'until_step'>>(spec: Spec | null, step: number): Spec | null =>
  spec && (spec.until_step === undefined || step <= spec.until_step) ? spec : null;

/** The blocks read, 1-based, in the order given. */
export const auxLayers = (spec: Pick<AuxLossSpec, 'layer'>): readonly number[] =>
  typeof spec.layer === 'number' ? [spec.layer] : spec.layer;

/** The activation name (src/models/gpt.ts hooks) the head of block `layer` reads. */
export const auxActivationName = (layer: number, read: AuxLossSpec['read']): string =>
  `blocks.${layer - 1}.${read === 'heads' ? 'attn.z' : 'resid_post'}`;

/**
 * Mean squared error of the heads' predictions against `targets / scale` where `mask` is 1. activation [B, T, d]
 * (the residual stream, or the attention heads side by side), targets and mask [B, T].
 */
export function runningSumLoss(
  model: Gpt,
  activation: tf.Tensor,
  targets: tf.Tensor2D,
  mask: tf.Tensor2D,
  spec: Pick<AuxLossSpec, 'scale' | 'read'>,
  prefix = 'aux_head',
): tf.Scalar {
  const weight = model.params[`${prefix}.weight`];
  if (!weight) throw new Error(`the model has no ${prefix}: build it with auxHead set`);
  const [batch, seqLen, d] = activation.shape;
  let predicted: tf.Tensor;
  if (spec.read === 'heads') {
    const [heads, dHead] = weight.shape;
    if (heads * dHead !== d) throw new Error(`${prefix}.weight is [${weight.shape}], the heads' output has width ${d}`);
    // [B, T, H, d_head] · [H, d_head] summed over d_head: head h's own prediction, [B, T, H].
    predicted = tf.sum(tf.mul(tf.reshape(activation, [batch, seqLen, heads, dHead]), weight), 3);
  } else {
    const bias = model.params[`${prefix}.bias`];
    if (!bias) throw new Error(`the model has no ${prefix}.bias: build it with auxHead residual`);
    predicted = tf.add(tf.matMul(tf.reshape(activation, [batch * seqLen, d]), weight), bias).reshape([batch, seqLen, 1]);
  }
  const perHead = predicted.shape[2]!;
  const error = tf.sub(predicted, tf.expandDims(tf.div(targets, spec.scale), 2));
  const squared = tf.mul(tf.square(error), tf.expandDims(mask, 2));
  return tf.div(tf.sum(squared), tf.mul(tf.maximum(tf.sum(mask), 1), perHead)) as tf.Scalar;
}
