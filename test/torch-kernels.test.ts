import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { registerTorchBackend } from '../src/backends/torch/index.ts';
import { torchKernels } from '../src/backends/torch/register.ts';
import { createRandom } from '../src/random.ts';
import { describeTorch } from './fixtures/torch.ts';

/**
 * Every kernel of the torch backend against tfjs's cpu backend (the reference) on random inputs: broadcasting,
 * scalars, size-0 and size-1 axes, rank 4, float32, int32 and bool. Each row of CASES builds its inputs from
 * plain arrays on each backend in turn and runs the same tfjs ops; values, shapes and dtypes must agree.
 * The last test checks that the rows together call every registered torch kernel.
 */

type Dtype = 'float32' | 'int32' | 'bool';
interface Input {
  shape: number[];
  dtype: Dtype;
  values: number[];
}
interface Case {
  name: string;
  inputs: Input[];
  run: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
  /** What the cpu backend runs instead, for kernels it lacks. */
  reference?: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
}

const random = createRandom(7, 'torch-kernels');
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
/** Floats in [lo, hi), kept away from 0 by `gap` when asked (for divisions). */
const floats = (shape: number[], lo = -3, hi = 3): Input => ({
  shape,
  dtype: 'float32',
  values: Array.from({ length: size(shape) }, () => lo + (hi - lo) * random.next()),
});
const ints = (shape: number[], lo = -5, hi = 5): Input => ({
  shape,
  dtype: 'int32',
  values: Array.from({ length: size(shape) }, () => random.int(lo, hi)),
});
const bools = (shape: number[]): Input => ({
  shape,
  dtype: 'bool',
  values: Array.from({ length: size(shape) }, () => (random.next() < 0.5 ? 1 : 0)),
});
const nonZero = (input: Input): Input => ({ ...input, values: input.values.map((v) => (v === 0 ? 1 : v)) });

const SHAPES: number[][] = [[], [0], [1], [3, 4], [2, 1, 3, 2]];
/** Pairs of shapes that broadcast, tfjs-style. */
const PAIRS: [number[], number[]][] = [
  [
    [3, 4],
    [3, 4],
  ],
  [
    [3, 1],
    [1, 4],
  ],
  [[2, 3, 4], [4]],
  [[], [2, 3]],
  [
    [0, 3],
    [1, 3],
  ],
  [
    [2, 1, 3, 1],
    [1, 4, 1, 5],
  ],
];

const CASES: Case[] = [];
const add = (name: string, inputs: Input[], run: Case['run'], reference?: Case['run']) => CASES.push({ name, inputs, run, reference });

// ---- unary ----
const unary: [string, (x: tf.Tensor) => tf.Tensor, [number, number], boolean][] = [
  // name, op, float input range, also on int32
  ['abs', tf.abs, [-3, 3], true],
  ['neg', tf.neg, [-3, 3], true],
  ['exp', tf.exp, [-3, 3], true],
  ['expm1', tf.expm1, [-3, 3], false],
  ['log', tf.log, [0.1, 5], false],
  ['log1p', tf.log1p, [-0.5, 5], false],
  ['sqrt', tf.sqrt, [0, 5], false],
  ['rsqrt', tf.rsqrt, [0.1, 5], false],
  ['square', tf.square, [-3, 3], true],
  ['reciprocal', tf.reciprocal, [0.5, 3], false],
  ['tanh', tf.tanh, [-3, 3], false],
  ['sin', tf.sin, [-3, 3], false],
  ['cos', tf.cos, [-3, 3], false],
  ['tan', tf.tan, [-1, 1], false],
  ['asin', tf.asin, [-0.9, 0.9], false],
  ['acos', tf.acos, [-0.9, 0.9], false],
  ['atan', tf.atan, [-3, 3], false],
  ['sinh', tf.sinh, [-3, 3], false],
  ['cosh', tf.cosh, [-3, 3], false],
  ['sigmoid', tf.sigmoid, [-3, 3], false],
  ['softplus', tf.softplus, [-3, 3], false],
  ['relu', tf.relu, [-3, 3], true],
  ['relu6', tf.relu6, [-3, 9], true],
  ['elu', tf.elu, [-3, 3], false],
  ['selu', tf.selu, [-3, 3], false],
  ['erf', tf.erf, [-2, 2], false],
  ['floor', tf.floor, [-3, 3], false],
  ['ceil', tf.ceil, [-3, 3], false],
  ['round', tf.round, [-3, 3], false],
  ['sign', tf.sign, [-3, 3], true],
  ['isNaN', tf.isNaN, [-3, 3], false],
  ['isInf', tf.isInf, [-3, 3], false],
  ['isFinite', tf.isFinite, [-3, 3], false],
  ['clone (Identity)', tf.clone, [-3, 3], true],
];
for (const [name, op, [lo, hi], onInts] of unary) {
  for (const shape of SHAPES) add(`${name} float32 [${shape}]`, [floats(shape, lo, hi)], op);
  if (onInts) add(`${name} int32 [3,4]`, [ints([3, 4])], op);
}
add('round half to even', [{ shape: [6], dtype: 'float32', values: [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5] }], tf.round);
add('isNaN/isInf on specials', [{ shape: [4], dtype: 'float32', values: [NaN, Infinity, -Infinity, 1] }], (x) => [
  tf.isNaN(x),
  tf.isInf(x),
  tf.isFinite(x),
]);
add('logicalNot bool', [bools([3, 4])], tf.logicalNot);

