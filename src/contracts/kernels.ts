/**
 * Our own kernels' contract (tfjs has no such kernels): the names and attributes the model calls and a backend
 * may implement, falling back to composed tfjs ops where it does not (today torch implements them all).
 * Plain names and types, so that src/models and src/backends need not import each other.
 *
 * Fused kernels (src/models/fused.ts calls them; src/backends/torch/fused/ implements them), inputs → outputs,
 * float32 unless said:
 *   ArithLayerNorm        {x [..., D], gain [D], bias [D]}, attrs {epsilon} → [y, mean, rstd] (mean/rstd opaque)
 *   ArithLayerNormGrad    {dy, x, mean, rstd, gain, bias} → [dx, dgain, dbias]
 *   ArithLinear           {x [..., in], weight [in, out], bias [out] (optional)} → [x weight + bias]
 *   ArithLinearGrad       {dy, x, weight}, attrs {hasBias} → [dx, dweight, dbias (with a bias)]
 *   ArithGelu             {x} → [GELU tanh approximation of x];  ArithGeluGrad {dy, x} → [dx]
 *   ArithAttention        {q [B,H,T,d], k [B,H,S,d], v [B,H,S,d], bias (broadcasts to [B,H,T,S])}, attrs {scale}
 *                         → [softmax(q kᵀ scale + bias) v, pattern [B,H,T,S]]
 *   ArithAttentionGrad    {dy, q, k, v, pattern}, attrs {scale} → [dq, dk, dv]
 *   ArithQkvAttention     {qkv [B,T,3·H·d] (q, k, v side by side, head h at columns h·d.. of each), bias (broadcasts
 *                         to [B,H,T,T])}, attrs {heads, scale} → [the heads' outputs side by side [B,T,H·d],
 *                         pattern (opaque)]
 *   ArithQkvAttentionGrad {dy [B,T,H·d], qkv, pattern}, attrs {heads, scale, biasShape?} → [dqkv], and with
 *                         biasShape (a learned bias's) [dqkv, dbias]: the logits' gradient summed to that shape
 *   ArithMaskedCrossEntropy      {logits [B,T,V], targets [B,T] int32, mask [B,T]} → [loss [], logProbabilities]
 *   ArithMaskedCrossEntropyGrad  {dy [], logProbabilities, targets, mask} → [dlogits]
 *   ArithGlobalNorm       {g0..}, attrs {count} → [sqrt(Σ sum(gᵢ²)) []]
 *   ArithScaleAll         {g0..}, attrs {count, scale} → [gᵢ · scale ..]
 *   ArithAdamW            {p0.., g0.., m0.., v0..}, attrs {count, lr, beta1, beta2, epsilon, weightDecay,
 *                         correction1, correction2, decay: number[] (1 where the parameter decays)} → []
 *                         updates p, m, v in place: same data ids, new values.
 */
export const FUSED_KERNELS = {
  layerNorm: 'ArithLayerNorm',
  layerNormGrad: 'ArithLayerNormGrad',
  linear: 'ArithLinear',
  linearGrad: 'ArithLinearGrad',
  gelu: 'ArithGelu',
  geluGrad: 'ArithGeluGrad',
  attention: 'ArithAttention',
  attentionGrad: 'ArithAttentionGrad',
  qkvAttention: 'ArithQkvAttention',
  qkvAttentionGrad: 'ArithQkvAttentionGrad',
  maskedCrossEntropy: 'ArithMaskedCrossEntropy',
  maskedCrossEntropyGrad: 'ArithMaskedCrossEntropyGrad',
  globalNorm: 'ArithGlobalNorm',
  scaleAll: 'ArithScaleAll',
  adamW: 'ArithAdamW',
} as const;

export interface LayerNormAttrs {
  epsilon: number;
}

export interface LinearGradAttrs {
  hasBias: boolean;
}

/** ArithAttention and ArithAttentionGrad. */
export interface AttentionAttrs {
  scale: number;
}

/** ArithQkvAttention and ArithQkvAttentionGrad. */
export interface QkvAttentionAttrs extends AttentionAttrs {
  heads: number;
  /** ArithQkvAttentionGrad: the shape of a learned bias, whose gradient it then returns too. */
  biasShape?: number[];
}

/** Kernels over a list of tensors named g0, g1, ... (ArithGlobalNorm). */
export interface TensorListAttrs {
  count: number;
}

export interface ScaleAllAttrs extends TensorListAttrs {
  scale: number;
}

/** One AdamW step's hyperparameters, with the bias corrections 1 - betaᵢ^step already computed. */
export interface AdamWStep {
  lr: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  correction1: number;
  correction2: number;
}

/** ArithAdamW: the step, the parameter count and which parameters decay (1) or not (0). */
export interface AdamWAttrs extends AdamWStep, TensorListAttrs {
  decay: number[];
}

/**
 * Uniform [0, 1) noise drawn on the device (src/models/ops.ts's uniformNoise; torch: kernels/creation.ts):
 * no inputs, attrs {shape, seed} → [noise of that shape].
 */
export const RANDOM_UNIFORM = 'ArithRandomUniform';

export interface RandomUniformAttrs {
  shape: number[];
  seed: number;
}
