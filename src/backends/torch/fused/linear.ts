import { FUSED_KERNELS, type LinearGradAttrs } from '../../../contracts/kernels.ts';
import { kernel, type TorchKernel } from '../kernels/kernel.ts';
import { fusedNative } from './native.ts';

/** ArithLinear and its gradient (src/contracts/kernels.ts): addmm forward, two mm and a column sum backward. */
export const linearKernels: TorchKernel[] = [
  kernel(FUSED_KERNELS.linear, ({ inputs: { x, weight, bias }, backend }) =>
    backend.output(fusedNative(backend).fusedLinear(backend.slot(x), backend.slot(weight), bias ? backend.slot(bias) : null)),
  ),
  kernel<LinearGradAttrs>(FUSED_KERNELS.linearGrad, ({ inputs: { dy, x, weight }, backend, attrs }) =>
    backend.outputs(fusedNative(backend).fusedLinearGrad(backend.slot(dy), backend.slot(x), backend.slot(weight), attrs.hasBias)),
  ),
];
