import { FUSED_KERNELS, type AdamWAttrs } from '../../../contracts/kernels.ts';
import { kernel, type TorchKernel } from '../kernels/kernel.ts';
import { fusedNative } from './native.ts';

/**
 * ArithAdamW (src/contracts/kernels.ts): every parameter and both moments updated in place by one native
 * call. The tensors keep their data ids and slots, and this backend keeps no copy of values in JavaScript, so
 * every later read sees the new values.
 */
export const adamWKernels: TorchKernel[] = [
  kernel<AdamWAttrs>(FUSED_KERNELS.adamW, ({ inputs, backend, attrs: a }) => {
    const slots = (prefix: string) => Array.from({ length: a.count }, (_, i) => backend.slot(inputs[`${prefix}${i}`]));
    fusedNative(backend).fusedAdamW(
      slots('p'),
      slots('g'),
      slots('m'),
      slots('v'),
      a.decay,
      a.lr,
      a.beta1,
      a.beta2,
      a.epsilon,
      a.weightDecay,
      a.correction1,
      a.correction2,
    );
    return [];
  }),
];
