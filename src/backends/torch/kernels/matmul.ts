import * as tf from '@tensorflow/tfjs';
import { kernel, type TorchKernel } from './kernel.ts';

export const matmulKernels: TorchKernel[] = [
  kernel<{ transposeA: boolean; transposeB: boolean }>('BatchMatMul', ({ inputs: { a, b }, backend, attrs }) =>
    backend.result(
      backend.native.batchMatMul(backend.slot(a), backend.slot(b), attrs.transposeA, attrs.transposeB),
      tf.upcastType(a.dtype, b.dtype),
    ),
  ),
];
