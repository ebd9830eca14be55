import { kernel, type TorchKernel } from '../kernels/kernel.ts';
import { fusedNative } from './native.ts';

/** ArithMaskedCrossEntropy and its gradient (src/models/fused.ts): log-softmax, pick the targets, masked mean. */
export const crossEntropyKernels: TorchKernel[] = [
  kernel('ArithMaskedCrossEntropy', ({ inputs: { logits, targets, mask }, backend }) =>
    backend.outputs(fusedNative(backend).fusedMaskedCrossEntropy(backend.slot(logits), backend.slot(targets), backend.slot(mask))),
  ),
  kernel('ArithMaskedCrossEntropyGrad', ({ inputs: { dy, logProbabilities, targets, mask }, backend }) =>
    backend.output(fusedNative(backend).fusedMaskedCrossEntropyGrad(backend.slot(dy), backend.slot(logProbabilities), backend.slot(targets), backend.slot(mask))),
  ),
];
