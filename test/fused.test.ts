import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/backends/select.ts';
import { registerTorchBackend } from '../src/backends/torch/index.ts';
import { AdamW, clipByGlobalNorm } from '../src/experiments/adamw.ts';
import { trainStep } from '../src/experiments/train.ts';
import { FUSIONS, setFusions, useFused } from '../src/models/fused.ts';
import { Gpt } from '../src/models/gpt.ts';
import { maskedCrossEntropy } from '../src/models/loss.ts';
import type { PositionalName } from '../src/models/positional/index.ts';
import { attention, gelu, layerNorm, linear, matmul, qkvAttention, transposeLast2 } from '../src/models/ops.ts';
import { alibiSlopes } from '../src/models/positional/alibi.ts';
import { createRandom } from '../src/random.ts';
import { tinyGptConfig } from './fixtures/tinyGptConfig.ts';
import { describeTorch } from './fixtures/torch.ts';

/**
 * Fused kernels (src/models/fused.ts, native/torch/src/fused_*.cc) against the composed tfjs ops on the cpu
 * backend, forward and gradients, on random inputs; and the fallback: where a backend lacks the kernels, the op
 * functions are the composed ops, to the bit.
 */

type Host = { shape: number[]; values: Float32Array | Int32Array };

function randomArray(shape: number[], seed: string, scale = 1, shift = 0): Host {
  const random = createRandom(7, seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return { shape, values: Float32Array.from({ length: size }, () => random.normal() * scale + shift) };
}

const tensor = (h: Host) => tf.tensor(h.values, h.shape, h.values instanceof Int32Array ? 'int32' : 'float32');

/** Runs `fn` on a backend with the given fusions and copies its results out. */
async function compute(backend: 'cpu' | 'torch' | 'wasm', fusions: 'all' | 'none', fn: () => tf.Tensor[]): Promise<Host[]> {
  await selectBackend(backend as 'cpu');
  setFusions(fusions);
  try {
    const outputs = tf.tidy(fn);
    const values = await Promise.all(outputs.map(async (t) => ({ shape: t.shape, values: (await t.data()) as Float32Array })));
    tf.dispose(outputs);
    return values;
  } finally {
    setFusions('all');
  }
}

/** Elementwise |got - want| <= rtol * (|want| + 0.1 * max|want|): relative, with a floor for values near zero. */
function expectClose(got: Host[], want: Host[], rtol = 1e-4) {
  expect(got.length).toBe(want.length);
  got.forEach((g, n) => {
    const w = want[n];
    expect(g.shape, `output ${n}`).toEqual(w.shape);
    let scale = 0;
    for (const x of w.values) scale = Math.max(scale, Math.abs(x));
    let worst = 0;
    for (let i = 0; i < w.values.length; i++) {
      worst = Math.max(worst, Math.abs(g.values[i] - w.values[i]) / (Math.abs(w.values[i]) + 0.1 * scale + 1e-30));
    }
    expect(worst, `output ${n}: worst relative difference`).toBeLessThan(rtol);
  });
}

function expectBitwise(got: Host[], want: Host[]) {
  expect(got.length).toBe(want.length);
  got.forEach((g, n) => {
    expect(g.shape).toEqual(want[n].shape);
    expect(Buffer.from(g.values.buffer).equals(Buffer.from(want[n].values.buffer)), `output ${n} differs`).toBe(true);
  });
}

/** Value of `op` and the gradients of sum(op(...) * weights) with respect to every input. */
function valueAndGrads(op: (...xs: tf.Tensor[]) => tf.Tensor, inputs: Host[], weights: Host): () => tf.Tensor[] {
  return () => {
    const xs = inputs.map(tensor);
    const value = op(...xs);
    const grads = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(op(...args), tensor(weights))))(xs);
    return [value, ...grads];
  };
}