// ---- binary ----
const binary: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, 'float' | 'int' | 'both', boolean][] = [
  // name, op, dtypes, divisor must be non-zero
  ['add', tf.add, 'both', false],
  ['sub', tf.sub, 'both', false],
  ['mul', tf.mul, 'both', false],
  ['div (RealDiv)', tf.div, 'float', true],
  ['floorDiv', tf.floorDiv, 'both', true],
  ['mod', tf.mod, 'both', true],
  ['maximum', tf.maximum, 'both', false],
  ['minimum', tf.minimum, 'both', false],
  ['squaredDifference', tf.squaredDifference, 'both', false],
  ['atan2', tf.atan2, 'float', false],
  ['equal', tf.equal, 'both', false],
  ['notEqual', tf.notEqual, 'both', false],
  ['less', tf.less, 'both', false],
  ['lessEqual', tf.lessEqual, 'both', false],
  ['greater', tf.greater, 'both', false],
  ['greaterEqual', tf.greaterEqual, 'both', false],
];
for (const [name, op, dtypes, divisor] of binary) {
  for (const [sa, sb] of PAIRS) {
    if (dtypes !== 'int') add(`${name} float32 [${sa}] [${sb}]`, [floats(sa), divisor ? nonZero(floats(sb, 0.5, 3)) : floats(sb)], op);
    if (dtypes !== 'float') add(`${name} int32 [${sa}] [${sb}]`, [ints(sa), divisor ? nonZero(ints(sb, -4, 4)) : ints(sb, -3, 3)], op);
  }
}
add('equal with ties, int32', [ints([20], 0, 2), ints([20], 0, 2)], tf.equal);
add('pow float32', [floats([3, 4], 0.1, 3), floats([4], -2, 2)], tf.pow);
add('pow int32', [ints([3, 4], -3, 3), ints([3, 4], 0, 3)], tf.pow);
add('pow scalar exponent (GELU)', [floats([2, 3])], (x) => tf.pow(x, 3));
add('div int32 (tfjs floors it)', [ints([3, 4]), nonZero(ints([3, 4]))], tf.div);
for (const [name, op] of [
  ['logicalAnd', tf.logicalAnd],
  ['logicalOr', tf.logicalOr],
  ['logicalXor', tf.logicalXor],
] as const) {
  add(`${name} bool`, [bools([3, 4]), bools([3, 4])], op);
  add(`${name} bool broadcast`, [bools([3, 1]), bools([4])], op);
}

