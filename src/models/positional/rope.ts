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
 * Kazemnejad'23 rotated 25% of each head. Then q·k depends only on the offset between positions. This is the
 * per-head form, x [B, H, T, dHead]; the model rotates inside c_attn's output with rotateQkv, the same products.
 */
export function applyRotary(x: tf.Tensor, positions: tf.Tensor1D | tf.Tensor2D, rotary: number, base: number): tf.Tensor {
  if (rotary === 0) return x;
  // [T] positions are every row's; [B, T] ids are per sequence, broadcast over the heads of [B, H, T, dHead].
  const angles = rotaryAngles(positions, rotary, base);
  const perRow = positions.rank === 1 ? angles : angles.expandDims(1);
  return rotatePairs(x, tf.cos(perRow), tf.sin(perRow), rotary);
}

/**
 * applyRotary on q and k where the c_attn projection writes them, [B, T, 3·heads·dHead] (q, k, v side by side,
 * head h at columns h·dHead.. of each), v passed through: the same products in the same order as rotating the
 * split heads, without splitting them, so the attention can still start from the projection (ops.qkvAttention).
 */
export function rotateQkv(qkv: tf.Tensor, heads: number, positions: tf.Tensor1D | tf.Tensor2D, rotary: number, base: number): tf.Tensor {
  if (rotary === 0) return qkv;
  const [batch, seqLen, width] = qkv.shape;
  const dHead = width / (3 * heads);
  const parts = qkv.reshape([batch, seqLen, 3, heads, dHead]);
  const qk = tf.slice(parts, [0, 0, 0, 0, 0], [batch, seqLen, 2, heads, dHead]);
  const v = tf.slice(parts, [0, 0, 2, 0, 0], [batch, seqLen, 1, heads, dHead]);
  // Per token [T, half] (or per sequence and token [B, T, half]), broadcast over q|k and the heads.
  const angles = rotaryAngles(positions, rotary, base);
  const perToken = angles.reshape(positions.rank === 1 ? [seqLen, 1, 1, rotary / 2] : [batch, seqLen, 1, 1, rotary / 2]);
  return tf.concat([rotatePairs(qk, tf.cos(perToken), tf.sin(perToken), rotary), v], 2).reshape([batch, seqLen, width]);
}

/** The angles p * base^(-2i/r), i < r/2: [T, r/2] from positions [T], [B, T, r/2] from ids [B, T]. */
function rotaryAngles(positions: tf.Tensor1D | tf.Tensor2D, rotary: number, base: number): tf.Tensor {
  const half = rotary / 2;
  const inverseFrequencies = tf.tensor1d(Array.from({ length: half }, (_, i) => Math.pow(base, (-2 * i) / rotary)));
  const p = tf.cast(positions, 'float32');
  return positions.rank === 1
    ? tf.mul(p.reshape([-1, 1]), inverseFrequencies.reshape([1, half]))
    : tf.mul(p.expandDims(2), inverseFrequencies.reshape([1, 1, half]));
}

/** The last axis's first `rotary` entries rotated in pairs (i, i + rotary/2) by cos and sin (broadcast to a half), the rest passed through. */
function rotatePairs(x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor, rotary: number): tf.Tensor {
  const dHead = x.shape[x.rank - 1];
  const half = rotary / 2;
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
  rotate(qkv, { positions: sequential, positionIds, shape, options }) {
    const rotary = rotaryDims(shape.dModel / shape.heads, options.ropeFraction);
    return rotateQkv(qkv, shape.heads, positionIds ?? sequential, rotary, options.ropeBase);
  },
} satisfies PositionalEncoding<OptionValues<typeof ropeOptions>>;
