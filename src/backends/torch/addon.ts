import type { MatmulPrecision } from '../matmulPrecision.ts';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** A native tensor: its slot number in the addon's table (native/torch/src/tensor_handle.h). */
export type Slot = number;

/** dtype codes shared with native/torch/src/tensor_handle.h. */
export const DTYPE_CODES = { float32: 0, int32: 1, bool: 2 } as const;
export type TorchDtype = keyof typeof DTYPE_CODES;
export const DTYPES: readonly TorchDtype[] = ['float32', 'int32', 'bool'];

type Unary = (x: Slot) => Slot;
type Binary = (a: Slot, b: Slot) => Slot;
type Reduction = (x: Slot, axes: number[], keepDims: boolean) => Slot;

/**
 * The functions native/torch exports. Every function returning one Slot also writes the result's rank, dtype
 * code and shape into the description buffer (see `setDescriptionBuffer`); axes are non-negative.
 */
export interface TorchAddon {
  setDescriptionBuffer(buffer: Int32Array): void;
  describe(x: Slot): void;
  dispose(x: Slot): void;
  liveTensors(): number;
  setNumThreads(threads: number): void;
  /** glibc keeps freed memory for the next step instead of returning it to the OS; false where it cannot. */
  keepHeap(): boolean;
  setDevice(device: 'cpu' | 'cuda'): void;
  /** ATen's float32 matmul precision (torch.set_float32_matmul_precision): 'high' allows TF32 on the GPU. */
  setMatmulPrecision(precision: MatmulPrecision): void;
  info(): {
    torch: string;
    threads: number;
    device: string;
    cudaBuilt: boolean;
    cudaAvailable: boolean;
    openblas: string;
    liveTensors: number;
    heapKept: boolean;
    matmulPrecision: MatmulPrecision;
  };
  fromBuffer(values: Float32Array | Int32Array | Uint8Array | Float64Array, shape: number[], dtype: number): Slot;
  read(x: Slot): Float32Array | Int32Array | Uint8Array;
  transferStats(): { uploadedBytes: number; constantWrites: number };

  abs: Unary;
  neg: Unary;
  exp: Unary;
  expm1: Unary;
  log: Unary;
  log1p: Unary;
  sqrt: Unary;
  rsqrt: Unary;
  square: Unary;
  reciprocal: Unary;
  tanh: Unary;
  sin: Unary;
  cos: Unary;
  tan: Unary;
  asin: Unary;
  acos: Unary;
  atan: Unary;
  sinh: Unary;
  cosh: Unary;
  sigmoid: Unary;
  softplus: Unary;
  relu: Unary;
  relu6: Unary;
  elu: Unary;
  selu: Unary;
  erf: Unary;
  floor: Unary;
  ceil: Unary;
  round: Unary;
  sign: Unary;
  logicalNot: Unary;
  isNaN: Unary;
  isInf: Unary;
  isFinite: Unary;
  clone: Unary;
  add: Binary;
  sub: Binary;
  mul: Binary;
  div: Binary;
  floorDiv: Binary;
  mod: Binary;
  pow: Binary;
  maximum: Binary;
  minimum: Binary;
  squaredDifference: Binary;
  atan2: Binary;
  equal: Binary;
  notEqual: Binary;
  less: Binary;
  lessEqual: Binary;
  greater: Binary;
  greaterEqual: Binary;
  logicalAnd: Binary;
  logicalOr: Binary;
  logicalXor: Binary;
  cast(x: Slot, dtype: number): Slot;
  clip(x: Slot, min: number, max: number): Slot;
  step(x: Slot, alpha: number): Slot;
  leakyRelu(x: Slot, alpha: number): Slot;
  prelu(x: Slot, alpha: Slot): Slot;
  select(condition: Slot, a: Slot, b: Slot): Slot;
  addN(xs: Slot[]): Slot;

  sum: Reduction;
  mean: Reduction;
  prod: Reduction;
  max: Reduction;
  min: Reduction;
  any: Reduction;
  all: Reduction;
  argMax(x: Slot, axis: number): Slot;
  argMin(x: Slot, axis: number): Slot;
  softmax(x: Slot, axis: number): Slot;
  logSoftmax(x: Slot, axis: number): Slot;
  cumsum(x: Slot, axis: number, exclusive: boolean, reverse: boolean): Slot;

  batchMatMul(a: Slot, b: Slot, transposeA: boolean, transposeB: boolean): Slot;

  reshape(x: Slot, shape: number[]): Slot;
  transpose(x: Slot, perm: number[]): Slot;
  slice(x: Slot, begin: number[], size: number[]): Slot;
  stridedSlice(x: Slot, begin: number[], end: number[], strides: number[], outputShape: number[]): Slot;
  concat(xs: Slot[], axis: number): Slot;
  stack(xs: Slot[], axis: number): Slot;
  unstack(x: Slot, axis: number): Slot[];
  split(x: Slot, sizes: number[], axis: number): Slot[];
  pad(x: Slot, paddings: number[], value: number): Slot;
  tile(x: Slot, reps: number[]): Slot;
  broadcastTo(x: Slot, shape: number[]): Slot;
  gather(x: Slot, indices: Slot, axis: number): Slot;
  unsortedSegmentSum(x: Slot, segmentIds: Slot, numSegments: number): Slot;
  reverse(x: Slot, axes: number[]): Slot;
  oneHot(indices: Slot, depth: number, onValue: number, offValue: number, dtype: number): Slot;

  fill(shape: number[], value: number, dtype: number): Slot;
  zerosLike(x: Slot): Slot;
  onesLike(x: Slot): Slot;
  range(start: number, step: number, count: number, dtype: number): Slot;
  randomUniform(shape: number[], seed: number): Slot;

  /** Functions added by later modules (fused kernels) are reached through this index. */
  [name: string]: unknown;
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** Where `npm run build:torch` puts the addon; ARITH_TORCH_ADDON overrides (a bundle keeps it elsewhere). */
export const ADDON_PATH = process.env.ARITH_TORCH_ADDON ?? path.resolve(here, '../../../native/torch/build/Release/arith_torch.node');

let loaded: { addon: TorchAddon } | { error: string } | null = null;

/** The addon, or why it cannot be used (one line), loading it once. */
export function loadAddon(): { addon: TorchAddon } | { error: string } {
  if (loaded) return loaded;
  if (!fs.existsSync(ADDON_PATH)) {
    loaded = {
      error: 'torch addon not built (npm run build:torch; needs libtorch: apt-get install libtorch-dev, or LIBTORCH=<PyTorch dir>)',
    };
    return loaded;
  }
  // libgomp reads this when libtorch loads. Its default spins idle threads; with more runnable threads than
  // cores (other jobs on the machine) a 2-thread training step of the small model went from 150 ms to 900-2000 ms.
  process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
  try {
    const addon = createRequire(import.meta.url)(ADDON_PATH) as TorchAddon;
    loaded = { addon };
  } catch (error) {
    loaded = { error: `torch addon failed to load: ${String((error as Error).message).split('\n')[0]}` };
  }
  return loaded;
}