// ---- element-wise with attributes ----
for (const [from, to] of [
  ['float32', 'int32'],
  ['float32', 'bool'],
  ['int32', 'float32'],
  ['int32', 'bool'],
  ['bool', 'float32'],
  ['bool', 'int32'],
  ['float32', 'float32'],
] as const) {
  const input = from === 'float32' ? floats([3, 4]) : from === 'int32' ? ints([3, 4]) : bools([3, 4]);
  add(`cast ${from} -> ${to}`, [input], (x) => tf.cast(x, to));
}
add('cast float32 with zeros -> bool', [{ shape: [4], dtype: 'float32', values: [0, -0, 0.5, -2] }], (x) => tf.cast(x, 'bool'));
add('clipByValue float32', [floats([3, 4])], (x) => tf.clipByValue(x, -1, 1.5));
add('clipByValue int32', [ints([3, 4])], (x) => tf.clipByValue(x, -2, 3));
add('step', [{ shape: [5], dtype: 'float32', values: [-1, 0, 2, NaN, 0.5] }], (x) => tf.step(x, 0.25));
add('leakyRelu', [floats([3, 4])], (x) => tf.leakyRelu(x, 0.1));
add('prelu', [floats([3, 4]), floats([4])], tf.prelu);
add('where, same shapes', [bools([3, 4]), floats([3, 4]), floats([3, 4])], (c, a, b) => tf.where(c as tf.Tensor, a, b));
add('where, broadcast condition', [bools([1, 4]), floats([3, 4]), floats([3, 4])], (c, a, b) => tf.where(c as tf.Tensor, a, b));
add('where int32', [bools([3, 4]), ints([3, 4]), ints([3, 4])], (c, a, b) => tf.where(c as tf.Tensor, a, b));
add('addN', [floats([3, 4]), floats([3, 4]), floats([3, 4])], (a, b, c) => tf.addN([a, b, c]));
add('addN int32', [ints([2, 2]), ints([2, 2])], (a, b) => tf.addN([a, b]));

// ---- reductions ----
const axesCases: [number[], number | number[] | undefined][] = [
  [[3, 4], 0],
  [[3, 4], 1],
  [[3, 4], -1],
  [[3, 4], undefined],
  [
    [2, 3, 4],
    [0, 2],
  ],
  [[2, 3, 4], [1]],
  [
    [2, 1, 3, 2],
    [1, 3],
  ],
  [[0, 3], 1],
  [[1], 0],
  [[], undefined],
];
for (const [name, op] of [
  ['sum', tf.sum],
  ['mean', tf.mean],
  ['prod', tf.prod],
  ['max', tf.max],
  ['min', tf.min],
] as const) {
  for (const [shape, axis] of axesCases) {
    if ((name === 'max' || name === 'min' || name === 'mean') && size(shape) === 0) continue; // no identity element
    for (const keepDims of [false, true]) {
      add(`${name} float32 [${shape}] axis ${axis} keepDims ${keepDims}`, [floats(shape)], (x) => op(x, axis, keepDims));
    }
    add(`${name} int32 [${shape}] axis ${axis}`, [ints(shape, -3, 4)], (x) => op(x, axis));
  }
}
add('sum bool', [bools([3, 4])], (x) => tf.sum(x, 1));
for (const [name, op] of [
  ['any', tf.any],
  ['all', tf.all],
] as const) {
  add(`${name} bool axis 1`, [bools([3, 4])], (x) => op(x, 1));
  add(`${name} bool all axes keepDims`, [bools([2, 3, 2])], (x) => op(x, undefined, true));
  add(`${name} bool axes [0,2]`, [bools([2, 3, 2])], (x) => op(x, [0, 2]));
}
for (const [name, op] of [
  ['argMax', tf.argMax],
  ['argMin', tf.argMin],
] as const) {
  add(`${name} float32 axis 1`, [floats([3, 5])], (x) => op(x, 1));
  add(`${name} float32 axis 0 rank 3`, [floats([4, 2, 3])], (x) => op(x, 0));
  add(`${name} int32 with ties`, [ints([4, 6], 0, 2)], (x) => op(x, -1));
  add(`${name} float32 rank 1`, [floats([7])], (x) => op(x));
}
add('softmax last axis', [floats([3, 5], -5, 5)], (x) => tf.softmax(x));
add('softmax rank 4', [floats([2, 2, 3, 4], -5, 5)], (x) => tf.softmax(x));
add('softmax size-1 axis', [floats([3, 1])], (x) => tf.softmax(x));
add('softmax with -1e9 mask', [{ shape: [2, 3], dtype: 'float32', values: [1, -1e9, 2, -1e9, -1e9, 0.5] }], (x) => tf.softmax(x));
add('logSoftmax', [floats([2, 3, 5], -5, 5)], (x) => tf.logSoftmax(x));
add('cumsum float32', [floats([3, 4])], (x) => tf.cumsum(x, 1));
add('cumsum exclusive reverse', [floats([3, 4])], (x) => tf.cumsum(x, 0, true, true));
add('cumsum int32', [ints([5])], (x) => tf.cumsum(x));

