import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, SafetensorsError, type NamedTensor } from '../src/experiments/safetensors.ts';

/**
 * An independent reader written from the format's description (huggingface/safetensors README), sharing no
 * code with src/: it checks every structural rule itself and returns plain number arrays.
 */
function independentRead(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerSize = Number(view.getBigUint64(0, true));
  expect(8 + headerSize).toBeLessThanOrEqual(bytes.length);
  const headerText = Buffer.from(bytes.subarray(8, 8 + headerSize)).toString('utf8');
  expect(headerText.startsWith('{')).toBe(true);
  expect(headerText.trimEnd().endsWith('}')).toBe(true); // only trailing spaces may pad the header
  const header = JSON.parse(headerText) as Record<string, any>;
  const metadata = header.__metadata__ ?? {};
  for (const value of Object.values(metadata)) expect(typeof value).toBe('string');
  const dataStart = 8 + headerSize;
  const entries = Object.entries(header).filter(([name]) => name !== '__metadata__');
  const ranges = entries.map(([, e]) => e.data_offsets as [number, number]).sort((a, b) => a[0] - b[0]);
  let end = 0;
  for (const [begin, stop] of ranges) {
    expect(begin).toBe(end); // no gaps, no overlaps
    end = stop;
  }
  expect(dataStart + end).toBe(bytes.length); // the ranges cover the data section exactly
  const tensors: Record<string, { shape: number[]; values: number[] }> = {};
  for (const [name, entry] of entries) {
    expect(entry.dtype).toBe('F32');
    const count = (entry.shape as number[]).reduce((a, b) => a * b, 1);
    const [begin, stop] = entry.data_offsets;
    expect(stop - begin).toBe(4 * count);
    const values = Array.from({ length: count }, (_, i) => view.getFloat32(dataStart + begin + 4 * i, true));
    tensors[name] = { shape: entry.shape, values };
  }
  return { headerSize, metadata, tensors };
}

function sample(): Record<string, NamedTensor> {
  return {
    'wte.weight': { shape: [3, 2], data: Float32Array.from([0.5, -1, 2, 1e-8, -3.25, 65504]) },
    'blocks.0.ln_1.bias': { shape: [3], data: Float32Array.from([0, -0, 7]) },
    scalar: { shape: [], data: Float32Array.from([Math.PI]) },
    empty: { shape: [0, 4], data: new Float32Array(0) },
  };
}

describe('safetensors', () => {
  it('round-trips names, shapes, values and metadata; an independent reader agrees byte for byte', () => {
    const tensors = sample();
    const bytes = encodeSafetensors(tensors, { format: 'test', step: '12' });
    const decoded = decodeSafetensors(bytes);
    expect(decoded.metadata).toEqual({ format: 'test', step: '12' });
    expect(Object.keys(decoded.tensors)).toEqual(Object.keys(tensors));
    const independent = independentRead(bytes);
    expect((8 + independent.headerSize) % 8).toBe(0); // data section 8-byte aligned
    expect(independent.metadata).toEqual({ format: 'test', step: '12' });
    for (const [name, tensor] of Object.entries(tensors)) {
      expect(decoded.tensors[name].shape).toEqual(tensor.shape);
      expect(Array.from(decoded.tensors[name].data)).toEqual(Array.from(tensor.data));
      expect(independent.tensors[name]).toEqual({ shape: tensor.shape, values: Array.from(tensor.data) });
    }
  });

  it('reads tensor data at an unaligned position (a Buffer slice of a bigger file)', () => {
    const bytes = encodeSafetensors(sample());
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const decoded = decodeSafetensors(shifted.subarray(1));
    expect(Array.from(decoded.tensors['wte.weight'].data)).toEqual(Array.from(sample()['wte.weight'].data));
  });

  it('rejects truncated, padded and inconsistent files with a reason', () => {
    const bytes = encodeSafetensors(sample());
    const reject = (data: Uint8Array) => {
      try {
        decodeSafetensors(data);
      } catch (error) {
        expect(error).toBeInstanceOf(SafetensorsError);
        return (error as Error).message;
      }
      throw new Error('expected a SafetensorsError');
    };
    expect(reject(bytes.subarray(0, 5))).toMatch(/shorter than the 8-byte header length/);
    expect(reject(bytes.subarray(0, 40))).toMatch(/header length \d+ exceeds the file/);
    expect(reject(bytes.subarray(0, bytes.length - 4))).toMatch(/beyond the data section|truncated/);
    const padded = new Uint8Array(bytes.length + 4);
    padded.set(bytes);
    expect(reject(padded)).toMatch(/cover \d+ of \d+ data bytes/);
    const garbled = bytes.slice();
    garbled[9] = 0x7b; // '{' where '"' was: the header no longer parses
    expect(reject(garbled)).toMatch(/not valid JSON/);
    const header = (json: object) => {
      const text = new TextEncoder().encode(JSON.stringify(json));
      const out = new Uint8Array(8 + text.length + 8);
      new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
      out.set(text, 8);
      return out;
    };
    expect(reject(header({ a: { dtype: 'F16', shape: [4], data_offsets: [0, 8] } }))).toMatch(/dtype "F16", only F32/);
    expect(reject(header({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }))).toMatch(/8 bytes for shape \[3\]/);
    expect(
      reject(header({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } })),
    ).toMatch(/gap or overlap/);
  });

  it('refuses to write a tensor whose data does not fill its shape', () => {
    expect(() => encodeSafetensors({ w: { shape: [2, 2], data: new Float32Array(3) } })).toThrow(/3 values for shape \[2,2\]/);
  });
});
