import * as tf from '@tensorflow/tfjs';
import {
  FUSED_KERNELS,
  type AdamWAttrs,
  type AdamWStep,
  type AttentionAttrs,
  type LayerNormAttrs,
  type LinearGradAttrs,
  type QkvAttentionAttrs,
  type ScaleAllAttrs,
  type TensorListAttrs,
} from '../contracts/kernels.ts';

/**
 * Fused operations: one backend kernel where the composed tfjs version runs many (layer norm ~10 kernels
 * forward and ~20 backward, attention ~8 + ~15, the AdamW step ~13 per parameter). A backend that registers
 * the kernels named in src/contracts/kernels.ts gets the fused path (today: `torch`,
 * src/backends/torch/fused/); every other backend runs the composed ops in ops.ts, loss.ts and adamw.ts,
 * unchanged to the bit. Each op function there starts with `if (useFused(...))` and otherwise reads as before.
 *
 * Gradients: the forward kernel returns what its gradient needs besides its inputs (layer norm's mean and
 * reciprocal deviation, attention's pattern, cross-entropy's log-probabilities); tf.customGrad saves those and
 * returns the one visible output, so the tape never asks for the gradient of a helper output (tfjs would
 * upload a zero tensor from the host for each) and the gradient runs one ...Grad kernel.
 */
export const FUSIONS = ['linear', 'layernorm', 'gelu', 'attention', 'qkv-attention', 'cross-entropy', 'grad-norm', 'adamw'] as const;
export type Fusion = (typeof FUSIONS)[number];

/** The forward kernel each fusion needs; a backend registers a fusion's kernels together. */
const KERNELS: Record<Fusion, string> = {
  linear: FUSED_KERNELS.linear,
  layernorm: FUSED_KERNELS.layerNorm,
  gelu: FUSED_KERNELS.gelu,
  attention: FUSED_KERNELS.attention,
  'qkv-attention': FUSED_KERNELS.qkvAttention,
  'cross-entropy': FUSED_KERNELS.maskedCrossEntropy,
  'grad-norm': FUSED_KERNELS.globalNorm,
  adamw: FUSED_KERNELS.adamW,
};

/** 'all', 'none', a list of FUSIONS (',' or '+' between), or 'no-X' for all but X (to measure what X buys). */
export function parseFusions(spec: string): Set<Fusion> {
  const trimmed = spec.trim();
  if (trimmed === '' || trimmed === 'all') return new Set(FUSIONS);
  if (trimmed === 'none') return new Set();
  const check = (name: string) => {
    if (!(FUSIONS as readonly string[]).includes(name)) {
      throw new Error(`unknown fusion "${name}" (expected all, none, no-<fusion> or some of ${FUSIONS.join(', ')})`);
    }
    return name as Fusion;
  };
  if (trimmed.startsWith('no-')) {
    const left = check(trimmed.slice(3));
    return new Set(FUSIONS.filter((name) => name !== left));
  }
  return new Set(trimmed.split(/[,+]/).map((name) => check(name.trim())));
}

// ARITH_FUSED turns fusions off to measure what each buys (bench/bench.ts --fusions) or to bisect a difference.
let enabled = parseFusions(process.env.ARITH_FUSED ?? 'all');

export function setFusions(fusions: Iterable<Fusion> | 'all' | 'none'): void {
  enabled = typeof fusions === 'string' ? parseFusions(fusions) : new Set(fusions);
}

export function enabledFusions(): Fusion[] {
  return FUSIONS.filter((name) => enabled.has(name));
}

/** The fusions whose kernels a backend registers (all or none today). */
export function availableFusions(backend = tf.getBackend()): Fusion[] {
  return FUSIONS.filter((name) => tf.getKernel(KERNELS[name], backend) !== undefined);
}

/** Whether the fused kernel runs: enabled, and registered for the active backend. */
export function useFused(fusion: Fusion): boolean {
  return enabled.has(fusion) && tf.getKernel(KERNELS[fusion], tf.getBackend()) !== undefined;
}