// ---- matmul ----
add('matMul 2-D', [floats([3, 4]), floats([4, 5])], (a, b) => tf.matMul(a, b));
add('matMul transposeA', [floats([4, 3]), floats([4, 5])], (a, b) => tf.matMul(a, b, true));
add('matMul transposeB', [floats([3, 4]), floats([5, 4])], (a, b) => tf.matMul(a, b, false, true));
add('matMul both transposed', [floats([4, 3]), floats([5, 4])], (a, b) => tf.matMul(a, b, true, true));
add('matMul batched rank 3', [floats([2, 3, 4]), floats([2, 4, 5])], (a, b) => tf.matMul(a, b));
add('matMul batched rank 4', [floats([2, 3, 4, 5]), floats([2, 3, 5, 2])], (a, b) => tf.matMul(a, b));
add('matMul broadcast batch', [floats([1, 3, 4]), floats([2, 4, 5])], (a, b) => tf.matMul(a, b));
add('matMul 1x1', [floats([1, 1]), floats([1, 1])], (a, b) => tf.matMul(a, b));
add('matMul inner size 0', [floats([2, 0]), floats([0, 3])], (a, b) => tf.matMul(a, b));
add('matMul int32', [ints([3, 4]), ints([4, 2])], (a, b) => tf.matMul(a, b));

