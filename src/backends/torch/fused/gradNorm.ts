import type * as tf from '@tensorflow/tfjs';
import { FUSED_KERNELS, type ScaleAllAttrs, type TensorListAttrs } from '../../../contracts/kernels.ts';
import type { TorchBackend } from '../backend.ts';
import { kernel, type TorchKernel } from '../kernels/kernel.ts';
import { fusedNative } from './native.ts';

const gradients = (inputs: Record<string, tf.TensorInfo>, count: number, backend: TorchBackend) =>
  Array.from({ length: count }, (_, i) => backend.slot(inputs[`g${i}`]));

/** ArithGlobalNorm and ArithScaleAll (src/contracts/kernels.ts): gradient clipping over every parameter, one
 * call each. */
export const gradNormKernels: TorchKernel[] = [
  kernel<TensorListAttrs>(FUSED_KERNELS.globalNorm, ({ inputs, backend, attrs }) =>
    backend.output(fusedNative(backend).fusedGlobalNorm(gradients(inputs, attrs.count, backend))),
  ),
  kernel<ScaleAllAttrs>(FUSED_KERNELS.scaleAll, ({ inputs, backend, attrs }) =>
    backend.outputs(fusedNative(backend).fusedScaleAll(gradients(inputs, attrs.count, backend), attrs.scale)),
  ),
];
