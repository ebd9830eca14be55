import { kernel, type TorchKernel } from '../kernels/kernel.ts';
import { fusedNative } from './native.ts';

/** ArithLinear and its gradient (src/models/fused.ts): addmm forward, two mm and a column sum backward. */
export const linearKernels: TorchKernel[] = [
  kernel('ArithLinear', ({ inputs: { x, weight, bias }, backend }) =>
    backend.output(fusedNative(backend).fusedLinear(backend.slot(x), backend.slot(weight), bias ? backend.slot(bias) : null)),
  ),
  kernel<{ hasBias: boolean }>('ArithLinearGrad', ({ inputs: { dy, x, weight }, backend, attrs }) =>
    backend.outputs(fusedNative(backend).fusedLinearGrad(backend.slot(dy), backend.slot(x), backend.slot(weight), attrs.hasBias)),
  ),
];
