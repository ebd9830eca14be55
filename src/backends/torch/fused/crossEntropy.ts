import { FUSED_KERNELS } from '../../../contracts/kernels.ts';
import { kernel, type TorchKernel } from '../kernels/kernel.ts';
import { fusedNative } from './native.ts';

/** ArithMaskedCrossEntropy and its gradient (src/contracts/kernels.ts): log-softmax, pick the targets, masked mean. */
export const crossEntropyKernels: TorchKernel[] = [
  kernel(FUSED_KERNELS.maskedCrossEntropy, ({ inputs: { logits, targets, mask }, backend }) =>
    backend.outputs(fusedNative(backend).fusedMaskedCrossEntropy(backend.slot(logits), backend.slot(targets), backend.slot(mask))),
  ),
  kernel(FUSED_KERNELS.maskedCrossEntropyGrad, ({ inputs: { dy, logProbabilities, targets, mask }, backend }) =>
    backend.output(
      fusedNative(backend).fusedMaskedCrossEntropyGrad(
        backend.slot(dy),
        backend.slot(logProbabilities),
        backend.slot(targets),
        backend.slot(mask),
      ),
    ),
  ),
];
