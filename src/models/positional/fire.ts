import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { linear } from '../ops.ts';
import type { OptionValues, PositionalEncoding } from './positional.ts';
import { randomPositionOptions } from './randomPositions.ts';
import { headsFirst, relativeDistance } from './relative.ts';

/** Keeps the normalizer's logarithm away from zero, as the reference code does. */
const EPSILON = 1e-6;

const fireOptions = {
  ...randomPositionOptions,
  fireMlpWidth: z.number().int().positive().default(32).describe('FIRE: hidden width of the MLP 1 -> width -> heads'),
  fireC: z.number().positive().default(0.1).describe('FIRE: initial value of the learned log-transform scale c'),
  fireL: z
    .number()
    .positive()
    .default(512)
    .describe('FIRE: threshold L (times the learned L_multiplier) below which the normalizer stops shrinking'),
};

/**
 * FIRE's input for query position i and key position j: psi(|i - j|) / (psi(max(i, |L_multiplier * L|)) + eps)
 * with psi(x) = log(|c x| + 1) (Li et al. 2023). The query's own position normalizes, so the same relative
 * distance maps to smaller values further into a long sequence ("progressive interpolation").
 */
export function fireTransform(
  positions: tf.Tensor,
  keyPositions: tf.Tensor,
  c: tf.Tensor,
  lMultiplier: tf.Tensor,
  threshold: number,
): tf.Tensor {
  const psi = (x: tf.Tensor) => tf.log(tf.add(tf.abs(tf.mul(c, x)), 1));
  const distance = tf.cast(relativeDistance(positions, keyPositions), 'float32');
  const queries = tf.cast(positions, 'float32');
  // The threshold broadcast by a product, not by tf.maximum, whose gradient does not sum over broadcast axes.
  const normalizer = tf.maximum(queries, tf.mul(tf.abs(tf.mul(lMultiplier, threshold)), tf.onesLike(queries)));
  return tf.div(psi(distance), tf.add(psi(normalizer), EPSILON).expandDims(-1));
}

/**
 * FIRE, "Functional Interpolation for Relative Positions" (Li et al. 2023): the attention bias of query i and
 * key j is an MLP 1 -> fire_mlp_width -> heads (ReLU) of fireTransform. Learned: `fire.c` [1] (init fire_c),
 * `fire.L_multiplier` [1] (init 1), and the MLP `fire.mlp.fc_in.{weight,bias}` ([1, width], [width]) and
 * `fire.mlp.fc_out.{weight,bias}` ([width, heads], [heads]), weights stored [in, out], initialized as PyTorch's
 * nn.Linear. One module for all layers. Follows the FIRE class of McLeish et al.'s code
 * (github.com/mcleish7/arithmetic, cramming/architectures/embeddings.py). Position-indexed: randomized positions
 * (model.random_positions) give each sequence its own i and j.
 */
export const fire = {
  name: 'fire',
  description: 'functional relative bias: an MLP of log(c|i-j|+1) / log(c max(i, L)+1) per head (Li et al. 2023)',
  extrapolates: true,
  learnedBias: true,
  positionIndexed: true,
  options: fireOptions,
  parameters: (shape, options) => {
    const width = options.fireMlpWidth;
    return [
      { name: 'fire.c', shape: [1], init: { constant: options.fireC } },
      { name: 'fire.L_multiplier', shape: [1], init: 'ones' },
      { name: 'fire.mlp.fc_in.weight', shape: [1, width], init: { uniform: 1 } },
      { name: 'fire.mlp.fc_in.bias', shape: [width], init: { uniform: 1 } },
      { name: 'fire.mlp.fc_out.weight', shape: [width, shape.heads], init: { uniform: 1 / Math.sqrt(width) } },
      { name: 'fire.mlp.fc_out.bias', shape: [shape.heads], init: { uniform: 1 / Math.sqrt(width) } },
    ];
  },
  attentionBias({ positions, keyPositions, positionIds, keyPositionIds, params, options }) {
    // Ids of their own (randomized positions): per sequence, [B, T] and [B, offset + T], a bias per row.
    const queries = positionIds ?? positions;
    const keys = keyPositionIds ?? keyPositions;
    const x = fireTransform(queries, keys, params['fire.c'], params['fire.L_multiplier'], options.fireL).expandDims(-1);
    const hidden = tf.relu(linear(x, params['fire.mlp.fc_in.weight'], params['fire.mlp.fc_in.bias']));
    return headsFirst(linear(hidden, params['fire.mlp.fc_out.weight'], params['fire.mlp.fc_out.bias']));
  },
} satisfies PositionalEncoding<OptionValues<typeof fireOptions>>;