/** The attention bias the model builds: causal with `offset` cached keys (-1e9 on future keys), plus ALiBi. */
function attentionBias(heads: number, queries: number, offset: number, withAlibi: boolean): Host {
  const keys = offset + queries;
  const slopes = alibiSlopes(heads);
  const values = new Float32Array((withAlibi ? heads : 1) * queries * keys);
  for (let h = 0; h < (withAlibi ? heads : 1); h++) {
    for (let i = 0; i < queries; i++) {
      for (let j = 0; j < keys; j++) {
        const distance = offset + i - j;
        values[(h * queries + i) * keys + j] = (distance < 0 ? -1e9 : 0) + (withAlibi ? -slopes[h] * Math.max(distance, 0) : 0);
      }
    }
  }
  return { shape: withAlibi ? [1, heads, queries, keys] : [queries, keys], values };
}

/** [B, T, H, d] data as [B, H, T, d] through a transpose, as the model's splitHeads hands q, k and v over. */
const heads = (h: Host) => () => tensor(h).transpose([0, 2, 1, 3]);

describeTorch('fused kernels on torch match the composed ops on cpu', () => {
  beforeAll(() => {
    registerTorchBackend({ threads: 1 });
  });
  afterEach(() => setFusions('all'));

  it('torch registers every fused kernel; cpu none', async () => {
    await selectBackend('torch' as 'cpu');
    for (const fusion of FUSIONS) expect(useFused(fusion), fusion).toBe(true);
    await selectBackend('cpu');
    for (const fusion of FUSIONS) expect(useFused(fusion), fusion).toBe(false);
  });

  it('linear with a bias: value and gradients of x, weight, bias', async () => {
    const inputs = [randomArray([3, 5, 16], 'x'), randomArray([16, 7], 'weight'), randomArray([7], 'bias')];
    const run = valueAndGrads((x, w, b) => linear(x, w, b), inputs, randomArray([3, 5, 7], 'w'));
    expectClose(await compute('torch', 'all', run), await compute('cpu', 'none', run));
  });

  it('linear without a bias, through a transposed weight (the tied output head): value and gradients', async () => {
    const inputs = [randomArray([3, 5, 16], 'x'), randomArray([11, 16], 'table')];
    const run = valueAndGrads((x, table) => linear(x, tf.transpose(table)), inputs, randomArray([3, 5, 11], 'w'));
    expectClose(await compute('torch', 'all', run), await compute('cpu', 'none', run));
  });

  it('layer norm: value and gradients of x, gain, bias', async () => {
    const inputs = [randomArray([3, 7, 48], 'x', 2, 0.5), randomArray([48], 'gain', 0.5, 1), randomArray([48], 'bias')];
    const run = valueAndGrads((x, g, b) => layerNorm(x, g, b), inputs, randomArray([3, 7, 48], 'w'));
    expectClose(await compute('torch', 'all', run), await compute('cpu', 'none', run));
  });

  it('GELU (tanh): value and gradient', async () => {
    const run = valueAndGrads((x) => gelu(x), [randomArray([5, 64], 'x', 3)], randomArray([5, 64], 'w'));
    expectClose(await compute('torch', 'all', run), await compute('cpu', 'none', run));
  });

  it('GELU (tanh) where the sigmoid saturates, at zero, and on a length no vector width divides', async () => {
    // The addon's loop takes exp of -|t| only: far negative inputs give exactly 0 (not NaN from inf / inf), far
    // positive ones x itself; 203 values leave a remainder after every vector of 4 and 8.
    const extremes = [-1e4, -200, -30, -9, -5, -1e-3, -1e-30, 0, 1e-30, 1e-3, 5, 9, 30, 200, 1e4];
    const random = randomArray([203 - extremes.length], 'wide', 6).values;
    const x: Host = { shape: [7, 29], values: Float32Array.from([...extremes, ...random]) };
    const run = valueAndGrads((a) => gelu(a), [x], randomArray([7, 29], 'w'));
    const [got, want] = [await compute('torch', 'all', run), await compute('cpu', 'none', run)];
    expectClose(got, want, 1e-5);
    const [y, dx] = got.map((h) => h.values);
    for (const v of [y[0], y[1], y[2], dx[0], dx[1]]) expect(Math.abs(v)).toBe(0);
    expect([y[13], y[14]]).toEqual([200, 1e4]);
  });

  // Heads up to 8 wide run the addon's own loops on the CPU, wider ones ATen's batched products
  // (native/torch/src/fused_attention.cc); 21 keys and 5-wide heads leave remainders after every vector of 8.
  const attentionCases: [string, number, number, boolean, number][] = [
    ['causal', 6, 0, false, 8],
    ['causal + ALiBi', 6, 0, true, 8],
    ['decoding with 4 cached keys, causal', 2, 4, false, 8],
    ['decoding with 4 cached keys, ALiBi', 2, 4, true, 8],
    ['one new token after 7 cached, ALiBi', 1, 7, true, 8],
    ['causal, 21 keys, heads 5 wide', 21, 0, false, 5],
    ['causal + ALiBi, heads 48 wide', 6, 0, true, 48],
  ];
  for (const [label, queries, offset, withAlibi, d] of attentionCases) {
    it(`attention, ${label}: value and gradients of q, k, v`, async () => {
      const [B, H] = [2, 4];
      const q = randomArray([B, queries, H, d], 'q');
      const k = randomArray([B, offset + queries, H, d], 'k');
      const v = randomArray([B, offset + queries, H, d], 'v');
      const bias = attentionBias(H, queries, offset, withAlibi);
      const weights = randomArray([B, H, queries, d], 'w');
      const run = () => {
        const [tq, tk, tv] = [heads(q)(), heads(k)(), heads(v)()];
        const op = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => attention(a, b, c, tensor(bias));
        const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(op(a, b, c), tensor(weights))))([tq, tk, tv]);
        return [op(tq, tk, tv), ...grads];
      };
      expectClose(await compute('torch', 'all', run), await compute('cpu', 'none', run));
    });
  }

  for (const [label, queries, offset] of [
    ['a learned bias (T5, FIRE), causal', 6, 0],
    ['a learned bias, decoding with 4 cached keys', 2, 4],
  ] as [string, number, number][]) {
    it(`attention with ${label}: value and gradients of q, k, v and the bias`, async () => {
      const [B, H, d] = [2, 4, 8];
      const q = randomArray([B, queries, H, d], 'q');
      const k = randomArray([B, offset + queries, H, d], 'k');
      const v = randomArray([B, offset + queries, H, d], 'v');
      const mask = attentionBias(H, queries, offset, false);
      const learned = randomArray([1, H, queries, offset + queries], 'bias');
      const weights = randomArray([B, H, queries, d], 'w');
      const run = () => {
        const [tq, tk, tv] = [heads(q)(), heads(k)(), heads(v)()];
        // The model adds the learned bias to the constant causal mask; the gradient reaches the learned part.
        const op = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, e: tf.Tensor) =>
          attention(a, b, c, tf.add(tensor(mask), e), { learnedBias: true });
        const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, e: tf.Tensor) => tf.sum(tf.mul(op(a, b, c, e), tensor(weights))))(
          [tq, tk, tv, tensor(learned)],
        );
        return [op(tq, tk, tv, tensor(learned)), ...grads];
      };
      const fused = await compute('torch', 'all', run);
      expectClose(fused, await compute('cpu', 'none', run));
      expect(Math.max(...Array.from(fused[4].values).map(Math.abs))).toBeGreaterThan(1e-3); // the bias has a gradient
    });
  }

  // Attention straight from c_attn's q|k|v output (ops.ts qkvAttention): on torch one kernel each way, heads of up
  // to 8 floats as vector lanes, of 16, 32 or 64 as loops per (batch, head); compared with the model's split,
  // attention() and merge on cpu. 16 heads of 4 is the 4x4 multiplication config, 4 of 16 the addition configs;
  // 5 heads (not a multiple of a vector) and 21 tokens leave remainders; heads 24 wide take ATen's products.
  const qkvCases: [string, number, number, number, boolean][] = [
    ['16 heads of 4, causal', 16, 4, 22, false],
    ['4 heads of 8, causal + ALiBi', 4, 8, 6, true],
    ['5 heads of 3, 21 tokens, causal + ALiBi', 5, 3, 21, true],
    ['4 heads of 16, 20 tokens, causal', 4, 16, 20, false],
    ['3 heads of 32, 9 tokens, causal + ALiBi', 3, 32, 9, true],
    ['2 heads of 64, 5 tokens, causal + ALiBi', 2, 64, 5, true],
    ['2 heads of 24 (ATen), causal + ALiBi', 2, 24, 6, true],
  ];
  for (const [label, H, d, T, withAlibi] of qkvCases) {
    it(`attention from qkv, ${label}: value and gradient of qkv`, async () => {
      const B = 3;
      const qkv = randomArray([B, T, 3 * H * d], 'qkv');
      const bias = attentionBias(H, T, 0, withAlibi);
      const weights = randomArray([B, T, H * d], 'w');
      const composed = (x: tf.Tensor) => {
        const split = (t: tf.Tensor) => t.reshape([B, T, H, d]).transpose([0, 2, 1, 3]);
        const [q, k, v] = tf.split(x, 3, 2).map(split);
        return attention(q, k, v, tensor(bias))
          .transpose([0, 2, 1, 3])
          .reshape([B, T, H * d]);
      };
      let direct = 0;
      const op = (x: tf.Tensor) => {
        const fused = qkvAttention(x, tensor(bias), H);
        if (fused) direct++;
        return fused ?? composed(x);
      };
      const fused = await compute('torch', 'all', valueAndGrads(op, [qkv], weights));
      expect(direct, 'the torch run took the qkv kernel').toBeGreaterThan(0);
      direct = 0;
      expectClose(fused, await compute('cpu', 'none', valueAndGrads(op, [qkv], weights)));
      expect(direct, 'cpu has no qkv kernel').toBe(0);
    });
  }

  // A learned bias (T5, FIRE) added to the causal mask: the qkv kernel's gradient also returns the bias's, summed
  // to its shape: one bias for every sequence [1, H, T, T], one per sequence (randomized positions) [B, H, T, T],
  // and heads 24 wide on ATen's path.
  const learnedQkvCases: [string, number, number, number, boolean][] = [
    ['4 heads of 8, one bias for all sequences', 4, 8, 7, false],
    ['5 heads of 3, a bias per sequence', 5, 3, 9, true],
    ['4 heads of 16, one bias for all sequences', 4, 16, 7, false],
    ['2 heads of 32, a bias per sequence', 2, 32, 11, true],
    ['2 heads of 24 (ATen), one bias for all sequences', 2, 24, 6, false],
    ['2 heads of 24 (ATen), a bias per sequence', 2, 24, 6, true],
  ];
  for (const [label, H, d, T, perSequence] of learnedQkvCases) {
    it(`attention from qkv with a learned bias, ${label}: value and gradients of qkv and the bias`, async () => {
      const B = 3;
      const qkv = randomArray([B, T, 3 * H * d], 'qkv');
      const mask = attentionBias(H, T, 0, false);
      const learned = randomArray([perSequence ? B : 1, H, T, T], 'bias');
      const weights = randomArray([B, T, H * d], 'w');
      const composed = (x: tf.Tensor, bias: tf.Tensor) => {
        const split = (t: tf.Tensor) => t.reshape([B, T, H, d]).transpose([0, 2, 1, 3]);
        const [q, k, v] = tf.split(x, 3, 2).map(split);
        return attention(q, k, v, bias, { learnedBias: true })
          .transpose([0, 2, 1, 3])
          .reshape([B, T, H * d]);
      };
      let direct = 0;
      const op = (x: tf.Tensor, e: tf.Tensor) => {
        const bias = tf.add(tensor(mask), e);
        const fused = qkvAttention(x, bias, H, { learnedBias: true });
        if (fused) direct++;
        return fused ?? composed(x, bias);
      };
      const fused = await compute('torch', 'all', valueAndGrads(op, [qkv, learned], weights));
      expect(direct, 'the torch run took the qkv kernel').toBeGreaterThan(0);
      direct = 0;
      expectClose(fused, await compute('cpu', 'none', valueAndGrads(op, [qkv, learned], weights)));
      expect(direct, 'cpu has no qkv kernel').toBe(0);
      // The future keys' bias entries get no gradient; the past ones do.
      const dBias = fused[2].values;
      expect(Math.abs(dBias[1]), 'query 0, key 1 (future)').toBe(0);
      expect(Math.abs(dBias[T]), 'query 1, key 0').toBeGreaterThan(1e-4);
    });
  }

  const crossEntropyCases: [string, (i: number) => number][] = [
    ['answer-token mask', (i) => (i % 3 === 0 ? 0 : 1)],
    ['empty mask (loss 0, gradient 0)', () => 0],
  ];
  for (const [label, maskAt] of crossEntropyCases) {
    it(`masked cross-entropy, ${label}: value and gradient of the logits`, async () => {
      const [B, T, V] = [3, 5, 11];
      const random = createRandom(3, 'targets');
      const targets: Host = { shape: [B, T], values: Int32Array.from({ length: B * T }, () => random.int(0, V - 1)) };
      const mask: Host = { shape: [B, T], values: Float32Array.from({ length: B * T }, (_, i) => maskAt(i)) };
      const logits = randomArray([B, T, V], 'logits', 3);
      const run = () => {
        const loss = (x: tf.Tensor) => maskedCrossEntropy(x as tf.Tensor3D, tensor(targets) as tf.Tensor2D, tensor(mask) as tf.Tensor2D);
        const x = tensor(logits);
        return [loss(x), tf.grad(loss)(x, tf.scalar(1.7))];
      };
      const want = await compute('cpu', 'none', run);
      expectClose(await compute('torch', 'all', run), want);
    });
  }

  for (const maxNorm of [0.5, 1e6]) {
    it(`global-norm clipping at ${maxNorm}: the norm and the clipped gradients`, async () => {
      const shapes: number[][] = [[6, 5], [5], [4, 3, 2], [1]];
      const results: Host[][] = [];
      for (const backend of ['torch', 'cpu'] as const) {
        await selectBackend(backend as 'cpu');
        setFusions(backend === 'torch' ? 'all' : 'none');
        const grads = Object.fromEntries(shapes.map((shape, i) => [`p${i}`, tensor(randomArray(shape, `grad${i}`, 0.3))]));
        const before = tf.memory().numTensors;
        const { grads: clipped, norm } = await clipByGlobalNorm(grads, maxNorm);
        expect(tf.memory().numTensors).toBe(before);
        results.push([
          { shape: [], values: Float32Array.of(norm) },
          ...(await Promise.all(Object.values(clipped).map(async (t) => ({ shape: t.shape, values: (await t.data()) as Float32Array })))),
        ]);
        tf.dispose(Object.values(clipped));
      }
      expectClose(results[0], results[1], 1e-5);
    });
  }

  it('AdamW: three steps of weights and moments, in place (same data ids, no new tensors)', async () => {
    const shapes: Record<string, number[]> = { 'a.weight': [6, 5], 'a.bias': [5], table: [4, 3, 2] };
    const run = (backend: 'cpu' | 'torch') => {
      const params = Object.fromEntries(
        Object.entries(shapes).map(([name, shape]) => [name, tf.variable(tensor(randomArray(shape, name)))]),
      );
      const optimizer = new AdamW(params, { beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0.1 });
      const ids = Object.values(params).map((p) => p.dataId);
      for (let step = 1; step <= 3; step++) {
        const grads = Object.fromEntries(
          Object.entries(shapes).map(([name, shape]) => [name, tensor(randomArray(shape, `${name}:grad:${step}`, step))]),
        );
        const before = tf.memory().numTensors;
        optimizer.apply(grads, 0.01 * step);
        expect(tf.memory().numTensors).toBe(before);
        tf.dispose(Object.values(grads));
      }
      if (backend === 'torch') expect(Object.values(params).map((p) => p.dataId)).toEqual(ids);
      return { params, optimizer };
    };
    const results: Host[][] = [];
    for (const backend of ['torch', 'cpu'] as const) {
      await selectBackend(backend as 'cpu');
      setFusions(backend === 'torch' ? 'all' : 'none');
      const { params, optimizer } = run(backend);
      const all = [...Object.values(params), ...Object.values(optimizer.firstMoments), ...Object.values(optimizer.secondMoments)];
      results.push(await Promise.all(all.map(async (t) => ({ shape: t.shape, values: (await t.data()) as Float32Array }))));
      optimizer.dispose();
      tf.dispose(Object.values(params));
    }
    expectClose(results[0], results[1], 1e-5);
  });

  const config = (pos: PositionalName) =>
    tinyGptConfig({ heads: 4, dModel: 32, dFf: 64, maxLen: 32, pos, ropeFraction: 0.5, tieEmbeddings: true, vocabSize: 13 });
  const batch = (() => {
    const random = createRandom(5, 'batch');
    const [B, T] = [8, 12];
    const ids = () => Int32Array.from({ length: B * T }, () => random.int(0, 12));
    return {
      batch: B,
      seqLen: T,
      inputs: ids(),
      targets: ids(),
      lossMask: Float32Array.from({ length: B * T }, (_, i) => (i % T > 5 ? 1 : 0)),
      answerMask: new Float32Array(B * T),
    };
  })();

  for (const pos of ['nope', 'alibi', 'rope', 'ape', 't5', 'fire', ['ape', 'fire']] as PositionalName[]) {
    it(`${pos}: 4 training steps, fused on torch vs composed on cpu, losses to 1e-4`, async () => {
      const losses: number[][] = [];
      for (const backend of ['torch', 'cpu'] as const) {
        await selectBackend(backend as 'cpu');
        setFusions(backend === 'torch' ? 'all' : 'none');
        const model = new Gpt(config(pos), 1);
        const optimizer = new AdamW(model.params, { beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0.1 });
        const run: number[] = [];
        for (let step = 1; step <= 4; step++) run.push((await trainStep(model, optimizer, batch, 3e-3, 1, step)).loss);
        losses.push(run);
        model.dispose();
        optimizer.dispose();
      }
      for (let i = 0; i < 4; i++) expect(Math.abs(losses[0][i] - losses[1][i]) / losses[1][i]).toBeLessThan(1e-4);
      expect(losses[0][3]).toBeLessThan(losses[0][0]);
    });
  }

  it('a hook on the attention pattern takes the composed path and sees blocks.{i}.attn.pattern; logits agree', async () => {
    await selectBackend('torch' as 'cpu');
    const model = new Gpt(config('alibi'), 2);
    const tokens = tf.tensor2d(batch.inputs, [batch.batch, batch.seqLen], 'int32');
    const seen: Record<string, number[]> = {};
    const hooked = model.forward(tokens, { training: false, hook: (name, activation) => (seen[name] = activation.shape) });
    const fused = model.forward(tokens, { training: false });
    expect(seen['blocks.1.attn.pattern']).toEqual([8, 4, 12, 12]);
    expectClose(
      [{ shape: fused.shape, values: (await fused.data()) as Float32Array }],
      [{ shape: hooked.shape, values: (await hooked.data()) as Float32Array }],
      1e-5,
    );
    tf.dispose([tokens, hooked, fused]);
    model.dispose();
  });

  it('a hook with hookPatterns false sees every other activation and keeps the fused path: logits to the bit', async () => {
    await selectBackend('torch' as 'cpu');
    const model = new Gpt(config('alibi'), 2);
    const tokens = tf.tensor2d(batch.inputs, [batch.batch, batch.seqLen], 'int32');
    const seen: Record<string, number[]> = {};
    const hook = (name: string, activation: tf.Tensor) => void (seen[name] = activation.shape);
    const hooked = model.forward(tokens, { training: false, hook, hookPatterns: false });
    const fused = model.forward(tokens, { training: false });
    expect(Object.keys(seen).filter((name) => name.endsWith('attn.pattern'))).toEqual([]);
    expect(seen['blocks.1.attn.z']).toEqual([8, 12, 32]);
    expect(seen['blocks.1.resid_post']).toEqual([8, 12, 32]);
    expect(Array.from(await hooked.data())).toEqual(Array.from(await fused.data()));
    tf.dispose([tokens, hooked, fused]);
    model.dispose();
  });
});

