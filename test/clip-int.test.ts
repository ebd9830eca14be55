import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../src/backends/select.ts';
import { clipInt } from '../src/models/ops.ts';

/** wasm's ClipByValue reads int32 as float32; clipInt must give the same integers on every npm backend. */
describe('clipInt', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`clips int32 to [low, high] and stays int32 on ${backend}, negative bounds included`, async () => {
      await selectBackend(backend);
      const clipped = clipInt(tf.tensor1d([-15, -3, 0, 4, 12], 'int32'), -10, 10);
      expect(clipped.dtype).toBe('int32');
      expect(Array.from(clipped.dataSync())).toEqual([-10, -3, 0, 4, 10]);
      tf.dispose(clipped);
    });
  }
});
