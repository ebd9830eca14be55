import * as tf from '@tensorflow/tfjs';

/**
 * Fused operations: one backend kernel where the composed tfjs version runs many (layer norm ~10 kernels
 * forward and ~20 backward, attention ~8 + ~15, the AdamW step ~13 per parameter). A backend that registers
 * the kernel names below gets the fused path (today: `torch`, src/backends/torch/fused/); every other backend
 * runs the composed ops in ops.ts, loss.ts and adamw.ts, unchanged to the bit. Each op function there starts
 * with `if (useFused(...))` and otherwise reads as before.
 *
 * Gradients: the forward kernel returns what its gradient needs besides its inputs (layer norm's mean and
 * reciprocal deviation, attention's pattern, cross-entropy's log-probabilities); tf.customGrad saves those and
 * returns the one visible output, so the tape never asks for the gradient of a helper output (tfjs would
 * upload a zero tensor from the host for each) and the gradient runs one ...Grad kernel.
 *
 * Kernel contracts (inputs → outputs; float32 unless said):
 *   ArithLayerNorm        {x [..., D], gain [D], bias [D]}, attrs {epsilon} → [y, mean, rstd] (mean/rstd opaque)
 *   ArithLayerNormGrad    {dy, x, mean, rstd, gain, bias} → [dx, dgain, dbias]
 *   ArithLinear           {x [..., in], weight [in, out], bias [out] (optional)} → [x weight + bias]
 *   ArithLinearGrad       {dy, x, weight}, attrs {hasBias} → [dx, dweight, dbias (with a bias)]
 *   ArithGelu             {x} → [GELU tanh approximation of x];  ArithGeluGrad {dy, x} → [dx]
 *   ArithAttention        {q [B,H,T,d], k [B,H,S,d], v [B,H,S,d], bias (broadcasts to [B,H,T,S])}, attrs {scale}
 *                         → [softmax(q kᵀ scale + bias) v, pattern [B,H,T,S]]
 *   ArithAttentionGrad    {dy, q, k, v, pattern}, attrs {scale} → [dq, dk, dv]
 *   ArithMaskedCrossEntropy      {logits [B,T,V], targets [B,T] int32, mask [B,T]} → [loss [], logProbabilities]
 *   ArithMaskedCrossEntropyGrad  {dy [], logProbabilities, targets, mask} → [dlogits]
 *   ArithGlobalNorm       {g0..} → [sqrt(Σ sum(gᵢ²)) []];   ArithScaleAll {g0..}, attrs {scale} → [gᵢ · scale ..]
 *   ArithAdamW            {p0.., g0.., m0.., v0..}, attrs {count, lr, beta1, beta2, epsilon, weightDecay,
 *                         correction1, correction2, decay: number[] (1 where the parameter decays)} → []
 *                         updates p, m, v in place: same data ids, new values.
 */
export const FUSIONS = ['linear', 'layernorm', 'gelu', 'attention', 'cross-entropy', 'grad-norm', 'adamw'] as const;
export type Fusion = (typeof FUSIONS)[number];

const KERNELS: Record<Fusion, string> = {
  linear: 'ArithLinear',
  layernorm: 'ArithLayerNorm',
  gelu: 'ArithGelu',
  attention: 'ArithAttention',
  'cross-entropy': 'ArithMaskedCrossEntropy',
  'grad-norm': 'ArithGlobalNorm',
  adamw: 'ArithAdamW',
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
    const [y, mean, rstd] = runMany('ArithLayerNorm', { x, gain, bias }, { epsilon });
    save([x, mean, rstd, gain, bias]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, [sx, sMean, sRstd, sGain, sBias]: tf.Tensor[]) =>
        runMany('ArithLayerNormGrad', { dy, x: sx, mean: sMean, rstd: sRstd, gain: sGain, bias: sBias }),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0])(x, gain, bias) as tf.Tensor;

