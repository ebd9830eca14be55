import { kernel, type TorchKernel } from '../kernels/kernel.ts';
import { fusedNative } from './native.ts';

/** ArithGelu and its gradient (src/models/fused.ts): ATen's gelu(x, "tanh") and gelu_backward. */
export const geluKernels: TorchKernel[] = [
  kernel('ArithGelu', ({ inputs: { x }, backend }) => backend.output(fusedNative(backend).fusedGelu(backend.slot(x)))),
  kernel('ArithGeluGrad', ({ inputs: { dy, x }, backend }) => backend.output(fusedNative(backend).fusedGeluGrad(backend.slot(dy), backend.slot(x)))),
];
