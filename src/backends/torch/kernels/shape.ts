import * as tf from '@tensorflow/tfjs';
import { DTYPE_CODES, type TorchDtype } from '../addon.ts';
import type { TorchBackend } from '../backend.ts';
import { kernel, normalizeAxes, type TorchKernel } from './kernel.ts';

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

function reshape(backend: TorchBackend, x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  const resolved = tf.util.inferFromImplicitShape(shape, tf.util.sizeFromShape(x.shape));
  if (sameShape(resolved, x.shape)) return backend.alias(x);
  return backend.output(backend.native.reshape(backend.slot(x), resolved));
}

export const shapeKernels: TorchKernel[] = [
  kernel<{ shape: number[] }>('Reshape', ({ inputs: { x }, backend, attrs }) => reshape(backend, x, attrs.shape)),
  kernel<{ dim: number }>('ExpandDims', ({ inputs: { input }, backend, attrs }) => {
    const rank = input.shape.length;
    const axis = attrs.dim < 0 ? attrs.dim + rank + 1 : attrs.dim;
    const shape = [...input.shape];
    shape.splice(axis, 0, 1);
    return reshape(backend, input, shape);
  }),
  kernel<{ perm: number[] }>('Transpose', ({ inputs: { x }, backend, attrs }) => {
    if (attrs.perm.every((p, i) => p === i)) return backend.alias(x);
    return backend.output(backend.native.transpose(backend.slot(x), attrs.perm));
  }),
  kernel<{ begin: number | number[]; size: number | number[] }>('Slice', ({ inputs: { x }, backend, attrs }) => {
    const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs.begin, attrs.size);
    return backend.output(backend.native.slice(backend.slot(x), begin, size));
  }),
  kernel<{
    begin: number[];
    end: number[];
    strides: number[];
    beginMask: number;
    endMask: number;
    ellipsisMask: number;
    newAxisMask: number;
    shrinkAxisMask: number;
  }>('StridedSlice', ({ inputs: { x }, backend, attrs }) => {
    const info = tf.slice_util.sliceInfo(
      x.shape,
      attrs.begin,
      attrs.end,
      attrs.strides,
      attrs.beginMask,
      attrs.endMask,
      attrs.ellipsisMask,
      attrs.newAxisMask,
      attrs.shrinkAxisMask,
    );
    if (info.isIdentity) return reshape(backend, x, info.finalShape);
    return backend.output(backend.native.stridedSlice(backend.slot(x), info.begin, info.end, info.strides, info.finalShape));
  }),
  {
    kernelName: 'Concat',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const tensors = inputs as unknown as tf.TensorInfo[];
      const axis = normalizeAxes((attrs as { axis: number }).axis, tensors[0].shape.length)[0];
      // libtorch, like tfjs, skips empty inputs, but only when they are 1-D; drop them here.
      const nonEmpty = tensors.filter((t) => tf.util.sizeFromShape(t.shape) > 0);
      if (nonEmpty.length === 0) {
        const shape = tf.backend_util.computeOutShape(
          tensors.map((t) => t.shape),
          axis,
        );
        return backend.output(backend.native.fill(shape, 0, DTYPE_CODES[tensors[0].dtype as TorchDtype]));
      }
      if (nonEmpty.length === 1) return backend.alias(nonEmpty[0]);
      const dtype = nonEmpty.map((t) => t.dtype).reduce((a, b) => tf.upcastType(a, b));
      return backend.result(
        backend.native.concat(
          nonEmpty.map((t) => backend.slot(t)),
          axis,
        ),
        dtype,
      );
    },
  },
  {
    kernelName: 'Pack',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const tensors = inputs as unknown as tf.TensorInfo[];
      const axis = normalizeAxes((attrs as { axis: number }).axis, tensors[0].shape.length + 1)[0];
      return backend.result(
        backend.native.stack(
          tensors.map((t) => backend.slot(t)),
          axis,
        ),
        tensors[0].dtype,
      );
    },
  },
  kernel<{ axis: number }>('Unpack', ({ inputs: { value }, backend, attrs }) =>
    backend.outputs(backend.native.unstack(backend.slot(value), normalizeAxes(attrs.axis, value.shape.length)[0])),
  ),
  kernel<{ numOrSizeSplits: number | number[]; axis: number }>('SplitV', ({ inputs: { x }, backend, attrs }) => {
    const axis = normalizeAxes(attrs.axis, x.shape.length)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs.numOrSizeSplits, axis);
    return backend.outputs(backend.native.split(backend.slot(x), sizes, axis));
  }),
  kernel<{ paddings: [number, number][]; constantValue: number }>('PadV2', ({ inputs: { x }, backend, attrs }) =>
    backend.output(backend.native.pad(backend.slot(x), attrs.paddings.flat(), attrs.constantValue)),
  ),
  kernel<{ reps: number[] }>('Tile', ({ inputs: { x }, backend, attrs }) =>
    backend.output(backend.native.tile(backend.slot(x), attrs.reps)),
  ),
  kernel<{ shape: number[] }>('BroadcastTo', ({ inputs: { x }, backend, attrs }) =>
    backend.output(backend.native.broadcastTo(backend.slot(x), attrs.shape)),
  ),
  kernel<{ axis: number; batchDims: number }>('GatherV2', ({ inputs: { x, indices }, backend, attrs }) => {
    if (attrs.batchDims) throw new Error('torch backend: GatherV2 with batchDims is not implemented');
    return backend.output(backend.native.gather(backend.slot(x), backend.slot(indices), normalizeAxes(attrs.axis, x.shape.length)[0]));
  }),
  // float32 even for int32 x, as tfjs's cpu backend gives.
  kernel<{ numSegments: number }>('UnsortedSegmentSum', ({ inputs: { x, segmentIds }, backend, attrs }) =>
    backend.result(backend.native.unsortedSegmentSum(backend.slot(x), backend.slot(segmentIds), attrs.numSegments), 'float32'),
  ),
  kernel<{ dims: number | number[] }>('Reverse', ({ inputs: { x }, backend, attrs }) =>
    backend.output(backend.native.reverse(backend.slot(x), normalizeAxes(attrs.dims, x.shape.length))),
  ),
  kernel<{ depth: number; onValue: number; offValue: number; dtype: tf.DataType }>('OneHot', ({ inputs: { indices }, backend, attrs }) =>
    backend.output(
      backend.native.oneHot(
        backend.slot(indices),
        attrs.depth,
        attrs.onValue,
        attrs.offValue,
        DTYPE_CODES[(attrs.dtype ?? 'int32') as TorchDtype],
      ),
    ),
  ),
];