describe('without fused kernels (cpu, wasm) the op functions are the composed ops, to the bit', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`${backend}: no fusion is used, and "all" gives the same bits as "none"`, async () => {
      const x = randomArray([2, 5, 16], 'x', 2);
      const q = randomArray([2, 5, 4, 4], 'q');
      const k = randomArray([2, 5, 4, 4], 'k');
      const v = randomArray([2, 5, 4, 4], 'v');
      const bias = attentionBias(4, 5, 0, true);
      const targets: Host = { shape: [2, 5], values: Int32Array.from({ length: 10 }, (_, i) => i % 7) };
      const mask: Host = { shape: [2, 5], values: Float32Array.from({ length: 10 }, (_, i) => i % 2) };
      const run = () => {
        for (const fusion of FUSIONS) expect(useFused(fusion)).toBe(false);
        const xs = tensor(x);
        const [tq, tk, tv] = [heads(q)(), heads(k)(), heads(v)()];
        const params = { w: tf.variable(tensor(randomArray([16, 3], 'w'))), b: tf.variable(tensor(randomArray([3], 'b'))) };
        const optimizer = new AdamW(params, { beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0.1 });
        optimizer.apply({ w: tensor(randomArray([16, 3], 'gw')), b: tensor(randomArray([3], 'gb')) }, 0.01);
        const out = [
          layerNorm(
            xs,
            tf.onesLike(xs.slice([0, 0, 0], [1, 1, 16]).reshape([16])),
            tf.zerosLike(xs.slice([0, 0, 0], [1, 1, 16]).reshape([16])),
          ),
          gelu(xs),
          linear(xs, tensor(randomArray([16, 3], 'lw')), tensor(randomArray([3], 'lb'))),
          attention(tq, tk, tv, tensor(bias)),
          // The composition attention() replaced in gpt.ts, verbatim (compared with the line above).
          matmul(tf.softmax(tf.add(tf.mul(matmul(tq, transposeLast2(tk)), 1 / Math.sqrt(4)), tensor(bias))), tv),
          maskedCrossEntropy(
            tensor(randomArray([2, 5, 7], 'logits')) as tf.Tensor3D,
            tensor(targets) as tf.Tensor2D,
            tensor(mask) as tf.Tensor2D,
          ),
          ...tf.grads((a: tf.Tensor) => tf.sum(tf.mul(gelu(layerNorm(a, tf.ones([16]), tf.zeros([16]))), 1.5)))([xs]),
          params.w.clone(),
          params.b.clone(),
        ];
        optimizer.dispose();
        tf.dispose(Object.values(params));
        return out;
      };
      const all = await compute(backend, 'all', run);
      expectBitwise(all, await compute(backend, 'none', run));
      expectBitwise([all[3]], [all[4]]);
    });
  }
});
