import type * as tf from '@tensorflow/tfjs';
import type { TorchBackend } from '../backend.ts';
import { kernel, type TorchKernel } from '../kernels/kernel.ts';
import { fusedNative } from './native.ts';

const gradients = (inputs: Record<string, tf.TensorInfo>, count: number, backend: TorchBackend) =>
  Array.from({ length: count }, (_, i) => backend.slot(inputs[`g${i}`]));

/** ArithGlobalNorm and ArithScaleAll (src/models/fused.ts): gradient clipping over every parameter, one call each. */
export const gradNormKernels: TorchKernel[] = [
  kernel<{ count: number }>('ArithGlobalNorm', ({ inputs, backend, attrs }) =>
    backend.output(fusedNative(backend).fusedGlobalNorm(gradients(inputs, attrs.count, backend))),
  ),
  kernel<{ count: number; scale: number }>('ArithScaleAll', ({ inputs, backend, attrs }) =>
    backend.outputs(fusedNative(backend).fusedScaleAll(gradients(inputs, attrs.count, backend), attrs.scale)),
  ),
];
