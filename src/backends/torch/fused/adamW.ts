import type { AdamWStep } from '../../../models/fused.ts';
import { kernel, type TorchKernel } from '../kernels/kernel.ts';
import { fusedNative } from './native.ts';

/** The attributes src/models/fused.ts's fusedAdamW passes: the step's hyperparameters, the parameter count and
 * which parameters decay (1) or not (0). */
type AdamWAttrs = AdamWStep & { count: number; decay: number[] };

/**
 * ArithAdamW (src/models/fused.ts): every parameter and both moments updated in place by one native call. The
 * tensors keep their data ids and slots, and this backend keeps no copy of values in JavaScript, so every later
 * read sees the new values.
 */
export const adamWKernels: TorchKernel[] = [
  kernel<AdamWAttrs>('ArithAdamW', ({ inputs, backend, attrs: a }) => {
    const slots = (prefix: string) => Array.from({ length: a.count }, (_, i) => backend.slot(inputs[`${prefix}${i}`]));
    fusedNative(backend).fusedAdamW(slots('p'), slots('g'), slots('m'), slots('v'), a.decay, a.lr, a.beta1, a.beta2, a.epsilon, a.weightDecay, a.correction1, a.correction2);
    return [];
  }),
];
