/**
 * The safetensors file format (Hugging Face), float32 only: an 8-byte little-endian header length N, N bytes of
 * JSON `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}`, then the raw
 * little-endian tensor bytes, offsets relative to the end of the header. PyTorch, NumPy and the Hugging Face
 * tools read it; it holds no code, so loading one is safe.
 */

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsContent {
  tensors: Record<string, NamedTensor>;
  metadata: Record<string, string>;
}

/** Thrown by `decodeSafetensors` for bytes that are not a complete, consistent float32 safetensors file. */
export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** The header is padded with spaces so tensor data starts 8-byte aligned (as the reference writer does). */
const ALIGNMENT = 8;

function elementCount(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Tensors in the order given, packed without gaps. */
export function encodeSafetensors(tensors: Record<string, NamedTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, tensor] of Object.entries(tensors)) {
    if (name === '__metadata__') throw new Error('"__metadata__" is reserved in safetensors');
    if (tensor.data.length !== elementCount(tensor.shape)) {
      throw new Error(`tensor ${name}: ${tensor.data.length} values for shape [${tensor.shape}]`);
    }
    header[name] = { dtype: 'F32', shape: tensor.shape, data_offsets: [offset, offset + 4 * tensor.data.length] };
    offset += 4 * tensor.data.length;
  }
  let json = JSON.stringify(header);
  const jsonBytes = new TextEncoder().encode(json).length;
  json += ' '.repeat((ALIGNMENT - ((8 + jsonBytes) % ALIGNMENT)) % ALIGNMENT);
  const headerBytes = new TextEncoder().encode(json);
  const bytes = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  bytes.set(headerBytes, 8);
  let position = 8 + headerBytes.length;
  for (const tensor of Object.values(tensors)) {
    if (LITTLE_ENDIAN) {
      bytes.set(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength), position);
    } else {
      tensor.data.forEach((x, i) => view.setFloat32(position + 4 * i, x, true));
    }
    position += tensor.data.byteLength;
  }
  return bytes;
}

/**
 * Parses and checks a float32 safetensors file: the header length fits the file, the header is a JSON object,
 * every tensor is F32 with a shape matching its byte range, and the ranges tile the data section exactly
 * (so a truncated or padded file is rejected, not half-read).
 */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsContent {
  const fail = (message: string): never => {
    throw new SafetensorsError(message);
  };
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(bytes.length - 8)) fail(`header length ${headerLength} exceeds the file (${bytes.length} bytes)`);
  const dataStart = 8 + Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart)));
  } catch (error) {
    fail(`header is not valid JSON (${(error as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('header is not a JSON object');
  const dataLength = bytes.length - dataStart;
  const tensors: Record<string, NamedTensor> = {};
  let metadata: Record<string, string> = {};
  const ranges: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      const values = Object.values((entry ?? {}) as object);
      if (typeof entry !== 'object' || entry === null || !values.every((v) => typeof v === 'string'))
        fail('__metadata__ is not a map of strings');
      metadata = entry as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets: offsets } = (entry ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (dtype !== 'F32') fail(`tensor ${name}: dtype ${JSON.stringify(dtype)}, only F32 is supported`);
    if (!Array.isArray(shape) || !shape.every((n) => Number.isInteger(n) && n >= 0)) fail(`tensor ${name}: bad shape`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((n) => Number.isInteger(n)))
      fail(`tensor ${name}: bad data_offsets`);
    const [begin, end] = offsets as [number, number];
    const count = elementCount(shape as number[]);
    if (end - begin !== 4 * count) fail(`tensor ${name}: ${end - begin} bytes for shape [${shape}]`);
    if (begin < 0 || end > dataLength) fail(`tensor ${name}: bytes ${begin}..${end} lie beyond the data section (${dataLength} bytes)`);
    ranges.push([begin, end, name]);
    // Aligned data can be viewed in place; otherwise (or on a big-endian machine) copy value by value.
    const start = bytes.byteOffset + dataStart + begin;
    const data =
      LITTLE_ENDIAN && start % 4 === 0
        ? new Float32Array(bytes.buffer, start, count)
        : Float32Array.from({ length: count }, (_, i) => view.getFloat32(dataStart + begin + 4 * i, true));
    tensors[name] = { shape: shape as number[], data };
  }
  ranges.sort((a, b) => a[0] - b[0]);
  let covered = 0;
  for (const [begin, end, name] of ranges) {
    if (begin !== covered) fail(`tensor ${name} starts at byte ${begin}, expected ${covered} (gap or overlap)`);
    covered = end;
  }
  if (covered !== dataLength) fail(`tensors cover ${covered} of ${dataLength} data bytes (truncated or padded file)`);
  return { tensors, metadata };
}
