import { FUSED_KERNELS } from '../../../contracts/kernels.ts';
import { kernel, type TorchKernel } from '../kernels/kernel.ts';
import { fusedNative } from './native.ts';

/** ArithGelu and its gradient (src/contracts/kernels.ts): ATen's gelu(x, "tanh") and gelu_backward. */
export const geluKernels: TorchKernel[] = [
  kernel(FUSED_KERNELS.gelu, ({ inputs: { x }, backend }) => backend.output(fusedNative(backend).fusedGelu(backend.slot(x)))),
  kernel(FUSED_KERNELS.geluGrad, ({ inputs: { dy, x }, backend }) =>
    backend.output(fusedNative(backend).fusedGeluGrad(backend.slot(dy), backend.slot(x))),
  ),
];