const run = (kernel: string, inputs: tf.NamedTensorMap, attrs: Record<string, unknown> = {}) =>
  tf.engine().runKernel(kernel, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
const runMany = (kernel: string, inputs: tf.NamedTensorMap, attrs: Record<string, unknown> = {}) =>
  run(kernel, inputs, attrs) as tf.Tensor[];

type Save = tf.GradSaveFunc;

export const fusedLayerNorm = (x: tf.Tensor, gain: tf.Tensor, bias: tf.Tensor, epsilon: number): tf.Tensor =>
  tf.customGrad(((x: tf.Tensor, gain: tf.Tensor, bias: tf.Tensor, save: Save) => {
    const [y, mean, rstd] = runMany(FUSED_KERNELS.layerNorm, { x, gain, bias }, { epsilon } satisfies LayerNormAttrs);
    save([x, mean, rstd, gain, bias]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, [sx, sMean, sRstd, sGain, sBias]: tf.Tensor[]) =>
        runMany(FUSED_KERNELS.layerNormGrad, { dy, x: sx, mean: sMean, rstd: sRstd, gain: sGain, bias: sBias }),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0])(x, gain, bias) as tf.Tensor;

const linearWithBias = tf.customGrad(((x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, save: Save) => {
  save([x, weight]);
  return {
    value: run(FUSED_KERNELS.linear, { x, weight, bias }) as tf.Tensor,
    gradFunc: (dy: tf.Tensor, [sx, sWeight]: tf.Tensor[]) =>
      runMany(FUSED_KERNELS.linearGrad, { dy, x: sx, weight: sWeight }, { hasBias: true } satisfies LinearGradAttrs),
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor) => tf.Tensor;

const linearWithoutBias = tf.customGrad(((x: tf.Tensor, weight: tf.Tensor, save: Save) => {
  save([x, weight]);
  return {
    value: run(FUSED_KERNELS.linear, { x, weight }) as tf.Tensor,
    gradFunc: (dy: tf.Tensor, [sx, sWeight]: tf.Tensor[]) =>
      runMany(FUSED_KERNELS.linearGrad, { dy, x: sx, weight: sWeight }, { hasBias: false } satisfies LinearGradAttrs),
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor, weight: tf.Tensor) => tf.Tensor;

export const fusedLinear = (x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor =>
  bias ? linearWithBias(x, weight, bias) : linearWithoutBias(x, weight);

export const fusedGelu = tf.customGrad(((x: tf.Tensor, save: Save) => {
  save([x]);
  return {
    value: run(FUSED_KERNELS.gelu, { x }) as tf.Tensor,
    gradFunc: (dy: tf.Tensor, [sx]: tf.Tensor[]) => run(FUSED_KERNELS.geluGrad, { dy, x: sx }) as tf.Tensor,
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor;

/**
 * softmax(q kᵀ · scale + bias) v. A constant bias (causal mask, ALiBi) is closed over, not an input of the
 * gradient, so no gradient is computed for it. A learned one (`learnedBias`: T5, FIRE) is an input, and its
 * gradient is the gradient of the logits, from the saved pattern: P ⊙ (dP − rowsum(dP ⊙ P)) with dP = dy vᵀ,
 * summed over the axes the bias was broadcast along.
 */
export function fusedAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, bias: tf.Tensor, scale: number, learnedBias = false): tf.Tensor {
  const forward = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, bias: tf.Tensor, save: Save) => {
    const [output, pattern] = runMany(FUSED_KERNELS.attention, { q, k, v, bias }, { scale } satisfies AttentionAttrs);
    save([q, k, v, pattern]);
    return {
      value: output,
      gradFunc: (dy: tf.Tensor, [sq, sk, sv, sPattern]: tf.Tensor[]) => {
        const grads = runMany(FUSED_KERNELS.attentionGrad, { dy, q: sq, k: sk, v: sv, pattern: sPattern }, {
          scale,
        } satisfies AttentionAttrs);
        if (!learnedBias) return grads;
        const dPattern = tf.matMul(dy, sv, false, true);
        const dLogits = tf.mul(sPattern, tf.sub(dPattern, tf.sum(tf.mul(dPattern, sPattern), -1, true)));
        return [...grads, sumToShape(dLogits, bias.shape)];
      },
    };
  };
  if (learnedBias) {
    return tf.customGrad(((q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, bias: tf.Tensor, save: Save) =>
      forward(q, k, v, bias, save)) as unknown as Parameters<typeof tf.customGrad>[0])(q, k, v, bias) as tf.Tensor;
  }
  return tf.customGrad(((q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, save: Save) => forward(q, k, v, bias, save)) as unknown as Parameters<
    typeof tf.customGrad
  >[0])(q, k, v) as tf.Tensor;
}

/**
 * Attention from the q|k|v projection [B, T, 3·D] (c_attn's output) to the heads' outputs side by side
 * [B, T, D]: what splitting qkv, moving the heads forward, fusedAttention and moving them back compute, in one
 * kernel each way; its pattern never reaches JavaScript. A constant bias is closed over; a learned one
 * (`learnedBias`) is an input, and the gradient kernel also returns its gradient, summed to its shape.
 */
export function fusedQkvAttention(qkv: tf.Tensor, bias: tf.Tensor, heads: number, scale: number, learnedBias = false): tf.Tensor {
  const attrs = { heads, scale } satisfies QkvAttentionAttrs;
  const forward = (qkv: tf.Tensor, bias: tf.Tensor, save: Save) => {
    const [output, pattern] = runMany(FUSED_KERNELS.qkvAttention, { qkv, bias }, attrs);
    save([qkv, pattern]);
    const gradAttrs = learnedBias ? { ...attrs, biasShape: bias.shape } : attrs;
    return {
      value: output,
      gradFunc: (dy: tf.Tensor, [sQkv, sPattern]: tf.Tensor[]) =>
        run(FUSED_KERNELS.qkvAttentionGrad, { dy, qkv: sQkv, pattern: sPattern }, gradAttrs),
    };
  };
  if (learnedBias) {
    return tf.customGrad(((qkv: tf.Tensor, bias: tf.Tensor, save: Save) => forward(qkv, bias, save)) as unknown as Parameters<
      typeof tf.customGrad
    >[0])(qkv, bias) as tf.Tensor;
  }
  return tf.customGrad(((qkv: tf.Tensor, save: Save) => forward(qkv, bias, save)) as unknown as Parameters<typeof tf.customGrad>[0])(
    qkv,
  ) as tf.Tensor;
}

/** Sums a gradient over the axes its input was broadcast along, back to the input's shape. */
function sumToShape(gradient: tf.Tensor, shape: number[]): tf.Tensor {
  const lead = gradient.rank - shape.length;
  const axes = gradient.shape
    .map((_, axis) => axis)
    .filter((axis) => axis < lead || (shape[axis - lead] === 1 && gradient.shape[axis] !== 1));
  return (axes.length ? tf.sum(gradient, axes, true) : gradient).reshape(shape);
}

/** Targets and mask are data, not inputs of the gradient: it flows to the logits only. */
export function fusedMaskedCrossEntropy(logits: tf.Tensor, targets: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  return tf.customGrad(((logits: tf.Tensor, save: Save) => {
    const [loss, logProbabilities] = runMany(FUSED_KERNELS.maskedCrossEntropy, { logits, targets, mask });
    // Saved (not only closed over): a caller may create them inside the differentiated function.
    save([logProbabilities, targets, mask]);
    return {
      value: loss,
      gradFunc: (dy: tf.Tensor, [sLogProbabilities, sTargets, sMask]: tf.Tensor[]) =>
        run(FUSED_KERNELS.maskedCrossEntropyGrad, { dy, logProbabilities: sLogProbabilities, targets: sTargets, mask: sMask }) as tf.Tensor,
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0])(logits) as tf.Scalar;
}

const listInputs = (tensors: tf.Tensor[]): tf.NamedTensorMap => Object.fromEntries(tensors.map((t, i) => [`g${i}`, t]));

/** Global L2 norm of all gradients in one kernel (not differentiated). */
export function fusedGlobalNorm(grads: tf.Tensor[]): tf.Scalar {
  return run(FUSED_KERNELS.globalNorm, listInputs(grads), { count: grads.length } satisfies TensorListAttrs) as tf.Scalar;
}

/** Every gradient times `scale`, in one kernel. */
export function fusedScaleAll(grads: tf.Tensor[], scale: number): tf.Tensor[] {
  return runMany(FUSED_KERNELS.scaleAll, listInputs(grads), { count: grads.length, scale } satisfies ScaleAllAttrs);
}

/** One kernel call updates every parameter and both moments in place (same tensors, new values). */
export function fusedAdamW(
  params: tf.Tensor[],
  grads: tf.Tensor[],
  m: tf.Tensor[],
  v: tf.Tensor[],
  decay: boolean[],
  step: AdamWStep,
): void {
  const inputs: tf.NamedTensorMap = {};
  params.forEach((p, i) => {
    inputs[`p${i}`] = p;
    inputs[`g${i}`] = grads[i];
    inputs[`m${i}`] = m[i];
    inputs[`v${i}`] = v[i];
  });
  run(FUSED_KERNELS.adamW, inputs, { ...step, count: params.length, decay: decay.map(Number) } satisfies AdamWAttrs);
}
