import * as tf from '@tensorflow/tfjs';
import type { PositionalEncoding } from './positional.ts';

/** Learned absolute positions (GPT-2): a trainable table `wpe.weight` [maxLen, dModel] added to embeddings. */
export const ape: PositionalEncoding = {
  name: 'ape',
  description: 'learned absolute position table added to token embeddings',
  extrapolates: false,
  parameters: (shape) => [{ name: 'wpe.weight', shape: [shape.maxLen, shape.dModel], init: 'normal' }],
  embed(tokenEmbeddings, { params, seqLen, offset, shape }) {
    if (offset + seqLen > shape.maxLen) {
      throw new Error(`sequence of ${offset + seqLen} tokens exceeds the learned position table (model.max_len=${shape.maxLen})`);
    }
    // A slice, not a gather: its gradient needs no UnsortedSegmentSum, which wasm lacks.
    const table = tf.slice(params['wpe.weight'], [offset, 0], [seqLen, shape.dModel]);
    return tf.add(tokenEmbeddings, table);
  },
};
