import * as tf from '@tensorflow/tfjs';
import { embed } from '../ops.ts';
import type { OptionValues, PositionalEncoding } from './positional.ts';
import { randomPositionOptions } from './randomPositions.ts';

/** Learned absolute positions (GPT-2): a trainable table `wpe.weight` [maxLen, dModel] added to embeddings. */
export const ape = {
  name: 'ape',
  description: 'learned absolute position table added to token embeddings',
  extrapolates: false,
  positionIndexed: true,
  options: randomPositionOptions,
  parameters: (shape) => [{ name: 'wpe.weight', shape: [shape.maxLen, shape.dModel], init: 'normal' }],
  embed(tokenEmbeddings, { params, seqLen, offset, shape, positionIds }) {
    // Ids of its own (randomized positions): the rows they name, a one-hot product as for tokens.
    if (positionIds) return tf.add(tokenEmbeddings, embed(positionIds, params['wpe.weight']));
    if (offset + seqLen > shape.maxLen) {
      throw new Error(`sequence of ${offset + seqLen} tokens exceeds the learned position table (model.max_len=${shape.maxLen})`);
    }
    // A slice, not a gather: its gradient needs no UnsortedSegmentSum, which wasm lacks.
    const table = tf.slice(params['wpe.weight'], [offset, 0], [seqLen, shape.dModel]);
    return tf.add(tokenEmbeddings, table);
  },
} satisfies PositionalEncoding<OptionValues<typeof randomPositionOptions>>;
