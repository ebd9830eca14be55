import * as tf from '@tensorflow/tfjs';
import type { TorchAddon } from '../addon.ts';
import { kernel, normalizeAxes, type TorchKernel } from './kernel.ts';

type ReductionName = 'sum' | 'mean' | 'prod' | 'max' | 'min' | 'any' | 'all';

/** tfjs kernel, native function, attribute holding the axes, output dtype rule (as tfjs's cpu backend). */
const REDUCTIONS: [string, ReductionName, 'axis' | 'reductionIndices', (x: tf.DataType) => tf.DataType][] = [
  ['Sum', 'sum', 'axis', (x) => tf.upcastType(x, 'int32')],
  ['Prod', 'prod', 'axis', (x) => tf.upcastType(x, 'int32')],
  ['Mean', 'mean', 'axis', () => 'float32'],
  ['Max', 'max', 'reductionIndices', (x) => x],
  ['Min', 'min', 'axis', (x) => x],
  ['Any', 'any', 'axis', () => 'bool'],
  ['All', 'all', 'axis', () => 'bool'],
];

export const reduceKernels: TorchKernel[] = [
  ...REDUCTIONS.map(([name, fn, axisAttr, dtype]) =>
    kernel<Record<string, number | number[]> & { keepDims: boolean }>(name, ({ inputs: { x }, backend, attrs }) => {
      const axes = normalizeAxes(attrs[axisAttr], x.shape.length);
      return backend.result((backend.native[fn] as TorchAddon['sum'])(backend.slot(x), axes, attrs.keepDims), dtype(x.dtype));
    }),
  ),
  kernel<{ axis: number }>('ArgMax', ({ inputs: { x }, backend, attrs }) =>
    backend.output(backend.native.argMax(backend.slot(x), normalizeAxes(attrs.axis, x.shape.length)[0])),
  ),
  kernel<{ axis: number }>('ArgMin', ({ inputs: { x }, backend, attrs }) =>
    backend.output(backend.native.argMin(backend.slot(x), normalizeAxes(attrs.axis, x.shape.length)[0])),
  ),
  kernel<{ dim: number }>('Softmax', ({ inputs: { logits }, backend, attrs }) =>
    backend.output(backend.native.softmax(backend.slot(logits), normalizeAxes(attrs.dim, logits.shape.length)[0])),
  ),
  kernel<{ axis: number }>('LogSoftmax', ({ inputs: { logits }, backend, attrs }) =>
    backend.output(backend.native.logSoftmax(backend.slot(logits), normalizeAxes(attrs.axis, logits.shape.length)[0])),
  ),
  kernel<{ axis: number; exclusive: boolean; reverse: boolean }>('Cumsum', ({ inputs: { x }, backend, attrs }) =>
    backend.result(
      backend.native.cumsum(backend.slot(x), normalizeAxes(attrs.axis, x.shape.length)[0], attrs.exclusive, attrs.reverse),
      tf.upcastType(x.dtype, 'int32'),
    ),
  ),
];
