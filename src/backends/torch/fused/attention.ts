import { kernel, type TorchKernel } from '../kernels/kernel.ts';
import { fusedNative } from './native.ts';

/** ArithAttention and its gradient (src/models/fused.ts): softmax(q kᵀ scale + bias) v, one call each way. */
export const attentionKernels: TorchKernel[] = [
  kernel<{ scale: number }>('ArithAttention', ({ inputs: { q, k, v, bias }, backend, attrs }) =>
    backend.outputs(fusedNative(backend).fusedAttention(backend.slot(q), backend.slot(k), backend.slot(v), backend.slot(bias), attrs.scale)),
  ),
  kernel<{ scale: number }>('ArithAttentionGrad', ({ inputs: { dy, q, k, v, pattern }, backend, attrs }) =>
    backend.outputs(fusedNative(backend).fusedAttentionGrad(backend.slot(dy), backend.slot(q), backend.slot(k), backend.slot(v), backend.slot(pattern), attrs.scale)),
  ),
];
