import type * as tf from '@tensorflow/tfjs';
import { RANDOM_UNIFORM, type RandomUniformAttrs } from '../../../contracts/kernels.ts';
import { DTYPE_CODES, type TorchDtype } from '../addon.ts';
import { kernel, type TorchKernel } from './kernel.ts';

/** Made on the device from their attributes: no host buffer crosses to libtorch. */
export const creationKernels: TorchKernel[] = [
  kernel<{ shape: number[]; value: number; dtype: tf.DataType }>('Fill', ({ backend, attrs }) => {
    const dtype = attrs.dtype ?? (Number.isInteger(attrs.value) ? 'int32' : 'float32');
    return backend.output(backend.native.fill(attrs.shape, Number(attrs.value), DTYPE_CODES[dtype as TorchDtype]));
  }),
  kernel('ZerosLike', ({ inputs: { x }, backend }) => backend.output(backend.native.zerosLike(backend.slot(x)))),
  kernel('OnesLike', ({ inputs: { x }, backend }) => backend.output(backend.native.onesLike(backend.slot(x)))),
  // Our own kernel (tfjs draws random numbers in JavaScript): see uniformNoise in src/models/ops.ts.
  kernel<RandomUniformAttrs>(RANDOM_UNIFORM, ({ backend, attrs }) => backend.output(backend.native.randomUniform(attrs.shape, attrs.seed))),
  kernel<{ start: number; stop: number; step: number; dtype: 'float32' | 'int32' }>('Range', ({ backend, attrs }) => {
    // tfjs's rangeImpl, quirks included: a step of the wrong sign gives nothing, except that a step of 1 on a
    // decreasing range becomes -1.
    const { start, stop, dtype } = attrs;
    let step = attrs.step;
    const empty = start === stop || (start < stop && step < 0) || (stop < start && step > 1);
    const count = empty ? 0 : Math.abs(Math.ceil((stop - start) / step));
    if (stop < start && step === 1) step = -1;
    return backend.output(backend.native.range(start, step, count, DTYPE_CODES[dtype]));
  }),
];
