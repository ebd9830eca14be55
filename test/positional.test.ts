import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/backends/select.ts';
import { Gpt, type GptConfig } from '../src/models/gpt.ts';
import { alibi, alibiSlopes } from '../src/models/positional/alibi.ts';
import { ape } from '../src/models/positional/ape.ts';
import { composePositional, positionalConflict, positionalSides } from '../src/models/positional/compose.ts';
import { fire, fireTransform } from '../src/models/positional/fire.ts';
import { getPositionalEncoding, type PositionalName } from '../src/models/positional/index.ts';
import { nope } from '../src/models/positional/nope.ts';
import type { PositionalContext } from '../src/models/positional/positional.ts';
import { applyRotary, rotateQkv, rotaryDims } from '../src/models/positional/rope.ts';
import { sinusoidal, sinusoidalTable } from '../src/models/positional/sinusoidal.ts';
import { t5, t5BidirectionalBucket, t5Bucket } from '../src/models/positional/t5.ts';
import { testBackend } from './fixtures/backend.ts';
import { tinyGptConfig } from './fixtures/tinyGptConfig.ts';

beforeAll(async () => {
  await selectBackend(testBackend('cpu'));
});

const config = (pos: PositionalName, overrides: Partial<GptConfig> = {}) => tinyGptConfig({ layers: 1, pos, ...overrides });

function context(seqLen: number, cfg: GptConfig, params: Record<string, tf.Variable> = {}): PositionalContext<GptConfig> {
  const positions = tf.range(0, seqLen, 1, 'int32') as tf.Tensor1D;
  return { positions, keyPositions: positions, seqLen, offset: 0, params, shape: cfg, options: cfg };
}

/** Runs a forward pass and returns the activation the model reported under `name`, as a plain array. */
function captured(model: Gpt, ids: number[][], name: string): number[] {
  let out: number[] | null = null;
  tf.tidy(() => {
    model.forward(tf.tensor2d(ids, undefined, 'int32'), {
      training: false,
      hook: (n, a) => {
        if (n === name) out = Array.from(a.dataSync());
      },
    });
  });
  if (!out) throw new Error(`hook ${name} never fired`);
  return out;
}

/** The `embed` activation of one sequence is wte[token] + wpe[position], row by row (d_model 16). */
function expectTokenPlusPositionRows(model: Gpt, tokens: number[]): void {
  const got = captured(model, [tokens], 'embed');
  const wte = model.params['wte.weight'].arraySync() as number[][];
  const wpe = model.params['wpe.weight'].arraySync() as number[][];
  tokens.forEach((id, p) => {
    for (let k = 0; k < 16; k++) expect(got[p * 16 + k]).toBeCloseTo(wte[id][k] + wpe[p][k], 6);
  });
}

