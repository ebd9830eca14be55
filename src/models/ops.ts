import * as tf from '@tensorflow/tfjs';
import { RANDOM_UNIFORM, type RandomUniformAttrs } from '../contracts/kernels.ts';
import { fusedAttention, fusedGelu, fusedLayerNorm, fusedLinear, fusedQkvAttention, useFused } from './fused.ts';

/**
 * Integers clipped to [low, high]. tfjs-backend-wasm's ClipByValue treats int32 data as float32 (measured:
 * [-15, -3, 0, 4, 12] clipped to [-10, 10] came back as [-1054867456, -1054867456, 0, 4, 12]), so the bounds go
 * through minimum and maximum, which keep the dtype on every backend.
 */
export function clipInt(x: tf.Tensor, low: number, high: number): tf.Tensor {
  return tf.maximum(tf.minimum(x, tf.scalar(high, 'int32')), tf.scalar(low, 'int32'));
}

/** Swaps the last two axes with an explicit permutation (works for rank 2, 3 and 4). */
export function transposeLast2(x: tf.Tensor): tf.Tensor {
  const rank = x.rank;
  const perm = [...Array(rank).keys()];
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return tf.transpose(x, perm);
}

/**
 * Matrix product whose gradient transposes explicitly instead of passing transpose flags to matMul.
 * On wasm a flagged matMul is ~10x slower than transpose-then-matMul, and tfjs's own matMul gradient uses
 * the flags; this cut a training step 3-5x there (measured; bench/bench.ts --backends wasm times a step).
 */
export const matmul = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  // The gradient below does not sum over broadcast batch axes, so operands must have equal rank.
  if (a.rank !== b.rank) throw new Error(`matmul needs operands of equal rank, got ${a.rank} and ${b.rank}`);
  save([a, b]);
  return {
    value: tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved;
      return [
        tf.matMul(dy as tf.Tensor2D, transposeLast2(sb) as tf.Tensor2D),
        tf.matMul(transposeLast2(sa) as tf.Tensor2D, dy as tf.Tensor2D),
      ];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/** x[..., in] @ w[in, out] (+ bias), flattening leading axes so the product is one 2-D matmul. */
export function linear(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  if (useFused('linear')) return fusedLinear(x, weight, bias);
  const shape = x.shape;
  const inner = shape[shape.length - 1] as number;
  const flat = x.reshape([-1, inner]);
  let y = matmul(flat, weight);
  if (bias) y = tf.add(y, bias);
  return y.reshape([...shape.slice(0, -1), weight.shape[1] as number]);
}

/**
 * Token embedding as oneHot(ids) @ W. wasm has no UnsortedSegmentSum kernel, so the gradient of tf.gather
 * cannot run there; the one-hot product trains on every backend and costs little with a small vocabulary.
 */
export function embed(ids: tf.Tensor, table: tf.Tensor): tf.Tensor {
  const vocab = table.shape[0] as number;
  const width = table.shape[1] as number;
  const oneHot = tf.oneHot(ids.reshape([-1]) as tf.Tensor1D, vocab);
  return matmul(oneHot, table).reshape([...ids.shape, width]);
}

/**
 * Rows `rows` of x [..., d] as [1, N, d] (rows index the flattened leading axes). tf.gather's gradient needs
 * UnsortedSegmentSum, which wasm lacks; there the rows are picked by a one-hot product, exact in float32.
 */
export function takeRows(x: tf.Tensor, rows: tf.Tensor1D): tf.Tensor3D {
  const width = x.shape[x.rank - 1] as number;
  const flat = x.reshape([-1, width]);
  const taken =
    tf.getKernel('UnsortedSegmentSum', tf.getBackend()) !== undefined
      ? tf.gather(flat, rows)
      : matmul(tf.oneHot(rows, flat.shape[0] as number), flat);
  return taken.reshape([1, rows.shape[0], width]);
}

export function layerNorm(x: tf.Tensor, gain: tf.Tensor, bias: tf.Tensor, epsilon = 1e-5): tf.Tensor {
  if (useFused('layernorm')) return fusedLayerNorm(x, gain, bias, epsilon);
  const axis = x.rank - 1;
  const { mean, variance } = tf.moments(x, axis, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, epsilon))), gain), bias);
}

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

/**
 * GELU, tanh approximation (GPT-2's `gelu_new`), with a hand-written gradient. Composed from primitives, the
 * autodiff tape kept ~8 intermediates of the MLP's width per layer; the 6-layer d_model 384 model then ran
 * out of wasm memory (4 GiB) in one step. This keeps only x.
 */
