import * as tf from '@tensorflow/tfjs';
import { DTYPE_CODES, DTYPES, type Slot, type TorchAddon, type TorchDtype } from './addon.ts';

interface TensorData {
  slot: Slot;
  refCount: number;
}

type DataId = object;

/**
 * tfjs backend over libtorch, shaped like tfjs-node's: a map from tfjs data ids to native tensors (slots in the
 * addon's table) with reference counts, reads that copy out, and kernels in ./kernels (one file per family)
 * registered by ./register.ts. Shapes and dtypes of results come from the native side, through a shared
 * Int32Array the addon fills after every call, so no kernel computes an output shape in JavaScript.
 */
export class TorchBackend extends tf.KernelBackend {
  private readonly data = new WeakMap<DataId, TensorData>();
  private dataIds = 0;
  /** [rank, dtype code, dim0, dim1, ...] of the last result (native/torch/src/tensor_handle.cc). */
  private readonly description = new Int32Array(18);
  /** Bytes handed to write() and move(), for measuring host uploads. */
  writtenBytes = 0;

  constructor(readonly native: TorchAddon) {
    super();
    native.setDescriptionBuffer(this.description);
  }

  // ---- for kernels ----

  /** The native tensor of a tfjs tensor. */
  slot(info: tf.TensorInfo): Slot {
    const entry = this.data.get(info.dataId);
    if (!entry) throw new Error('torch backend: tensor data not found (disposed, or owned by another backend)');
    return entry.slot;
  }

  /** Wraps a native result (described by the call that produced it) as a tfjs TensorInfo. */
  output(slot: Slot): tf.TensorInfo {
    const d = this.description;
    const rank = d[0];
    const shape = new Array<number>(rank);
    for (let i = 0; i < rank; i++) shape[i] = d[2 + i];
    const dtype = DTYPES[d[1]];
    const dataId = {};
    this.data.set(dataId, { slot, refCount: 1 });
    this.dataIds++;
    return { dataId, shape, dtype };
  }

  /**
   * Like `output`, casting first when libtorch's result dtype differs from the one tfjs gives (libtorch turns
   * integer inputs of sqrt, div, mean, ... into floats; tfjs keeps int32).
   */
  result(slot: Slot, dtype: tf.DataType): tf.TensorInfo {
    const code = DTYPE_CODES[dtype as TorchDtype];
    if (this.description[1] === code) return this.output(slot);
    const cast = this.native.cast(slot, code);
    this.native.dispose(slot);
    return this.output(cast);
  }

  /** Several native results (from unstack, split, ...). */
  outputs(slots: Slot[]): tf.TensorInfo[] {
    return slots.map((slot) => {
      this.native.describe(slot);
      return this.output(slot);
    });
  }

  /** The input itself under a new reference (Identity, no-op casts and reshapes to the same shape). */
  alias(info: tf.TensorInfo): tf.TensorInfo {
    this.incRef(info.dataId);
    return { dataId: info.dataId, shape: info.shape, dtype: info.dtype };
  }

  // ---- KernelBackend ----

  override write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): DataId {
    const dataId = {};
    this.move(dataId, values, shape, dtype, 1);
    return dataId;
  }

  override move(dataId: DataId, values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType, refCount: number): void {
    if (!(dtype in DTYPE_CODES)) throw new Error(`torch backend: dtype ${dtype} is not supported`);
    const typed = values as Float32Array | Int32Array | Uint8Array;
    this.writtenBytes += typed.byteLength;
    const slot = this.native.fromBuffer(typed, shape, DTYPE_CODES[dtype as TorchDtype]);
    this.data.set(dataId, { slot, refCount });
    this.dataIds++;
  }

  override async read(dataId: DataId): Promise<tf.backend_util.BackendValues> {
    return this.readSync(dataId);
  }

  override readSync(dataId: DataId): tf.backend_util.BackendValues {
    const entry = this.data.get(dataId);
    if (!entry) throw new Error('torch backend: reading a disposed tensor');
    return this.native.read(entry.slot);
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const entry = this.data.get(dataId);
    if (!entry) return true;
    entry.refCount--;
    if (!force && entry.refCount > 0) return false;
    this.native.dispose(entry.slot);
    this.data.delete(dataId);
    this.dataIds--;
    return true;
  }

  override incRef(dataId: DataId): void {
    const entry = this.data.get(dataId);
    if (entry) entry.refCount++;
  }

  override refCount(dataId: DataId): number {
    return this.data.get(dataId)?.refCount ?? 0;
  }

  override numDataIds(): number {
    return this.dataIds;
  }

  override memory(): { unreliable: boolean; reasons: string[]; nativeTensors: number } {
    return { unreliable: true, reasons: ['libtorch allocates outside JavaScript'], nativeTensors: this.native.liveTensors() };
  }

  override timerAvailable(): boolean {
    return true;
  }

  override async time(f: () => void): Promise<tf.BackendTimingInfo> {
    const started = performance.now();
    f();
    return { kernelMs: performance.now() - started };
  }

  override floatPrecision(): 16 | 32 {
    return 32;
  }

  override epsilon(): number {
    return 1e-7;
  }

  override dispose(): void {}
}