const linearWithBias = tf.customGrad(((x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, save: Save) => {
  save([x, weight]);
  return {
    value: run('ArithLinear', { x, weight, bias }) as tf.Tensor,
    gradFunc: (dy: tf.Tensor, [sx, sWeight]: tf.Tensor[]) => runMany('ArithLinearGrad', { dy, x: sx, weight: sWeight }, { hasBias: true }),
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor) => tf.Tensor;

const linearWithoutBias = tf.customGrad(((x: tf.Tensor, weight: tf.Tensor, save: Save) => {
  save([x, weight]);
  return {
    value: run('ArithLinear', { x, weight }) as tf.Tensor,
    gradFunc: (dy: tf.Tensor, [sx, sWeight]: tf.Tensor[]) => runMany('ArithLinearGrad', { dy, x: sx, weight: sWeight }, { hasBias: false }),
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor, weight: tf.Tensor) => tf.Tensor;

export const fusedLinear = (x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor =>
  bias ? linearWithBias(x, weight, bias) : linearWithoutBias(x, weight);

export const fusedGelu = tf.customGrad(((x: tf.Tensor, save: Save) => {
  save([x]);
  return {
    value: run('ArithGelu', { x }) as tf.Tensor,
    gradFunc: (dy: tf.Tensor, [sx]: tf.Tensor[]) => run('ArithGeluGrad', { dy, x: sx }) as tf.Tensor,
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor;

/**
 * softmax(q kᵀ · scale + bias) v. The bias (causal mask, ALiBi) is a constant: it is closed over, not an input
 * of the gradient, so no gradient is computed for it.
 */
export function fusedAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, bias: tf.Tensor, scale: number): tf.Tensor {
  return tf.customGrad(((q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, save: Save) => {
    const [output, pattern] = runMany('ArithAttention', { q, k, v, bias }, { scale });
    save([q, k, v, pattern]);
    return {
      value: output,
      gradFunc: (dy: tf.Tensor, [sq, sk, sv, sPattern]: tf.Tensor[]) =>
        runMany('ArithAttentionGrad', { dy, q: sq, k: sk, v: sv, pattern: sPattern }, { scale }),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0])(q, k, v) as tf.Tensor;
}

/** Targets and mask are data, not inputs of the gradient: it flows to the logits only. */
export function fusedMaskedCrossEntropy(logits: tf.Tensor, targets: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  return tf.customGrad(((logits: tf.Tensor, save: Save) => {
    const [loss, logProbabilities] = runMany('ArithMaskedCrossEntropy', { logits, targets, mask });
    // Saved (not only closed over): a caller may create them inside the differentiated function.
    save([logProbabilities, targets, mask]);
    return {
      value: loss,
      gradFunc: (dy: tf.Tensor, [sLogProbabilities, sTargets, sMask]: tf.Tensor[]) =>
        run('ArithMaskedCrossEntropyGrad', { dy, logProbabilities: sLogProbabilities, targets: sTargets, mask: sMask }) as tf.Tensor,
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0])(logits) as tf.Scalar;
}

const listInputs = (tensors: tf.Tensor[]): tf.NamedTensorMap => Object.fromEntries(tensors.map((t, i) => [`g${i}`, t]));

/** Global L2 norm of all gradients in one kernel (not differentiated). */
export function fusedGlobalNorm(grads: tf.Tensor[]): tf.Scalar {
  return run('ArithGlobalNorm', listInputs(grads), { count: grads.length }) as tf.Scalar;
}

/** Every gradient times `scale`, in one kernel. */
export function fusedScaleAll(grads: tf.Tensor[], scale: number): tf.Tensor[] {
  return runMany('ArithScaleAll', listInputs(grads), { count: grads.length, scale });
}

export interface AdamWStep {
  lr: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  correction1: number;
  correction2: number;
}

/** One kernel call updates every parameter and both moments in place (same tensors, new values). */
export function fusedAdamW(params: tf.Tensor[], grads: tf.Tensor[], m: tf.Tensor[], v: tf.Tensor[], decay: boolean[], step: AdamWStep): void {
  const inputs: tf.NamedTensorMap = {};
  params.forEach((p, i) => {
    inputs[`p${i}`] = p;
    inputs[`g${i}`] = grads[i];
    inputs[`m${i}`] = m[i];
    inputs[`v${i}`] = v[i];
  });
  run('ArithAdamW', inputs, { ...step, count: params.length, decay: decay.map(Number) });
}