const composedGelu = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  const value = tf.tidy(() => {
    const inner = tf.mul(GELU_C, tf.add(x, tf.mul(GELU_A, tf.mul(tf.mul(x, x), x))));
    return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
  });
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx] = saved;
      const square = tf.mul(sx, sx);
      const t = tf.tanh(tf.mul(GELU_C, tf.add(sx, tf.mul(GELU_A, tf.mul(square, sx)))));
      // d/dx 0.5 x (1 + t) = 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 a x^2)
      const slope = tf.mul(GELU_C, tf.add(1, tf.mul(3 * GELU_A, square)));
      const derivative = tf.add(tf.mul(0.5, tf.add(1, t)), tf.mul(tf.mul(0.5, sx), tf.mul(tf.sub(1, tf.mul(t, t)), slope)));
      return [tf.mul(dy, derivative)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor;

/** The backend's fused GELU kernel where it has one (fused.ts), else the composition above. */
export const gelu = (x: tf.Tensor): tf.Tensor => (useFused('gelu') ? fusedGelu(x) : composedGelu(x));

export interface AttentionOptions {
  /** Sees the attention pattern [B, H, T, S] (activation hooks). */
  onPattern?: (pattern: tf.Tensor) => void;
  /** Dropout on the pattern (training with dropout > 0). */
  dropPattern?: (pattern: tf.Tensor) => tf.Tensor;
  /** The bias holds parameters (T5, FIRE): its gradient is needed, on the fused path too. */
  learnedBias?: boolean;
}

/**
 * softmax(q kᵀ / sqrt(dHead) + bias) v for per-head queries [B, H, T, dHead] and keys, values [B, H, S, dHead];
 * the bias (causal mask, ALiBi) broadcasts to [B, H, T, S]. A hook on the pattern or dropout on it takes the
 * composed path, where the pattern exists as a tensor.
 */
export function attention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, bias: tf.Tensor, options: AttentionOptions = {}): tf.Tensor {
  const scale = 1 / Math.sqrt(q.shape[q.rank - 1] as number);
  if (!options.onPattern && !options.dropPattern && useFused('attention')) {
    return fusedAttention(q, k, v, bias, scale, options.learnedBias ?? false);
  }
  const logits = tf.add(tf.mul(matmul(q, transposeLast2(k)), scale), bias);
  const pattern = tf.softmax(logits);
  options.onPattern?.(pattern);
  return matmul(options.dropPattern ? options.dropPattern(pattern) : pattern, v);
}

/**
 * Attention straight from c_attn's output, q, k and v side by side [B, T, 3·D], to the heads' outputs side by
 * side [B, T, D], where the backend has that kernel and nothing needs the pattern on its own (a hook, dropout):
 * one kernel each way instead of a split, four transposes and their gradients (and, for a learned bias, the
 * five ops of its gradient). Null otherwise: the caller splits the heads and calls attention().
 */
export function qkvAttention(qkv: tf.Tensor, bias: tf.Tensor, heads: number, options: AttentionOptions = {}): tf.Tensor | null {
  if (options.onPattern || options.dropPattern || !useFused('qkv-attention')) return null;
  const dHead = (qkv.shape[2] as number) / (3 * heads);
  return fusedQkvAttention(qkv, bias, heads, 1 / Math.sqrt(dHead), options.learnedBias ?? false);
}

/**
 * Uniform [0, 1) noise from a seed. tfjs draws it in JavaScript and uploads it; a backend with its own
 * ArithRandomUniform kernel (torch) draws it on the device, from its own random stream, so dropout masks
 * differ between such a backend and the others (each is reproducible per seed).
 */
function uniformNoise(shape: number[], seed: number): tf.Tensor {
  if (tf.getKernel(RANDOM_UNIFORM, tf.getBackend())) {
    return tf.engine().runKernel(RANDOM_UNIFORM, {}, { shape, seed } satisfies RandomUniformAttrs) as tf.Tensor;
  }
  return tf.randomUniform(shape, 0, 1, 'float32', seed);
}

/** Inverted dropout with an explicit seed, so a run's loss curve is reproducible. */
export function dropout(x: tf.Tensor, rate: number, seed: number): tf.Tensor {
  if (rate <= 0) return x;
  const keep = tf.cast(tf.greaterEqual(uniformNoise(x.shape, seed), rate), 'float32');
  return tf.mul(x, tf.div(keep, 1 - rate));
}
