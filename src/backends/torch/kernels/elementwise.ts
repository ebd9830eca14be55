import * as tf from '@tensorflow/tfjs';
import { DTYPE_CODES, type TorchAddon, type TorchDtype } from '../addon.ts';
import { kernel, type TorchKernel } from './kernel.ts';

type UnaryName =
  | 'abs'
  | 'neg'
  | 'exp'
  | 'expm1'
  | 'log'
  | 'log1p'
  | 'sqrt'
  | 'rsqrt'
  | 'square'
  | 'reciprocal'
  | 'tanh'
  | 'sin'
  | 'cos'
  | 'tan'
  | 'asin'
  | 'acos'
  | 'atan'
  | 'sinh'
  | 'cosh'
  | 'sigmoid'
  | 'softplus'
  | 'relu'
  | 'relu6'
  | 'elu'
  | 'selu'
  | 'erf'
  | 'floor'
  | 'ceil'
  | 'round'
  | 'sign'
  | 'logicalNot'
  | 'isNaN'
  | 'isInf'
  | 'isFinite';
type BinaryName =
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'floorDiv'
  | 'mod'
  | 'pow'
  | 'maximum'
  | 'minimum'
  | 'squaredDifference'
  | 'atan2'
  | 'equal'
  | 'notEqual'
  | 'less'
  | 'lessEqual'
  | 'greater'
  | 'greaterEqual'
  | 'logicalAnd'
  | 'logicalOr'
  | 'logicalXor';

/**
 * tfjs kernel name -> native function, and the output dtype tfjs gives: 'same' keeps the input's (tfjs's cpu
 * backend truncates sqrt of int32 to int32, for instance), otherwise a fixed dtype.
 */
const UNARY: [string, UnaryName, 'same' | TorchDtype][] = [
  ['Abs', 'abs', 'same'],
  ['Neg', 'neg', 'same'],
  ['Exp', 'exp', 'float32'],
  ['Expm1', 'expm1', 'same'],
  ['Log', 'log', 'same'],
  ['Log1p', 'log1p', 'same'],
  ['Sqrt', 'sqrt', 'same'],
  ['Rsqrt', 'rsqrt', 'same'],
  ['Square', 'square', 'same'],
  ['Reciprocal', 'reciprocal', 'same'],
  ['Tanh', 'tanh', 'same'],
  ['Sin', 'sin', 'same'],
  ['Cos', 'cos', 'same'],
  ['Tan', 'tan', 'same'],
  ['Asin', 'asin', 'same'],
  ['Acos', 'acos', 'same'],
  ['Atan', 'atan', 'same'],
  ['Sinh', 'sinh', 'same'],
  ['Cosh', 'cosh', 'same'],
  ['Sigmoid', 'sigmoid', 'same'],
  ['Softplus', 'softplus', 'same'],
  ['Relu', 'relu', 'same'],
  ['Relu6', 'relu6', 'same'],
  ['Elu', 'elu', 'same'],
  ['Selu', 'selu', 'same'],
  ['Erf', 'erf', 'same'],
  ['Floor', 'floor', 'same'],
  ['Ceil', 'ceil', 'same'],
  ['Round', 'round', 'same'],
  ['Sign', 'sign', 'same'],
  ['LogicalNot', 'logicalNot', 'bool'],
  ['IsNan', 'isNaN', 'bool'],
  ['IsInf', 'isInf', 'bool'],
  ['IsFinite', 'isFinite', 'bool'],
];

/** Binary kernels: arithmetic ones give upcastType(a, b) as tfjs does, comparisons and logic bool, FloorDiv int32. */
const BINARY: [string, BinaryName, 'upcast' | 'bool' | 'int32'][] = [
  ['Add', 'add', 'upcast'],
  ['Sub', 'sub', 'upcast'],
  ['Multiply', 'mul', 'upcast'],
  ['RealDiv', 'div', 'upcast'],
  ['FloorDiv', 'floorDiv', 'int32'],
  ['Mod', 'mod', 'upcast'],
  ['Pow', 'pow', 'upcast'],
  ['Maximum', 'maximum', 'upcast'],
  ['Minimum', 'minimum', 'upcast'],
  ['SquaredDifference', 'squaredDifference', 'upcast'],
  ['Atan2', 'atan2', 'upcast'],
  ['Equal', 'equal', 'bool'],
  ['NotEqual', 'notEqual', 'bool'],
  ['Less', 'less', 'bool'],
  ['LessEqual', 'lessEqual', 'bool'],
  ['Greater', 'greater', 'bool'],
  ['GreaterEqual', 'greaterEqual', 'bool'],
  ['LogicalAnd', 'logicalAnd', 'bool'],
  ['LogicalOr', 'logicalOr', 'bool'],
  ['LogicalXor', 'logicalXor', 'bool'],
];

const unaryKernels = UNARY.map(([name, fn, dtype]) =>
  kernel(name, ({ inputs: { x }, backend }) =>
    backend.result((backend.native[fn] as TorchAddon['abs'])(backend.slot(x)), dtype === 'same' ? x.dtype : dtype),
  ),
);

const binaryKernels = BINARY.map(([name, fn, dtype]) =>
  kernel(name, ({ inputs: { a, b }, backend }) =>
    backend.result(
      (backend.native[fn] as TorchAddon['add'])(backend.slot(a), backend.slot(b)),
      dtype === 'upcast' ? tf.upcastType(a.dtype, b.dtype) : dtype,
    ),
  ),
);

export const elementwiseKernels: TorchKernel[] = [
  ...unaryKernels,
  ...binaryKernels,
  kernel<{ dtype: tf.DataType }>('Cast', ({ inputs: { x }, backend, attrs: { dtype } }) => {
    if (x.dtype === dtype) return backend.alias(x);
    return backend.output(backend.native.cast(backend.slot(x), DTYPE_CODES[dtype as TorchDtype]));
  }),
  kernel('Identity', ({ inputs: { x }, backend }) => backend.alias(x)),
  kernel<{ clipValueMin: number; clipValueMax: number }>('ClipByValue', ({ inputs: { x }, backend, attrs }) =>
    backend.result(backend.native.clip(backend.slot(x), attrs.clipValueMin, attrs.clipValueMax), x.dtype),
  ),
  kernel<{ alpha: number }>('Step', ({ inputs: { x }, backend, attrs }) =>
    backend.result(backend.native.step(backend.slot(x), attrs.alpha), x.dtype),
  ),
  kernel<{ alpha: number }>('LeakyRelu', ({ inputs: { x }, backend, attrs }) =>
    backend.result(backend.native.leakyRelu(backend.slot(x), attrs.alpha), x.dtype),
  ),
  kernel('Prelu', ({ inputs: { x, alpha }, backend }) =>
    backend.result(backend.native.prelu(backend.slot(x), backend.slot(alpha)), x.dtype),
  ),
  kernel('Select', ({ inputs: { condition, t, e }, backend }) =>
    backend.result(backend.native.select(backend.slot(condition), backend.slot(t), backend.slot(e)), tf.upcastType(t.dtype, e.dtype)),
  ),
  {
    kernelName: 'AddN',
    kernelFunc: ({ inputs, backend }) => {
      const tensors = inputs as unknown as tf.TensorInfo[];
      return backend.result(backend.native.addN(tensors.map((t) => backend.slot(t))), tensors[0].dtype);
    },
  },
];