// ---- shapes ----
add('reshape', [floats([2, 3, 4])], (x) => tf.reshape(x, [6, -1]));
add('reshape int32 to scalar', [ints([1, 1])], (x) => tf.reshape(x, []));
add('expandDims', [floats([3, 4])], (x) => [tf.expandDims(x, 0), tf.expandDims(x, -1), tf.expandDims(x, 1)]);
add('squeeze', [floats([1, 3, 1])], (x) => tf.squeeze(x));
add('transpose 2-D', [floats([3, 4])], (x) => tf.transpose(x));
add('transpose rank 4', [floats([2, 3, 4, 5])], (x) => tf.transpose(x, [0, 2, 1, 3]));
add('transpose int32 rank 3', [ints([2, 3, 4])], (x) => tf.transpose(x, [2, 0, 1]));
add('transpose bool', [bools([2, 3])], (x) => tf.transpose(x));
add('slice', [floats([4, 5, 3])], (x) => tf.slice(x, [1, 0, 1], [2, -1, 2]));
add('slice rank 1 int32', [ints([6])], (x) => tf.slice(x, 2, 3));
add('slice to size 0', [floats([3, 4])], (x) => tf.slice(x, [1, 0], [0, 4]));
add('stridedSlice steps', [floats([5, 6])], (x) => tf.stridedSlice(x, [0, 1], [5, 6], [2, 2]));
add('stridedSlice negative stride', [floats([5, 6])], (x) => tf.stridedSlice(x, [4, 0], [0, 6], [-1, 1]));
add('stridedSlice negative stride to the start', [floats([6])], (x) => tf.stridedSlice(x, [-1], [0], [-2], 0, 1));
add('stridedSlice shrink and new axis', [floats([4, 5])], (x) => tf.stridedSlice(x, [1, 0], [2, 5], [1, 1], 0, 0, 0, 0, 1));
add('stridedSlice masks', [floats([3, 4, 5])], (x) => tf.stridedSlice(x, [1, 1, 1], [2, 3, 4], [1, 1, 1], 5, 4));
add('stridedSlice identity', [floats([3, 4])], (x) => tf.stridedSlice(x, [0, 0], [3, 4], [1, 1]));
add('concat axis 0', [floats([2, 3]), floats([1, 3]), floats([4, 3])], (a, b, c) => tf.concat([a, b, c], 0));
add('concat axis -1 rank 4', [floats([2, 1, 3, 2]), floats([2, 1, 3, 5])], (a, b) => tf.concat([a, b], -1));
add('concat with an empty input', [floats([2, 0]), floats([2, 3])], (a, b) => tf.concat([a, b], 1));
add('concat all empty', [floats([0, 3]), floats([0, 3])], (a, b) => tf.concat([a, b], 0));
add('concat int32', [ints([2, 2]), ints([2, 1])], (a, b) => tf.concat([a, b], 1));
add('concat bool', [bools([2]), bools([3])], (a, b) => tf.concat([a, b]));
add('stack', [floats([3, 4]), floats([3, 4])], (a, b) => [tf.stack([a, b]), tf.stack([a, b], 2)]);
add('stack scalars int32', [ints([]), ints([])], (a, b) => tf.stack([a, b]));
add('unstack', [floats([3, 4])], (x) => [...tf.unstack(x), ...tf.unstack(x, 1)]);
add('unstack int32 rank 3', [ints([2, 3, 2])], (x) => tf.unstack(x, 2));
add('split equal', [floats([6, 4])], (x) => tf.split(x, 3, 0));
add('split sizes', [floats([2, 7])], (x) => tf.split(x, [2, -1, 1], 1));
add('split int32 rank 4', [ints([2, 3, 4, 2])], (x) => tf.split(x, 2, 2));
add('pad', [floats([2, 3])], (x) =>
  tf.pad(x, [
    [1, 0],
    [2, 1],
  ]),
);
add('pad with a value, rank 3', [floats([2, 2, 2])], (x) =>
  tf.pad(
    x,
    [
      [0, 1],
      [1, 1],
      [0, 0],
    ],
    7,
  ),
);
add('pad int32', [ints([3])], (x) => tf.pad(x, [[2, 1]], -1));
add('tile', [floats([2, 3])], (x) => tf.tile(x, [2, 3]));
add('tile int32 rank 3', [ints([1, 2, 1])], (x) => tf.tile(x, [3, 1, 2]));
add('broadcastTo', [floats([3, 1])], (x) => tf.broadcastTo(x, [2, 3, 4]));
add('broadcastTo int32 from scalar', [ints([])], (x) => tf.broadcastTo(x, [2, 2]));
add('gather axis 0', [floats([5, 3]), ints([4], 0, 4)], (x, i) => tf.gather(x, i));
add('gather axis 1, 2-D indices', [floats([2, 5, 3]), ints([2, 3], 0, 4)], (x, i) => tf.gather(x, i, 1));
add('gather int32', [ints([6]), ints([3], 0, 5)], (x, i) => tf.gather(x, i));
add('unsortedSegmentSum', [floats([5, 3]), ints([5], 0, 3)], (x, ids) => tf.unsortedSegmentSum(x, ids as tf.Tensor1D, 4));
add('unsortedSegmentSum int32 rank 1', [ints([6]), ints([6], 0, 2)], (x, ids) => tf.unsortedSegmentSum(x, ids as tf.Tensor1D, 3));
add('gather gradient', [floats([5, 3]), ints([2, 4], 0, 4)], (x, i) =>
  tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, i), tf.range(1, 4))))(x),
);
add('reverse', [floats([3, 4])], (x) => [tf.reverse(x), tf.reverse(x, 1), tf.reverse(x, [0, 1])]);
add('reverse int32 rank 4', [ints([2, 1, 3, 2])], (x) => tf.reverse(x, [0, 3]));
add('oneHot', [ints([2, 3], 0, 4)], (i) => tf.oneHot(i, 5));
add('oneHot out-of-range and negative ids', [{ shape: [4], dtype: 'int32', values: [0, 5, -1, 2] }], (i) => tf.oneHot(i, 3));
add('oneHot on/off values, float32', [ints([3], 0, 3)], (i) => tf.oneHot(i, 4, 2, -1, 'float32'));
add('bandPart (causal mask)', [floats([4, 6])], (x) => [tf.linalg.bandPart(x, -1, 0), tf.linalg.bandPart(x, 1, 2)]);

