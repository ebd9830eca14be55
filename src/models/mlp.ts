import * as tf from '@tensorflow/tfjs';
import { gelu, linear } from './ops.ts';

/**
 * The block's MLP, `d_model -> d_ff -> d_model`. `gelu`: GPT-2's, gelu(x W_fc + b_fc). The gated variants multiply
 * two projections of the same input (Shazeer 2020, "GLU Variants Improve Transformer"): `geglu` gelu(x W_gate +
 * b_gate) ⊙ (x W_fc + b_fc), as in T5 v1.1 and Cho et al. 2024's position-coupling models; `swiglu` the same with
 * SiLU (LLaMA); `bilinear` with no activation at all, so each hidden unit is a product of two linear forms of the
 * input (Pearce et al. 2024) — the shape of a partial product a_i·b_j.
 */
export const MLP_KINDS = ['gelu', 'geglu', 'swiglu', 'bilinear'] as const;
export type MlpKind = (typeof MLP_KINDS)[number];

/** One kind for every block, or one per block in order (`[bilinear, gelu]`: block 1 bilinear, block 2 GELU). */
export type MlpSetting = MlpKind | readonly MlpKind[];

/** The MLP of block `index` (0-based); absent: gelu. */
export const blockMlp = (setting: MlpSetting | undefined, index: number): MlpKind =>
  setting === undefined ? 'gelu' : typeof setting === 'string' ? setting : setting[index];

/** One MLP width d_ff for every block, or one per block in order (`[256, 512]`: block 2 twice as wide). */
export type MlpWidth = number | readonly number[];

/** The MLP width of block `index` (0-based). */
export const blockWidth = (width: MlpWidth, index: number): number => (typeof width === 'number' ? width : width[index]);

/** The widths of all `layers` blocks summed: what per-token activations and FLOPs scale with. */
export const totalWidth = (width: MlpWidth, layers: number): number =>
  typeof width === 'number' ? width * layers : width.reduce((sum, w) => sum + w, 0);

/** The widest block's MLP. */
export const widestWidth = (width: MlpWidth): number => (typeof width === 'number' ? width : Math.max(...width));

/** Whether the MLP has the second projection `mlp.c_gate.*` [d_model, d_ff]. */
export const isGated = (kind: MlpKind): boolean => kind !== 'gelu';

/** The hidden activations [..., d_ff] of the MLP whose parameters are `${prefix}.c_fc.*` (and `.c_gate.*`). */
export function mlpHidden(kind: MlpKind, x: tf.Tensor, params: Record<string, tf.Tensor>, prefix: string): tf.Tensor {
  const up = linear(x, params[`${prefix}.c_fc.weight`], params[`${prefix}.c_fc.bias`]);
  if (kind === 'gelu') return gelu(up);
  const gate = linear(x, params[`${prefix}.c_gate.weight`], params[`${prefix}.c_gate.bias`]);
  if (kind === 'geglu') return tf.mul(gelu(gate), up);
  if (kind === 'swiglu') return tf.mul(tf.mul(gate, tf.sigmoid(gate)), up);
  return tf.mul(gate, up);
}
