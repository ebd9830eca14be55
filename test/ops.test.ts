import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/backends/select.ts';
import { maskedCrossEntropy } from '../src/models/loss.ts';
import { embed, gelu, layerNorm, linear, matmul, transposeLast2 } from '../src/models/ops.ts';
import { testBackend } from './fixtures/backend.ts';

beforeAll(async () => {
  await selectBackend(testBackend('cpu'));
});

function expectClose(got: tf.Tensor, want: tf.Tensor, tolerance = 1e-5) {
  expect(got.shape).toEqual(want.shape);
  const g = got.dataSync();
  const w = want.dataSync();
  let worst = 0;
  for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(g[i] - w[i]));
  expect(worst).toBeLessThan(tolerance);
}

describe('matmul (custom gradient)', () => {
  const cases: [string, number[], number[]][] = [
    ['2-D', [5, 7], [7, 3]],
    ['4-D batched', [2, 3, 4, 5], [2, 3, 5, 6]],
  ];
  for (const [label, aShape, bShape] of cases) {
    it(`${label}: same value and gradients as tf.matMul`, () => {
      tf.tidy(() => {
        const a = tf.randomNormal(aShape, 0, 1, 'float32', 1);
        const b = tf.randomNormal(bShape, 0, 1, 'float32', 2);
        const ours = matmul(a, b);
        const theirs = tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D);
        expectClose(ours, theirs);
        const dy = tf.randomNormal(theirs.shape, 0, 1, 'float32', 3);
        const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) => matmul(x, y))([a, b], dy);
        const [ra, rb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D))([a, b], dy);
        expect(da.shape).toEqual(aShape);
        expect(db.shape).toEqual(bShape);
        expectClose(da, ra);
        expectClose(db, rb);
        // The gradient is not trivially the value: a wrong transpose would fail one of these.
        expect(tf.max(tf.abs(da)).dataSync()[0]).toBeGreaterThan(0.1);
      });
    });
  }

  it('linear = x @ W + b over leading axes, with the same gradients as the tf.matMul formulation', () => {
    tf.tidy(() => {
      const x = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 4);
      const w = tf.randomNormal([4, 5], 0, 1, 'float32', 5);
      const b = tf.randomNormal([5], 0, 1, 'float32', 6);
      const reference = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
        tf.add(tf.matMul(xx.reshape([6, 4]) as tf.Tensor2D, ww as tf.Tensor2D), bb).reshape([2, 3, 5]);
      const y = linear(x, w, b);
      expectClose(y, reference(x, w, b));
      const dy = tf.randomNormal([2, 3, 5], 0, 1, 'float32', 7);
      const ours = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => linear(xx, ww, bb))([x, w, b], dy);
      const theirs = tf.grads(reference)([x, w, b], dy);
      ours.forEach((g, i) => expectClose(g, theirs[i]));
    });
  });

  it('transposeLast2 swaps only the last two axes', () => {
    tf.tidy(() => {
      const x = tf.randomNormal([2, 3, 4, 5], 0, 1, 'float32', 8);
      const t = transposeLast2(x);
      expect(t.shape).toEqual([2, 3, 5, 4]);
      const xs = x.arraySync() as number[][][][];
      const ts = t.arraySync() as number[][][][];
      expect(ts[1][2][4][3]).toBe(xs[1][2][3][4]);
      expect(ts[0][1][2][0]).toBe(xs[0][1][0][2]);
    });
  });
});

describe('embed', () => {
  it('equals tf.gather in value and in gradient (cpu), repeated ids included', () => {
    tf.tidy(() => {
      const table = tf.randomNormal([9, 6], 0, 1, 'float32', 10);
      const ids = tf.tensor2d(
        [
          [0, 3, 3, 8, 1],
          [3, 5, 0, 0, 7],
        ],
        [2, 5],
        'int32',
      );
      const ours = embed(ids, table);
      expect(ours.shape).toEqual([2, 5, 6]);
      expect(Array.from(ours.dataSync())).toEqual(Array.from(tf.gather(table, ids).dataSync()));

      const dy = tf.randomNormal([2, 5, 6], 0, 1, 'float32', 11);
      const g = tf.grad((t: tf.Tensor) => embed(ids, t))(table, dy);
      const ref = tf.grad((t: tf.Tensor) => tf.gather(t, ids))(table, dy);
      expectClose(g, ref);
      // Rows never looked up get no gradient; id 3 (three uses) accumulates.
      const gs = g.arraySync() as number[][];
      expect(gs[2].every((v) => v === 0)).toBe(true);
      expect(gs[3].some((v) => v !== 0)).toBe(true);
    });
  });
});

