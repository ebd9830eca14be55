import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { OptionValues, PositionalEncoding } from './positional.ts';
import { randomPositionOptions } from './randomPositions.ts';

/** Number of leading head dimensions RoPE rotates: `fraction` of dHead, rounded down to an even count. */
export function rotaryDims(dHead: number, fraction: number): number {
  return 2 * Math.floor((dHead * fraction) / 2);
}

/**
 * Rotates q and k by angle p * base^(-2i/r) for i < r/2, pairing dimension i with i + r/2 (the "two halves"
 * convention of GPT-NeoX), where r = rotaryDims(dHead, fraction). The remaining dimensions pass through;
 * Kazemnejad'23 rotated 25% of each head. Then q·k depends only on the offset between positions.
 */
export function applyRotary(x: tf.Tensor, positions: tf.Tensor1D | tf.Tensor2D, rotary: number, base: number): tf.Tensor {
  const dHead = x.shape[x.rank - 1];
  if (rotary === 0) return x;
  const half = rotary / 2;
  const inverseFrequencies = tf.tensor1d(Array.from({ length: half }, (_, i) => Math.pow(base, (-2 * i) / rotary)));
  // [T] positions are every row's; [B, T] ids are per sequence, broadcast over the heads of [B, H, T, dHead].
  const angles =
    positions.rank === 1
      ? tf.mul(tf.cast(positions, 'float32').reshape([-1, 1]), inverseFrequencies.reshape([1, half]))
      : tf.mul(tf.cast(positions, 'float32').expandDims(2), inverseFrequencies.reshape([1, 1, half])).expandDims(1);
  const cos = tf.cos(angles);
  const sin = tf.sin(angles);
  const lead = x.shape.slice(0, -1);
  const first = tf.slice(x, [...lead.map(() => 0), 0], [...lead, half]);
  const second = tf.slice(x, [...lead.map(() => 0), half], [...lead, half]);
  const rotated = [tf.sub(tf.mul(first, cos), tf.mul(second, sin)), tf.add(tf.mul(second, cos), tf.mul(first, sin))];
  if (rotary < dHead) rotated.push(tf.slice(x, [...lead.map(() => 0), rotary], [...lead, dHead - rotary]));
  return tf.concat(rotated, x.rank - 1);
}

const ropeOptions = {
  ...randomPositionOptions,
  ropeFraction: z.number().gt(0).max(1).default(1).describe('fraction of each head RoPE rotates (Kazemnejad: 0.25)'),
  ropeBase: z.number().positive().default(10000).describe('RoPE frequency base'),
};

export const rope = {
  name: 'rope',
  description: 'rotary embedding of queries and keys (model.rope_fraction of each head, base model.rope_base)',
  extrapolates: true,
  positionIndexed: true,
  options: ropeOptions,
  parameters: () => [],
  rotate(queries, keys, { positions: sequential, positionIds, shape, options }) {
    const positions = positionIds ?? sequential;
    const rotary = rotaryDims(shape.dModel / shape.heads, options.ropeFraction);
    return [applyRotary(queries, positions, rotary, options.ropeBase), applyRotary(keys, positions, rotary, options.ropeBase)];
  },
} satisfies PositionalEncoding<OptionValues<typeof ropeOptions>>;
