/**
 * Every kernel of the torch backend, registered as data: each kernels/*.ts file exports a list of
 * { kernelName, kernelFunc } and this file hands them to tf.registerKernel under backendName 'torch'.
 *
 * How to add a kernel (after adding its native function, see native/torch/src/addon.cc's header comment):
 *   1. In the kernels/<family>.ts file (or a new one, listed in KERNEL_LISTS below), write
 *        kernel<Attrs>('TfjsKernelName', ({ inputs, backend, attrs }) => backend.output(backend.native.myOp(backend.slot(inputs.x), ...)))
 *      `backend.slot(t)` is the native tensor of a tfjs tensor; `backend.output(slot)` wraps the result with the
 *      shape and dtype the addon described; `backend.result(slot, dtype)` also casts when libtorch's dtype
 *      differs from tfjs's; `backend.outputs(slots)` for several results; `backend.alias(t)` returns an input.
 *   2. A fused op of our own (one tfjs never calls) gets its own kernel name in src/contracts/kernels.ts, and the
 *      model calls it with tf.engine().runKernel(name, inputs, attrs) only where the kernel is registered for the
 *      active backend (tf.getKernel(name, tf.getBackend())), falling back to the composed ops elsewhere. Its
 *      gradient is a tf.customGrad around that call, or a gradient config registered with tf.registerGradient.
 *   3. Add a case to test/torch-kernels.test.ts (a row in its table) comparing it with the cpu backend.
 */
import * as tf from '@tensorflow/tfjs';
import { creationKernels } from './kernels/creation.ts';
import { elementwiseKernels } from './kernels/elementwise.ts';
import { fusedKernels } from './fused/index.ts';
import type { TorchKernel } from './kernels/kernel.ts';
import { matmulKernels } from './kernels/matmul.ts';
import { reduceKernels } from './kernels/reduce.ts';
import { shapeKernels } from './kernels/shape.ts';

export const BACKEND_NAME = 'torch';

const KERNEL_LISTS: TorchKernel[][] = [elementwiseKernels, reduceKernels, matmulKernels, shapeKernels, creationKernels, fusedKernels];

export function torchKernels(): TorchKernel[] {
  return KERNEL_LISTS.flat();
}

let registered = false;

export function registerTorchKernels(): void {
  if (registered) return;
  for (const { kernelName, kernelFunc } of torchKernels()) {
    tf.registerKernel({ kernelName, backendName: BACKEND_NAME, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  }
  registered = true;
}
