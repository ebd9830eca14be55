import type * as tf from '@tensorflow/tfjs';
import type { TorchBackend } from '../backend.ts';

export interface TorchKernelArgs<A = Record<string, unknown>> {
  inputs: Record<string, tf.TensorInfo>;
  backend: TorchBackend;
  attrs: A;
}

/** One kernel of the torch backend: register.ts adds backendName and hands it to tf.registerKernel. */
export interface TorchKernel {
  kernelName: string;
  kernelFunc: (args: TorchKernelArgs<never>) => tf.TensorInfo | tf.TensorInfo[];
}

export function kernel<A>(kernelName: string, kernelFunc: (args: TorchKernelArgs<A>) => tf.TensorInfo | tf.TensorInfo[]): TorchKernel {
  return { kernelName, kernelFunc: kernelFunc as TorchKernel['kernelFunc'] };
}

/** Axes as tfjs gives them (a number, a list, negatives, or none for all) as a sorted list of non-negative axes. */
export function normalizeAxes(axis: number | number[] | null | undefined, rank: number): number[] {
  if (axis === null || axis === undefined) return [...Array(rank).keys()];
  const list = typeof axis === 'number' ? [axis] : axis;
  return list.map((a) => (a < 0 ? a + rank : a));
}
