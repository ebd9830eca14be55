import * as tf from '@tensorflow/tfjs';
import type { OptionValues, PositionalEncoding } from './positional.ts';
import { randomPositionOptions } from './randomPositions.ts';

/** PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(p / 10000^(2i/d)) (Vaswani et al.). */
export function sinusoidalTable(seqLen: number, dModel: number, start = 0): Float32Array {
  const table = new Float32Array(seqLen * dModel);
  for (let row = 0; row < seqLen; row++) {
    const p = start + row;
    for (let i = 0; 2 * i < dModel; i++) {
      const angle = p / Math.pow(10000, (2 * i) / dModel);
      table[row * dModel + 2 * i] = Math.sin(angle);
      if (2 * i + 1 < dModel) table[row * dModel + 2 * i + 1] = Math.cos(angle);
    }
  }
  return table;
}

/** The same table for position ids of their own, [B, T] → [B, T, dModel], computed on the device. */
function sinusoidalRows(positionIds: tf.Tensor2D, dModel: number): tf.Tensor {
  const pairs = Math.ceil(dModel / 2);
  const frequencies = tf.tensor1d(Array.from({ length: pairs }, (_, i) => 1 / Math.pow(10000, (2 * i) / dModel)));
  const angles = tf.mul(tf.cast(positionIds, 'float32').expandDims(2), frequencies.reshape([1, 1, pairs]));
  // [sin, cos] per frequency, interleaved: dimension 2i is sin, 2i+1 cos.
  const interleaved = tf.stack([tf.sin(angles), tf.cos(angles)], 3).reshape([...positionIds.shape, 2 * pairs]);
  return 2 * pairs === dModel ? interleaved : tf.slice(interleaved, [0, 0, 0], [...positionIds.shape, dModel]);
}

/**
 * Fixed sinusoidal positions. Token embeddings are multiplied by sqrt(d) first, as Vaswani et al. do: with
 * GPT-2's N(0, 0.02) init the unit-size table otherwise swamps the tokens and small models stall (seen in a
 * reference run of this lab).
 */
export const sinusoidal = {
  name: 'sinusoidal',
  description: 'fixed sin/cos table added to sqrt(d)-scaled token embeddings',
  extrapolates: true,
  positionIndexed: true,
  options: randomPositionOptions,
  parameters: () => [],
  embed(tokenEmbeddings, { seqLen, offset, shape, positionIds }) {
    if (positionIds) return tf.add(tf.mul(tokenEmbeddings, Math.sqrt(shape.dModel)), sinusoidalRows(positionIds, shape.dModel));
    const table = tf.tensor2d(sinusoidalTable(seqLen, shape.dModel, offset), [seqLen, shape.dModel]);
    return tf.add(tf.mul(tokenEmbeddings, Math.sqrt(shape.dModel)), table);
  },
} satisfies PositionalEncoding<OptionValues<typeof randomPositionOptions>>;
