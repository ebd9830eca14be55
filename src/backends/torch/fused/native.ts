import type { Slot } from '../addon.ts';
import type { TorchBackend } from '../backend.ts';

/** The addon's fused functions (native/torch/src/fused_*.cc); several results come back as a list of slots. */
export interface FusedNative {
  fusedLinear(x: Slot, weight: Slot, bias: Slot | null): Slot;
  fusedLinearGrad(dy: Slot, x: Slot, weight: Slot, hasBias: boolean): Slot[];
  fusedLayerNorm(x: Slot, gain: Slot, bias: Slot, epsilon: number): Slot[];
  fusedLayerNormGrad(dy: Slot, x: Slot, mean: Slot, rstd: Slot, gain: Slot, bias: Slot): Slot[];
  fusedGelu(x: Slot): Slot;
  fusedGeluGrad(dy: Slot, x: Slot): Slot;
  fusedAttention(q: Slot, k: Slot, v: Slot, bias: Slot, scale: number): Slot[];
  fusedAttentionGrad(dy: Slot, q: Slot, k: Slot, v: Slot, pattern: Slot, scale: number): Slot[];
  fusedQkvAttention(qkv: Slot, bias: Slot, heads: number, scale: number): Slot[];
  fusedQkvAttentionGrad(dy: Slot, qkv: Slot, pattern: Slot, heads: number, scale: number, biasShape?: number[]): Slot | Slot[];
  fusedMaskedCrossEntropy(logits: Slot, targets: Slot, mask: Slot): Slot[];
  fusedMaskedCrossEntropyGrad(dy: Slot, logProbabilities: Slot, targets: Slot, mask: Slot): Slot;
  fusedGlobalNorm(grads: Slot[]): Slot;
  fusedScaleAll(grads: Slot[], scale: number): Slot[];
  fusedAdamW(
    params: Slot[],
    grads: Slot[],
    m: Slot[],
    v: Slot[],
    decay: number[],
    lr: number,
    beta1: number,
    beta2: number,
    epsilon: number,
    weightDecay: number,
    correction1: number,
    correction2: number,
  ): void;
}

const FUSED_FUNCTIONS: (keyof FusedNative)[] = [
  'fusedLinear',
  'fusedLinearGrad',
  'fusedLayerNorm',
  'fusedLayerNormGrad',
  'fusedGelu',
  'fusedGeluGrad',
  'fusedAttention',
  'fusedAttentionGrad',
  'fusedQkvAttention',
  'fusedQkvAttentionGrad',
  'fusedMaskedCrossEntropy',
  'fusedMaskedCrossEntropyGrad',
  'fusedGlobalNorm',
  'fusedScaleAll',
  'fusedAdamW',
];
const checked = new WeakSet<TorchBackend>();

export function fusedNative(backend: TorchBackend): FusedNative {
  if (!checked.has(backend)) {
    // An addon built from older sources: say how to fix it rather than "not a function".
    const missing = FUSED_FUNCTIONS.filter((name) => typeof backend.native[name] !== 'function');
    if (missing.length > 0) throw new Error(`the torch addon lacks ${missing.join(', ')} (built from older sources): npm run build:torch`);
    checked.add(backend);
  }
  return backend.native as unknown as FusedNative;
}
