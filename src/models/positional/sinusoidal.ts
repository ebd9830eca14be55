import * as tf from '@tensorflow/tfjs';
import type { PositionalEncoding } from './positional.ts';

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

/**
 * Fixed sinusoidal positions. Token embeddings are multiplied by sqrt(d) first, as Vaswani et al. do: with
 * GPT-2's N(0, 0.02) init the unit-size table otherwise swamps the tokens and small models stall (seen in a
 * reference run of this lab).
 */
export const sinusoidal: PositionalEncoding = {
  name: 'sinusoidal',
  description: 'fixed sin/cos table added to sqrt(d)-scaled token embeddings',
  extrapolates: true,
  parameters: () => [],
  embed(tokenEmbeddings, { seqLen, offset, shape }) {
    const table = tf.tensor2d(sinusoidalTable(seqLen, shape.dModel, offset), [seqLen, shape.dModel]);
    return tf.add(tf.mul(tokenEmbeddings, Math.sqrt(shape.dModel)), table);
  },
};
