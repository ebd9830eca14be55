import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { clipInt, embed } from '../ops.ts';
import type { OptionValues, PositionalEncoding } from './positional.ts';
import { randomPositionOptions } from './randomPositions.ts';
import { headsFirst, relativeDistance } from './relative.ts';

/**
 * The bucket of a causal distance n = max(i - j, 0) (Raffel et al. 2020, T5; HF transformers
 * `T5Attention._relative_position_bucket` with bidirectional=False): the first half of the buckets hold the
 * exact distances 0 .. buckets/2 - 1, the other half log-spaced distances up to `maxDistance`, and everything
 * farther shares the last bucket. Computed in float64 here (HF uses float32 logs; the two agree on every
 * distance for the default 32 buckets and 128, the only exact-integer cases being 16 and 128).
 */
export function t5Bucket(distance: number, buckets: number, maxDistance: number): number {
  const n = Math.max(distance, 0);
  const exact = Math.floor(buckets / 2);
  if (n < exact) return n;
  const large = exact + Math.floor((Math.log(n / exact) / Math.log(maxDistance / exact)) * (buckets - exact));
  return Math.min(large, buckets - 1);
}

/**
 * The bidirectional bucket of a distance i - j (HF's bidirectional=True): half the buckets for keys at or before
 * the query (distance >= 0), half for keys after it, each half split as t5Bucket splits all of them. Causal
 * attention never sees a later sequence position, but it does see later ids when the ids are position coupling's
 * (model.attention_ids: roles), where the digits an answer token adds sit at the next id.
 */
export function t5BidirectionalBucket(distance: number, buckets: number, maxDistance: number): number {
  const half = Math.floor(buckets / 2);
  return (distance < 0 ? half : 0) + t5Bucket(Math.abs(distance), half, maxDistance);
}

const t5Options = {
  ...randomPositionOptions,
  t5Buckets: z.number().int().min(2).default(32).describe('T5 relative bias: buckets (half exact distances, half log-spaced)'),
  t5MaxDistance: z.number().int().min(2).default(128).describe('T5 relative bias: distances from here on share the last bucket'),
  t5Scale: z
    .number()
    .positive()
    .default(1)
    .describe('T5 relative bias: the learned table times this (Adam moves an entry about lr a step, the bias scale x lr); 1 is T5'),
  t5Bidirectional: z
    .boolean()
    .default(false)
    .describe('T5 relative bias: separate buckets for keys with larger ids than the query (needed with model.attention_ids: roles)'),
};

/**
 * T5 relative attention bias, decoder (unidirectional) form: a learned scalar per (bucket, head),
 * `t5.relative_attention_bias.weight` [buckets, heads] (the layout of HF's nn.Embedding), added to the
 * logits of query i and key j <= i. One table for all layers: the model computes the bias once per forward
 * pass, as T5 computes it in its first layer and passes it on. Position-indexed: randomized positions
 * (model.random_positions) give each sequence its own distances.
 */
export const t5 = {
  name: 't5',
  description: 'learned relative bias per (log-spaced distance bucket, head), shared by all layers (Raffel et al.)',
  extrapolates: true,
  learnedBias: true,
  positionIndexed: true,
  options: t5Options,
  parameters: (shape, options) => [{ name: 't5.relative_attention_bias.weight', shape: [options.t5Buckets, shape.heads], init: 'normal' }],
  attentionBias({ positions, keyPositions, positionIds, keyPositionIds, params, options }) {
    const { t5Buckets: buckets, t5MaxDistance: maxDistance, t5Bidirectional: bidirectional, t5Scale: scale } = options;
    // Every distance from maxDistance on is in the last bucket (of its side), so a table of the distances
    // -maxDistance..maxDistance (0..maxDistance causal) covers all; the lookup index is distance - lowest.
    const lowest = bidirectional ? -maxDistance : 0;
    const bucketOf = tf.tensor1d(
      Array.from({ length: maxDistance - lowest + 1 }, (_, i) =>
        bidirectional ? t5BidirectionalBucket(i + lowest, buckets, maxDistance) : t5Bucket(i, buckets, maxDistance),
      ),
      'int32',
    );
    // Ids of their own (randomized positions, coupled ids): distances per sequence, [B, T, offset + T], so a bias per row.
    const distance = clipInt(relativeDistance(positionIds ?? positions, keyPositionIds ?? keyPositions), lowest, maxDistance);
    const bucket = tf.gather(bucketOf, lowest === 0 ? distance : tf.sub(distance, tf.scalar(lowest, 'int32')));
    // The lookup as a one-hot product (ops.embed): its gradient runs on wasm, which has no gather gradient.
    const bias = headsFirst(embed(bucket, params['t5.relative_attention_bias.weight']));
    return scale === 1 ? bias : tf.mul(bias, scale);
  },
} satisfies PositionalEncoding<OptionValues<typeof t5Options>>;