describe('layerNorm', () => {
  it('gain 1, bias 0: every row has mean 0 and variance 1', () => {
    tf.tidy(() => {
      const x = tf.add(tf.mul(tf.randomNormal([4, 3, 32], 0, 1, 'float32', 12), 5), 3);
      const y = layerNorm(x, tf.ones([32]), tf.zeros([32]));
      const { mean, variance } = tf.moments(y, 2);
      for (const m of mean.dataSync()) expect(Math.abs(m)).toBeLessThan(1e-5);
      for (const v of variance.dataSync()) expect(Math.abs(v - 1)).toBeLessThan(1e-4);
    });
  });

  it('applies gain and bias per feature after normalising', () => {
    tf.tidy(() => {
      const x = tf.tensor2d([[1, 2, 3, 6]]);
      const gain = tf.tensor1d([1, 2, 0.5, -1]);
      const bias = tf.tensor1d([0, 1, -1, 10]);
      const y = layerNorm(x, gain, bias).dataSync();
      // mean 3, population variance (4 + 1 + 0 + 9) / 4 = 3.5
      const s = Math.sqrt(3.5 + 1e-5);
      const want = [(-2 / s) * 1 + 0, (-1 / s) * 2 + 1, 0 * 0.5 - 1, (3 / s) * -1 + 10];
      want.forEach((w, i) => expect(y[i]).toBeCloseTo(w, 5));
    });
  });
});

describe('maskedCrossEntropy', () => {
  // Row 0: logits [1, 2, 3], target 2  -> log(1 + e^-1 + e^-2) = 0.40760596
  // Row 1: logits [0, 0, 0], target 0  -> log 3                 = 1.09861229
  // Row 2: logits [5, -1, 0], target 1 -> masked out
  const targets = () => tf.tensor2d([[2, 0, 1]], [1, 3], 'int32');
  const mask = () => tf.tensor2d([[1, 1, 0]], [1, 3], 'float32');
  const expected = (0.40760596 + 1.09861229) / 2;

  it('matches a hand-computed mean over masked positions', () => {
    tf.tidy(() => {
      const logits = tf.tensor3d([
        [
          [1, 2, 3],
          [0, 0, 0],
          [5, -1, 0],
        ],
      ]);
      expect(maskedCrossEntropy(logits, targets(), mask()).dataSync()[0]).toBeCloseTo(expected, 6);
    });
  });

  it('ignores logits where the mask is 0, but not where it is 1', () => {
    tf.tidy(() => {
      const changedMasked = tf.tensor3d([
        [
          [1, 2, 3],
          [0, 0, 0],
          [-30, 40, 7],
        ],
      ]);
      expect(maskedCrossEntropy(changedMasked, targets(), mask()).dataSync()[0]).toBeCloseTo(expected, 6);
      const changedKept = tf.tensor3d([
        [
          [1, 2, 3],
          [2, 0, 0],
          [5, -1, 0],
        ],
      ]);
      expect(maskedCrossEntropy(changedKept, targets(), mask()).dataSync()[0]).not.toBeCloseTo(expected, 3);
      // The gradient at the masked position is exactly zero.
      const grad = tf.grad((l: tf.Tensor) => maskedCrossEntropy(l as tf.Tensor3D, targets(), mask()))(changedMasked);
      expect((grad.arraySync() as number[][][])[0][2].map((v) => Math.abs(v))).toEqual([0, 0, 0]);
    });
  });

  it('averages over all masked tokens of the batch, and an all-zero mask gives 0', () => {
    tf.tidy(() => {
      // Two rows, one unmasked token each, uniform logits over 4 tokens -> log 4 each.
      const logits = tf.zeros([2, 2, 4]) as tf.Tensor3D;
      const t = tf.tensor2d(
        [
          [0, 1],
          [2, 3],
        ],
        [2, 2],
        'int32',
      );
      const m = tf.tensor2d(
        [
          [1, 0],
          [0, 1],
        ],
        [2, 2],
        'float32',
      );
      expect(maskedCrossEntropy(logits, t, m).dataSync()[0]).toBeCloseTo(Math.log(4), 6);
      expect(Math.abs(maskedCrossEntropy(logits, t, tf.zeros([2, 2]) as tf.Tensor2D).dataSync()[0])).toBe(0);
    });
  });
});

describe('gelu', () => {
  it('matches the tanh formula and its gradient matches autodiff of the composed formula', () => {
    const x = tf.tensor1d([-4, -1.5, -0.3, 0, 0.2, 1, 2.5, 6]);
    const composed = (t: tf.Tensor) =>
      tf.mul(tf.mul(0.5, t), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(t, tf.mul(0.044715, tf.pow(t, 3)))))));
    const ours = Array.from(gelu(x).dataSync());
    const reference = Array.from(composed(x).dataSync());
    ours.forEach((v, i) => expect(v).toBeCloseTo(reference[i], 6));
    const weights = tf.tensor1d([1, -2, 0.5, 3, 1, -1, 2, 0.25]); // a non-uniform upstream gradient
    const [ourGrad] = tf.grads((t: tf.Tensor) => tf.sum(tf.mul(gelu(t), weights)))([x]);
    const [referenceGrad] = tf.grads((t: tf.Tensor) => tf.sum(tf.mul(composed(t), weights)))([x]);
    const a = Array.from(ourGrad.dataSync());
    const b = Array.from(referenceGrad.dataSync());
    a.forEach((v, i) => expect(Math.abs(v - b[i])).toBeLessThan(1e-5));
  });
});