function logits(model: Gpt, ids: number[][]): Float32Array {
  return tf.tidy(() => model.forward(tf.tensor2d(ids, undefined, 'int32'), { training: false }).dataSync() as Float32Array);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('sinusoidal', () => {
  it('row p=0 is [0, 1, 0, 1, ...]', () => {
    const table = sinusoidalTable(4, 8);
    expect(Array.from(table.slice(0, 8))).toEqual([0, 1, 0, 1, 0, 1, 0, 1]);
  });

  it('row p=3, d=8 matches hand-computed sin/cos of 3 / 10000^(2i/8)', () => {
    const table = sinusoidalTable(5, 8);
    // angles: 3, 0.3, 0.03, 0.003
    const expected = [
      0.1411200080598672, -0.9899924966004454, 0.29552020666133955, 0.955336489125606, 0.02999550020249566, 0.9995500337489875,
      0.002999995500002025, 0.999995500003375,
    ];
    const row = Array.from(table.slice(3 * 8, 4 * 8));
    for (let k = 0; k < 8; k++) expect(row[k]).toBeCloseTo(expected[k], 6);
  });

  it('matches the formula at scattered (p, i) for d=16', () => {
    const d = 16;
    const table = sinusoidalTable(40, d);
    for (const [p, i] of [
      [1, 0],
      [7, 3],
      [25, 5],
      [39, 7],
      [12, 1],
    ] as const) {
      const angle = p / Math.pow(10000, (2 * i) / d);
      expect(table[p * d + 2 * i]).toBeCloseTo(Math.sin(angle), 6);
      expect(table[p * d + 2 * i + 1]).toBeCloseTo(Math.cos(angle), 6);
    }
  });

  it('embed hook scales token embeddings by sqrt(d) before adding the table', () => {
    const cfg = config('sinusoidal');
    const [T, d] = [5, cfg.dModel];
    const x = tf.randomNormal([2, T, d], 0, 0.02, 'float32', 7);
    const out = sinusoidal.embed!(x, context(T, cfg));
    const xs = x.dataSync();
    const os = out.dataSync();
    const table = sinusoidalTable(T, d);
    for (let b = 0; b < 2; b++) {
      for (let k = 0; k < T * d; k++) {
        expect(os[b * T * d + k]).toBeCloseTo(xs[b * T * d + k] * 4 + table[k], 5); // sqrt(16) = 4
      }
    }
    tf.dispose([x, out]);
  });

  it('in the model, the embed activation is sqrt(d)*wte[ids] + PE', () => {
    const cfg = config('sinusoidal');
    const model = new Gpt(cfg, 3);
    const ids = [[1, 5, 5, 0, 11, 2]];
    const got = captured(model, ids, 'embed');
    const wte = model.params['wte.weight'].arraySync() as number[][];
    const table = sinusoidalTable(ids[0].length, cfg.dModel);
    ids[0].forEach((id, p) => {
      for (let k = 0; k < cfg.dModel; k++) {
        expect(got[p * cfg.dModel + k]).toBeCloseTo(wte[id][k] * Math.sqrt(cfg.dModel) + table[p * cfg.dModel + k], 5);
      }
    });
    model.dispose();
  });
});

describe('RoPE', () => {
  const T = 12;
  const dHead = 8;

  /** q, k [1, 1, T, dHead] holding the same random vector at every position. */
  function constantSequences(seed: number) {
    const q0 = tf.randomNormal([1, 1, 1, dHead], 0, 1, 'float32', seed);
    const k0 = tf.randomNormal([1, 1, 1, dHead], 0, 1, 'float32', seed + 1);
    return { q: tf.tile(q0, [1, 1, T, 1]), k: tf.tile(k0, [1, 1, T, 1]) };
  }
  const positions = () => tf.range(0, T, 1, 'int32') as tf.Tensor1D;

  it('q_i . k_j depends only on i - j', () => {
    const { q, k } = constantSequences(11);
    const qr = applyRotary(q, positions(), dHead, 10000);
    const kr = applyRotary(k, positions(), dHead, 10000);
    const scores = tf.matMul(qr.reshape([T, dHead]), kr.reshape([T, dHead]), false, true).arraySync() as number[][];
    const byOffset = new Map<number, number[]>();
    for (let i = 0; i < T; i++) {
      for (let j = 0; j < T; j++) {
        const list = byOffset.get(i - j) ?? [];
        list.push(scores[i][j]);
        byOffset.set(i - j, list);
      }
    }
    for (const [offset, values] of byOffset) {
      for (const v of values) expect(Math.abs(v - values[0]), `offset ${offset}`).toBeLessThan(1e-5);
    }
    // ...and the offset matters: distinct offsets give distinct scores.
    const at = (o: number) => byOffset.get(o)![0];
    for (const [a, b] of [
      [0, 1],
      [1, 2],
      [0, 3],
      [2, 5],
      [1, -1],
    ]) {
      expect(Math.abs(at(a) - at(b)), `offsets ${a} vs ${b}`).toBeGreaterThan(1e-3);
    }
  });

  it('rotates the two halves by p * base^(-2i/r) (hand check)', () => {
    const x = tf.randomNormal([1, 1, T, dHead], 0, 1, 'float32', 5);
    const xs = x.arraySync() as number[][][][];
    const out = applyRotary(x, positions(), dHead, 10000).arraySync() as number[][][][];
    const half = dHead / 2;
    for (const p of [0, 1, 4, 11]) {
      for (let i = 0; i < half; i++) {
        const angle = p * Math.pow(10000, (-2 * i) / dHead);
        const [a, b] = [xs[0][0][p][i], xs[0][0][p][i + half]];
        expect(out[0][0][p][i]).toBeCloseTo(a * Math.cos(angle) - b * Math.sin(angle), 5);
        expect(out[0][0][p][i + half]).toBeCloseTo(b * Math.cos(angle) + a * Math.sin(angle), 5);
      }
    }
    x.dispose();
  });

  it('position 0 is unchanged and norms are preserved', () => {
    const x = tf.randomNormal([2, 3, T, dHead], 0, 1, 'float32', 9);
    const out = applyRotary(x, positions(), dHead, 10000);
    expect(out.shape).toEqual(x.shape);
    const xs = x.arraySync() as number[][][][];
    const os = out.arraySync() as number[][][][];
    for (let b = 0; b < 2; b++) {
      for (let h = 0; h < 3; h++) {
        for (let k = 0; k < dHead; k++) expect(os[b][h][0][k]).toBe(xs[b][h][0][k]);
        for (let p = 1; p < T; p++) {
          const norm = (v: number[]) => Math.hypot(...v);
          expect(norm(os[b][h][p])).toBeCloseTo(norm(xs[b][h][p]), 5);
          expect(maxAbsDiff(os[b][h][p], xs[b][h][p])).toBeGreaterThan(1e-3);
        }
      }
    }
    tf.dispose([x, out]);
  });

  // The model rotates q and k inside c_attn's output [B, T, 3·H·dHead] (rope.rotate): it must be the rotation of
  // the split heads exactly, v untouched, for one table of positions and for per-sequence ids, whole heads or 0.25.
  for (const [label, perSequence, fraction] of [
    ['shared positions, whole heads', false, 1],
    ['per-sequence ids, a quarter of each head', true, 0.25],
  ] as [string, boolean, number][]) {
    it(`rotating q|k|v in place equals rotating the split heads (${label})`, () => {
      const [B, H, dh] = [2, 3, 16];
      const qkv = tf.randomNormal([B, T, 3 * H * dh], 0, 1, 'float32', 21);
      const ids = perSequence
        ? (tf.tensor2d(
            [[...Array(T).keys()].map((i) => 3 * i + 1), [...Array(T).keys()].map((i) => 40 - i)],
            undefined,
            'int32',
          ) as tf.Tensor2D)
        : positions();
      const r = rotaryDims(dh, fraction);
      const heads = (t: tf.Tensor) => t.reshape([B, T, H, dh]).transpose([0, 2, 1, 3]);
      const merge = (t: tf.Tensor) => t.transpose([0, 2, 1, 3]).reshape([B, T, H * dh]);
      const [q, k, v] = tf.split(qkv, 3, 2).map(heads);
      const want = tf.concat([merge(applyRotary(q, ids, r, 10000)), merge(applyRotary(k, ids, r, 10000)), merge(v)], 2);
      const got = rotateQkv(qkv, H, ids, r, 10000);
      expect(got.shape).toEqual(qkv.shape);
      expect(maxAbsDiff(Array.from(got.dataSync()), Array.from(want.dataSync()))).toBe(0);
      // It rotated something: q and k moved, v did not.
      const moved = (from: number, to: number) =>
        maxAbsDiff(
          Array.from(tf.slice(got, [0, 1, from], [B, T - 1, to - from]).dataSync()),
          Array.from(tf.slice(qkv, [0, 1, from], [B, T - 1, to - from]).dataSync()),
        );
      expect(moved(0, 2 * H * dh)).toBeGreaterThan(1e-3);
      expect(moved(2 * H * dh, 3 * H * dh)).toBe(0);
      tf.dispose([qkv, ids, q, k, v, want, got]);
    });
  }

  it('fraction 0.25 rotates only the first rotaryDims dimensions', () => {
    const dh = 16;
    const r = rotaryDims(dh, 0.25);
    expect(r).toBe(4);
    expect(rotaryDims(8, 0.25)).toBe(2);
    expect(rotaryDims(6, 0.25)).toBe(0);
    expect(rotaryDims(8, 1)).toBe(8);
    const x = tf.randomNormal([1, 2, T, dh], 0, 1, 'float32', 13);
    const xs = x.arraySync() as number[][][][];
    const os = applyRotary(x, positions(), r, 10000).arraySync() as number[][][][];
    for (let h = 0; h < 2; h++) {
      for (let p = 1; p < T; p++) {
        for (let k = r; k < dh; k++) expect(os[0][h][p][k]).toBe(xs[0][h][p][k]);
        expect(maxAbsDiff(os[0][h][p].slice(0, r), xs[0][h][p].slice(0, r))).toBeGreaterThan(1e-3);
      }
    }
    x.dispose();
  });
});

/** The reference `get_slopes` from Press et al.'s repository, transcribed. */
function referenceSlopes(n: number): number[] {
  const powerOfTwo = (m: number) => {
    const start = Math.pow(2, -Math.pow(2, -(Math.log2(m) - 3)));
    return Array.from({ length: m }, (_, i) => start * Math.pow(start, i));
  };
  if (Number.isInteger(Math.log2(n))) return powerOfTwo(n);
  const closest = Math.pow(2, Math.floor(Math.log2(n)));
  return [
    ...powerOfTwo(closest),
    ...referenceSlopes(2 * closest)
      .filter((_, i) => i % 2 === 0)
      .slice(0, n - closest),
  ];
}

describe('ALiBi', () => {
  const close = (got: number[], want: number[]) => {
    expect(got.length).toBe(want.length);
    got.forEach((g, i) => expect(g).toBeCloseTo(want[i], 12));
  };

  it('slopes for powers of two', () => {
    close(alibiSlopes(8), [1 / 2, 1 / 4, 1 / 8, 1 / 16, 1 / 32, 1 / 64, 1 / 128, 1 / 256]);
    close(alibiSlopes(4), [2 ** -2, 2 ** -4, 2 ** -6, 2 ** -8]);
    close(alibiSlopes(2), [2 ** -4, 2 ** -8]);
  });

  it("non-powers of two follow the paper's interleaving rule", () => {
    // get_slopes_power_of_2(4) + get_slopes_power_of_2(8)[0::2][:2]
    close(alibiSlopes(6), [2 ** -2, 2 ** -4, 2 ** -6, 2 ** -8, 2 ** -1, 2 ** -3]);
    for (let n = 1; n <= 16; n++) close(alibiSlopes(n), referenceSlopes(n));
  });

  it('attentionBias for T=5, H=2 is -m_h * (i - j) for j <= i', () => {
    const cfg = config('alibi', { heads: 2 });
    const bias = alibi.attentionBias!(context(5, cfg));
    expect(bias.shape).toEqual([1, 2, 5, 5]);
    const b = bias.arraySync() as number[][][][];
    const slopes = [2 ** -4, 2 ** -8];
    for (let h = 0; h < 2; h++) {
      for (let i = 0; i < 5; i++) {
        for (let j = 0; j < 5; j++) {
          if (j <= i) expect(b[0][h][i][j]).toBeCloseTo(-slopes[h] * (i - j), 7);
          else expect(Number.isFinite(b[0][h][i][j])).toBe(true);
        }
      }
    }
    bias.dispose();
  });

  it('in the model, ALiBi shifts the layer-0 attention log-probabilities by -m_h * (i - j)', () => {
    // nope and alibi have no parameters of their own, so the same seed gives the same weights and the
    // layer-0 logits differ only by the ALiBi bias (plus a per-row constant that softmax absorbs).
    // (One model at a time: Gpt registers its variables under global names, see the report on src/models/gpt.ts.)
    const heads = 4;
    const ids = [[3, 1, 4, 1, 5, 9, 2, 6]];
    const T = ids[0].length;
    const pattern = (pos: string) => {
      const model = new Gpt(config(pos, { heads }), 5);
      try {
        return captured(model, ids, 'blocks.0.attn.pattern');
      } finally {
        model.dispose();
      }
    };
    const pa = pattern('alibi');
    const pn = pattern('nope');
    const slopes = alibiSlopes(heads);
    const at = (arr: number[], h: number, i: number, j: number) => arr[(h * T + i) * T + j];
    for (let h = 0; h < heads; h++) {
      for (let i = 1; i < T; i++) {
        const base = Math.log(at(pa, h, i, 0)) - Math.log(at(pn, h, i, 0));
        for (let j = 1; j <= i; j++) {
          const shift = Math.log(at(pa, h, i, j)) - Math.log(at(pn, h, i, j)) - base;
          expect(shift).toBeCloseTo(slopes[h] * j, 4); // -m(i-j) + m(i-0)
        }
      }
    }
  });
});

describe('NoPE', () => {
  it('has no position parameters and no hooks', () => {
    const model = new Gpt(config('nope'), 1);
    expect(Object.keys(model.params).some((n) => n.startsWith('wpe'))).toBe(false);
    expect(model.params['wpe.weight']).toBeUndefined();
    expect(model.pe).toBe(nope);
    expect(model.pe.embed).toBeUndefined();
    expect(model.pe.rotate).toBeUndefined();
    expect(model.pe.attentionBias).toBeUndefined();
    model.dispose();
  });

  it('the embed activation is exactly wte[ids]', () => {
    const model = new Gpt(config('nope'), 2);
    const ids = [
      [0, 7, 7, 11, 3],
      [5, 2, 9, 9, 1],
    ];
    const got = captured(model, ids, 'embed');
    const want = tf.tidy(() => Array.from(tf.gather(model.params['wte.weight'], tf.tensor2d(ids, undefined, 'int32')).dataSync()));
    expect(got).toEqual(want);
    model.dispose();
  });

  it('one layer: the last position is invariant to permuting the prefix (but not with APE)', () => {
    const ids = [[2, 9, 4, 4, 7, 1, 10, 3]];
    const permuted = [[7, 4, 1, 10, 2, 4, 9, 3]]; // same multiset in 0..6, same last token
    const last = (l: Float32Array) => Array.from(l.slice(l.length - 12));

    const noPos = new Gpt(config('nope', { layers: 1 }), 4);
    expect(maxAbsDiff(last(logits(noPos, ids)), last(logits(noPos, permuted)))).toBeLessThan(1e-5);
    // ...while earlier positions do see the order (position 1 has a different token here).
    expect(maxAbsDiff(logits(noPos, ids).slice(0, 24), logits(noPos, permuted).slice(0, 24))).toBeGreaterThan(1e-4);
    noPos.dispose();

    const learned = new Gpt(config('ape', { layers: 1 }), 4);
    expect(maxAbsDiff(last(logits(learned, ids)), last(logits(learned, permuted)))).toBeGreaterThan(1e-5);
    learned.dispose();
  });
});

describe('learned APE', () => {
  it('has wpe.weight [max_len, d] and adds its rows to the token embeddings', () => {
    const cfg = config('ape', { maxLen: 9 });
    const model = new Gpt(cfg, 6);
    expect(model.pe).toBe(ape);
    expect(model.params['wpe.weight'].shape).toEqual([9, 16]);
    expectTokenPlusPositionRows(model, [4, 4, 0, 8]);
    model.dispose();
  });

  it('runs at exactly max_len and throws a clear error beyond it', () => {
    const model = new Gpt(config('ape', { maxLen: 6 }), 6);
    expect(logits(model, [[1, 2, 3, 4, 5, 6]]).length).toBe(6 * 12);
    expect(() => logits(model, [[1, 2, 3, 4, 5, 6, 7]])).toThrow(/7 tokens exceeds .*max_len=6/);
    model.dispose();
  });
});

describe('T5 relative bias', () => {
  // First distance of buckets 16..31, from HF transformers' _relative_position_bucket (32 buckets, max distance
  // 128, unidirectional) run in PyTorch; 0..15 are their own buckets.
  const HF_BUCKET_STARTS = [16, 19, 21, 24, 27, 31, 35, 40, 46, 52, 59, 67, 77, 87, 99, 113];

  it('buckets every distance 0..300 as HF transformers does', () => {
    for (let n = 0; n <= 300; n++) {
      const expected = n < 16 ? n : 15 + HF_BUCKET_STARTS.filter((start) => start <= n).length;
      expect(t5Bucket(n, 32, 128), `distance ${n}`).toBe(expected);
    }
    // Future keys (negative distance) share bucket 0 with the query itself; the causal mask hides them anyway.
    expect(t5Bucket(-5, 32, 128)).toBe(0);
  });

  it('other bucket counts: exact half, then log-spaced up to max distance, then the last bucket', () => {
    expect(Array.from({ length: 4 }, (_, n) => t5Bucket(n, 8, 16))).toEqual([0, 1, 2, 3]);
    // 4 + floor(log(n/4) / log(4) * 4): 4 -> 4, 5 -> 4, 6 -> 5, 8 -> 6, 11 -> 6, 12 -> 7, 16.. -> 7
    expect([4, 5, 6, 8, 11, 12, 16, 1000].map((n) => t5Bucket(n, 8, 16))).toEqual([4, 4, 5, 6, 6, 7, 7, 7]);
  });

  it('bidirectional (HF bidirectional=True): keys with larger ids get the other half of the buckets', () => {
    // 16 buckets, max distance 16: 8 per side, each split as t5Bucket(n, 8, 16) splits all 8.
    const distances = [0, 1, 3, 4, 6, 12, 100, -1, -3, -4, -6, -12, -100];
    expect(distances.map((d) => t5BidirectionalBucket(d, 16, 16))).toEqual([0, 1, 3, 4, 5, 7, 7, 9, 11, 12, 13, 15, 15]);
  });

  it('the bias of query i and key j is the table row of bucket(i - j), per head, with and without a cache offset', () => {
    const cfg = config('t5', { heads: 3 });
    const table = tf.variable(tf.randomNormal([32, 3], 0, 1, 'float32', 21));
    const rows = table.arraySync() as number[][];
    for (const [offset, seqLen] of [
      [0, 150],
      [140, 3],
    ]) {
      const positions = tf.range(offset, offset + seqLen, 1, 'int32') as tf.Tensor1D;
      const keyPositions = tf.range(0, offset + seqLen, 1, 'int32') as tf.Tensor1D;
      const bias = t5.attentionBias({
        positions,
        keyPositions,
        seqLen,
        offset,
        params: { 't5.relative_attention_bias.weight': table },
        shape: cfg,
        options: cfg,
      });
      expect(bias.shape).toEqual([1, 3, seqLen, offset + seqLen]);
      const b = bias.arraySync() as number[][][][];
      for (let h = 0; h < 3; h++) {
        for (let i = 0; i < seqLen; i += 7) {
          for (let j = 0; j <= offset + i; j += 5) expect(b[0][h][i][j]).toBeCloseTo(rows[t5Bucket(offset + i - j, 32, 128)][h], 6);
        }
      }
      tf.dispose([positions, keyPositions, bias]);
    }
    table.dispose();
  });

  it('bidirectional buckets of per-sequence ids, times model.t5_scale', () => {
    const cfg = config('t5', { heads: 2, t5Buckets: 16, t5MaxDistance: 16, t5Bidirectional: true, t5Scale: 10 });
    const table = tf.variable(tf.randomNormal([16, 2], 0, 1, 'float32', 22));
    const rows = table.arraySync() as number[][];
    const ids = [0, 7, 3, 12, 5];
    const positionIds = tf.tensor2d([ids], [1, 5], 'int32');
    const bias = t5.attentionBias({
      positions: tf.range(0, 5, 1, 'int32') as tf.Tensor1D,
      keyPositions: tf.range(0, 5, 1, 'int32') as tf.Tensor1D,
      positionIds,
      keyPositionIds: positionIds,
      seqLen: 5,
      offset: 0,
      params: { 't5.relative_attention_bias.weight': table },
      shape: cfg,
      options: cfg,
    });
    const b = bias.arraySync() as number[][][][];
    for (let h = 0; h < 2; h++) {
      for (let i = 0; i < 5; i++) {
        for (let j = 0; j < 5; j++) expect(b[0][h][i][j]).toBeCloseTo(10 * rows[t5BidirectionalBucket(ids[i] - ids[j], 16, 16)][h], 4);
      }
    }
    tf.dispose([positionIds, bias, table]);
  });

  it('has one table [buckets, heads] for all layers, sized by model.t5_buckets', () => {
    const model = new Gpt(config('t5', { layers: 2, t5Buckets: 16 }), 1);
    expect(Object.keys(model.params).filter((n) => n.startsWith('t5'))).toEqual(['t5.relative_attention_bias.weight']);
    expect(model.params['t5.relative_attention_bias.weight'].shape).toEqual([16, 2]);
    model.dispose();
  });
});

describe('FIRE', () => {
  const transform = (i: number, j: number, c: number, threshold: number) =>
    tf.tidy(() => {
      const x = fireTransform(tf.tensor1d([i], 'int32'), tf.tensor1d([j], 'int32'), tf.tensor1d([c]), tf.tensor1d([1]), threshold);
      return x.dataSync()[0];
    });

  it('transform: log(c|i-j|+1) / (log(c max(i, L)+1) + 1e-6), hand-computed values', () => {
    // Values computed in float64 from the formula of Li et al. 2023.
    expect(transform(5, 2, 0.1, 512)).toBeCloseTo(0.06633596099970106, 6);
    expect(transform(100, 0, 0.1, 512)).toBeCloseTo(0.6062818334675674, 6);
    expect(transform(3, 3, 0.1, 512)).toBe(0);
    // Beyond L the query's own position normalizes ("progressive interpolation"): key 0 maps to ~1.
    expect(transform(10, 7, 0.1, 4)).toBeCloseTo(0.37851107717767585, 6);
    expect(transform(10, 0, 0.1, 4)).toBeCloseTo(0.9999985573070405, 6);
    expect(transform(40, 39, 0.5, 8)).toBeCloseTo(0.13317851427393035, 6);
  });

  it('the threshold is |L_multiplier * L|', () => {
    const value = tf.tidy(
      () => fireTransform(tf.tensor1d([10], 'int32'), tf.tensor1d([7], 'int32'), tf.tensor1d([0.1]), tf.tensor1d([-0.5]), 8).dataSync()[0],
    );
    expect(value).toBeCloseTo(0.37851107717767585, 6); // max(10, |-0.5 * 8|) = 10, as with L = 4 above
  });

  it('parameters: c, L_multiplier and the MLP 1 -> width -> heads, initialized as the reference', () => {
    const model = new Gpt(config('fire', { heads: 4, fireMlpWidth: 8, fireC: 0.25 }), 3);
    const shapes = Object.fromEntries(
      Object.entries(model.params)
        .filter(([n]) => n.startsWith('fire.'))
        .map(([n, v]) => [n, v.shape]),
    );
    expect(shapes).toEqual({
      'fire.c': [1],
      'fire.L_multiplier': [1],
      'fire.mlp.fc_in.weight': [1, 8],
      'fire.mlp.fc_in.bias': [8],
      'fire.mlp.fc_out.weight': [8, 4],
      'fire.mlp.fc_out.bias': [4],
    });
    expect(model.params['fire.c'].dataSync()[0]).toBeCloseTo(0.25, 7);
    expect(model.params['fire.L_multiplier'].dataSync()[0]).toBe(1);
    // nn.Linear's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    const fcIn = Array.from(model.params['fire.mlp.fc_in.weight'].dataSync());
    const fcOut = Array.from(model.params['fire.mlp.fc_out.weight'].dataSync());
    expect(Math.max(...fcIn.map(Math.abs))).toBeLessThanOrEqual(1);
    expect(Math.max(...fcIn.map(Math.abs))).toBeGreaterThan(0.3);
    expect(Math.max(...fcOut.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(8));
    expect(Math.max(...fcOut.map(Math.abs))).toBeGreaterThan(0.1);
    model.dispose();
  });

  it('the bias is the MLP of the transform, per head', () => {
    const cfg = config('fire', { heads: 2, fireMlpWidth: 4, fireL: 4 });
    const params = {
      'fire.c': tf.variable(tf.tensor1d([0.1])),
      'fire.L_multiplier': tf.variable(tf.tensor1d([1])),
      'fire.mlp.fc_in.weight': tf.variable(tf.tensor2d([[1, -1, 2, 0.5]])),
      'fire.mlp.fc_in.bias': tf.variable(tf.tensor1d([0, 0.5, -0.5, 0])),
      'fire.mlp.fc_out.weight': tf.variable(
        tf.tensor2d([
          [1, 0],
          [0, 1],
          [1, 1],
          [-1, 2],
        ]),
      ),
      'fire.mlp.fc_out.bias': tf.variable(tf.tensor1d([0.1, -0.1])),
    };
    const bias = fire.attentionBias({ ...context(12, cfg, params), options: cfg }).arraySync() as number[][][][];
    const relu = (x: number) => Math.max(x, 0);
    const x = transform(10, 7, 0.1, 4);
    const hidden = [relu(x), relu(-x + 0.5), relu(2 * x - 0.5), relu(0.5 * x)];
    expect(bias[0][0][10][7]).toBeCloseTo(hidden[0] + hidden[2] - hidden[3] + 0.1, 5);
    expect(bias[0][1][10][7]).toBeCloseTo(hidden[1] + hidden[2] + 2 * hidden[3] - 0.1, 5);
    tf.dispose(Object.values(params));
  });
});

describe('combining schemes', () => {
  it('each scheme declares its side through its hooks', () => {
    expect(positionalSides(ape)).toEqual(['input']);
    expect(positionalSides(sinusoidal)).toEqual(['input']);
    expect(positionalSides(alibi)).toEqual(['attention']);
    expect(positionalSides(t5)).toEqual(['attention']);
    expect(positionalSides(fire)).toEqual(['attention']);
    expect(positionalSides(getPositionalEncoding('rope'))).toEqual(['attention']);
    expect(positionalSides(nope)).toEqual([]);
  });

  it('one input-side and one attention-side scheme combine; two on one side, or one twice, do not', () => {
    expect(positionalConflict([ape, t5])).toBeNull();
    expect(positionalConflict([sinusoidal, fire])).toBeNull();
    expect(positionalConflict([nope, fire])).toBeNull();
    expect(positionalConflict([ape, sinusoidal])).toMatch(/ape and sinusoidal both add to the embeddings/);
    expect(positionalConflict([getPositionalEncoding('rope'), t5])).toMatch(/rope and t5 both act in attention/);
    expect(positionalConflict([fire, fire])).toMatch(/"fire" is listed twice/);
    expect(() => getPositionalEncoding(['alibi', 'fire'])).toThrow(/alibi and fire/);
  });

  it("a combination has both parts' parameters and applies both hooks", () => {
    const pe = composePositional([ape, t5]);
    expect(pe.name).toBe('ape+t5');
    expect(pe.learnedBias).toBe(true);
    expect(composePositional([ape, alibi]).learnedBias).toBe(false);
    const model = new Gpt(config(['ape', 't5'], { maxLen: 8 }), 6);
    expect(model.params['wpe.weight'].shape).toEqual([8, 16]);
    expect(model.params['t5.relative_attention_bias.weight'].shape).toEqual([32, 2]);
    // The embeddings are ape's (wte + wpe); the attention bias is t5's.
    expectTokenPlusPositionRows(model, [4, 4, 0, 8]);
    const cfg = model.config;
    const alone = t5.attentionBias({ ...context(4, cfg, model.params), options: cfg });
    const combined = model.pe.attentionBias!({ ...context(4, cfg, model.params), options: cfg });
    expect(maxAbsDiff(combined.dataSync(), alone.dataSync())).toBe(0);
    tf.dispose([alone, combined]);
    model.dispose();
  });
});