// ---- creation ----
add('fill float32', [], () => tf.fill([2, 3], 1.5));
add('fill int32', [], () => tf.fill([4], 3, 'int32'));
add('fill size 0', [], () => tf.fill([0, 2], 1));
add('zerosLike, onesLike', [floats([2, 3])], (x) => [tf.zerosLike(x), tf.onesLike(x)]);
add('zerosLike, onesLike int32', [ints([3])], (x) => [tf.zerosLike(x), tf.onesLike(x)]);
add('range int32', [], () => [tf.range(0, 7, 1, 'int32'), tf.range(3, 12, 3, 'int32'), tf.range(5, 0, 1, 'int32')]);
add('range float32', [], () => [tf.range(0, 3, 0.5), tf.range(2, -2, -1), tf.range(0, 0), tf.range(1, 5, -1)]);
// Kernels no tfjs 4.22 op reaches (its ops compose others), called directly, against the composed op on cpu.
add(
  'LogSoftmax kernel',
  [floats([2, 3, 5], -5, 5)],
  (x) => tf.engine().runKernel('LogSoftmax', { logits: x }, { axis: -1 }) as tf.Tensor,
  (x) => tf.logSoftmax(x),
);
add(
  'LogicalXor kernel',
  [bools([3, 4]), bools([4])],
  (a, b) => tf.engine().runKernel('LogicalXor', { a, b }, {}) as tf.Tensor,
  tf.logicalXor,
);
add(
  'BroadcastTo kernel',
  [floats([3, 1])],
  (x) => tf.engine().runKernel('BroadcastTo', { x }, { shape: [2, 3, 4], inputShape: [3, 1] }) as tf.Tensor,
  (x) => tf.broadcastTo(x, [2, 3, 4]),
);
add('ones and zeros (written as constants)', [], () => [
  tf.ones([3, 2]),
  tf.zeros([2], 'int32'),
  tf.scalar(0.5),
  tf.tensor([true, true], [2], 'bool'),
]);

function make({ shape, dtype, values }: Input): tf.Tensor {
  return tf.tensor(dtype === 'bool' ? values.map(Boolean) : values, shape, dtype);
}

interface Result {
  shape: number[];
  dtype: string;
  values: number[];
}

function runOn(backend: string, testCase: Case): Result[] {
  tf.setBackend(backend);
  const run = backend === 'cpu' ? (testCase.reference ?? testCase.run) : testCase.run;
  return tf.tidy(() => {
    const out = run(...testCase.inputs.map(make));
    return (Array.isArray(out) ? out : [out]).map((t) => ({
      shape: t.shape,
      dtype: t.dtype,
      values: Array.from(t.dataSync() as ArrayLike<number>),
    }));
  });
}

function expectClose(got: number[], want: number[]) {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (Number.isNaN(want[i])) expect(got[i]).toBeNaN();
    else if (!Number.isFinite(want[i])) expect(got[i]).toBe(want[i]);
    else expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(want[i])));
  }
}

describeTorch('torch kernels agree with the cpu backend', () => {
  const calls = new Map<string, number>();
  beforeAll(() => {
    registerTorchBackend({ threads: 1 });
    // Count the kernels the cases reach, by wrapping each registered torch kernel.
    for (const config of tf.getKernelsForBackend('torch')) {
      tf.unregisterKernel(config.kernelName, 'torch');
      tf.registerKernel({
        ...config,
        kernelFunc: (args) => (
          calls.set(config.kernelName, (calls.get(config.kernelName) ?? 0) + 1),
          (config.kernelFunc as (a: typeof args) => ReturnType<tf.KernelFunc>)(args)
        ),
      });
    }
  });
  afterAll(() => {
    tf.setBackend('cpu');
  });

  for (const testCase of CASES) {
    it(testCase.name, () => {
      const want = runOn('cpu', testCase);
      const before = tf.memory().numTensors;
      const got = runOn('torch', testCase);
      expect(tf.memory().numTensors).toBe(before);
      expect(got.map((r) => [r.shape, r.dtype])).toEqual(want.map((r) => [r.shape, r.dtype]));
      got.forEach((r, i) => expectClose(r.values, want[i].values));
    });
  }

  it('the cases call every registered torch kernel', () => {
    // Fused kernels (Arith*) are ours, not tfjs's: test/fused.test.ts checks them against their composition.
    const missing = torchKernels()
      .map((k) => k.kernelName)
      .filter((name) => !calls.has(name) && !name.startsWith('Arith'));
    expect(missing, `kernels no case calls: ${missing.join(', ')}`).toEqual([]);
  });

  it('native tensors are freed with their tfjs tensors', () => {
    const backend = tf.findBackend('torch') as unknown as { numDataIds(): number; native: { liveTensors(): number } };
    expect(backend.native.liveTensors()).toBe(backend.numDataIds());
  });
});
