import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/backends/select.ts';
import { createRandom } from '../src/random.ts';
import { Gpt, type GptConfig } from '../src/models/gpt.ts';
import type { PositionalName } from '../src/models/positional/index.ts';
import { testBackend } from './fixtures/backend.ts';
import { tinyGptConfig } from './fixtures/tinyGptConfig.ts';

beforeAll(async () => {
  await selectBackend(testBackend('cpu'));
});

const VOCAB = 12;
const T = 10;
const CUT = 6;

const config = (pos: PositionalName, overrides: Partial<GptConfig> = {}) => tinyGptConfig({ vocabSize: VOCAB, dFf: 64, pos, ...overrides });

/** Position ids for encodings that take them from token roles (coupling, Abacus): a coupled-looking layout. */
const ROLE_IDS = [0, 3, 2, 1, 0, 3, 2, 1, 1, 2];
/** Randomized positions (model.random_positions): a sorted subset of [0, L). */
const RANDOM_IDS = [0, 2, 3, 7, 8, 11, 15, 16, 20, 23];
const idsOf = (model: Gpt) =>
  model.pe.positionsFromRoles ? ROLE_IDS : model.pe.positionIndexed && model.config.randomPositions !== null ? RANDOM_IDS : null;
const positionsFor = (model: Gpt, rows: number) => {
  const ids = idsOf(model);
  return ids
    ? {
        positions: tf.tensor2d(
          Array.from({ length: rows }, () => ids),
          [rows, T],
          'int32',
        ),
      }
    : {};
};

function logitsOf(model: Gpt, ids: number[]): number[][] {
  return tf.tidy(() => {
    const out = model.forward(tf.tensor2d([ids], [1, ids.length], 'int32'), { training: false, ...positionsFor(model, 1) });
    return (out.arraySync() as number[][][])[0];
  });
}

const maxAbsDiff = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i])));

// Each encoding, combinations, looped models (recurrence: passes through the layers), and randomized positions.
describe.each([
  ...['nope', 'ape', 'sinusoidal', 'rope', 'alibi', 't5', 'fire', 'coupled', 'abacus'].map((pos) => ({ pos, recurrence: 1 })),
  { pos: ['ape', 't5'], recurrence: 1 },
  { pos: ['sinusoidal', 'fire'], recurrence: 1 },
  { pos: ['coupled', 'fire'], recurrence: 1 },
  { pos: ['abacus', 'fire'], recurrence: 1 },
  { pos: ['abacus', 't5'], recurrence: 1 },
  { pos: ['coupled', 't5'], recurrence: 1 },
  { pos: 'fire', recurrence: 3 },
  { pos: 'nope', recurrence: 2 },
  { pos: 'abacus', recurrence: 2 },
  { pos: 't5', recurrence: 1, randomPositions: 32 },
  { pos: ['ape', 'fire'], recurrence: 1, randomPositions: 32 },
] as { pos: PositionalName; recurrence: number; randomPositions?: number }[])(
  'causality with pos=$pos, recurrence $recurrence, random positions $randomPositions',
  ({ pos, recurrence, randomPositions = null }) => {
    it('logits before the edit are unchanged; logits from the edit on change', () => {
      const model = new Gpt(config(pos, { recurrence, randomPositions }), 1234);
      const random = createRandom(99, `causality:${pos}`);
      const ids = Array.from({ length: T }, () => random.int(0, VOCAB - 1));
      // Change every token from CUT on to a different one.
      const edited = ids.map((id, t) => (t < CUT ? id : (id + 1 + random.int(0, VOCAB - 2)) % VOCAB));
      edited.forEach((id, t) => (t >= CUT ? expect(id).not.toBe(ids[t]) : expect(id).toBe(ids[t])));

      const before = logitsOf(model, ids);
      const after = logitsOf(model, edited);
      expect(before.length).toBe(T);
      for (let t = 0; t < CUT; t++) expect(maxAbsDiff(before[t], after[t]), `position ${t}`).toBeLessThan(1e-6);
      for (let t = CUT; t < T; t++) expect(maxAbsDiff(before[t], after[t]), `position ${t}`).toBeGreaterThan(1e-4);
      model.dispose();
    });

    it('editing only the last token leaves every earlier position unchanged (batch rows independent too)', () => {
      const model = new Gpt(config(pos, { recurrence, randomPositions }), 77);
      const a = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
      const b = [...a.slice(0, T - 1), 0];
      const rows = tf.tidy(
        () =>
          model.forward(tf.tensor2d([a, b], [2, T], 'int32'), { training: false, ...positionsFor(model, 2) }).arraySync() as number[][][],
      );
      const single = logitsOf(model, a);
      for (let t = 0; t < T; t++) expect(maxAbsDiff(rows[0][t], single[t])).toBeLessThan(1e-5);
      for (let t = 0; t < T - 1; t++) expect(maxAbsDiff(rows[0][t], rows[1][t])).toBeLessThan(1e-6);
      expect(maxAbsDiff(rows[0][T - 1], rows[1][T - 1])).toBeGreaterThan(1e-4);
      model.dispose();
    });
  },
);

describe('initialisation', () => {
  const snapshot = (model: Gpt) => Object.fromEntries(Object.entries(model.params).map(([n, v]) => [n, Array.from(v.dataSync())]));

  it('the same seed gives identical weights, a different seed different ones', () => {
    // One model alive at a time: Gpt names its tf.Variables after the parameters, and tfjs names are global.
    const weights = (pos: string, seed: number) => {
      const model = new Gpt(config(pos), seed);
      try {
        return snapshot(model);
      } finally {
        model.dispose();
      }
    };
    for (const pos of ['ape', 'rope']) {
      const [sa, sb, sc] = [weights(pos, 42), weights(pos, 42), weights(pos, 43)];
      expect(Object.keys(sa).sort()).toEqual(Object.keys(sb).sort());
      for (const name of Object.keys(sa)) expect(sb[name], name).toEqual(sa[name]);
      // Every randomly initialised tensor differs under another seed; ones/zeros tensors do not.
      for (const name of Object.keys(sa)) {
        const random = sa[name].some((x) => x !== 0 && x !== 1);
        if (random) expect(sc[name], name).not.toEqual(sa[name]);
        else expect(sc[name], name).toEqual(sa[name]);
      }
      expect(sa['wte.weight']).not.toEqual(sc['wte.weight']);
    }
  });

  it('parameters are independent streams: different tensors are not copies of each other', () => {
    const model = new Gpt(config('ape'), 42);
    const s = snapshot(model);
    expect(s['blocks.0.attn.c_attn.weight']).not.toEqual(s['blocks.1.attn.c_attn.weight']);
    expect(s['wte.weight'].slice(0, 16)).not.toEqual(s['wpe.weight'].slice(0, 16));
    model.dispose();
  });

  it('init scale: N(0, 0.02), residual projections scaled by 1/sqrt(2 * layers)', () => {
    const model = new Gpt(config('nope', { dModel: 32, dFf: 128, layers: 2 }), 5);
    const std = (name: string) => {
      const x = Array.from(model.params[name].dataSync());
      const mean = x.reduce((p, q) => p + q, 0) / x.length;
      return Math.sqrt(x.reduce((p, q) => p + (q - mean) ** 2, 0) / x.length);
    };
    expect(std('blocks.0.mlp.c_fc.weight')).toBeGreaterThan(0.018);
    expect(std('blocks.0.mlp.c_fc.weight')).toBeLessThan(0.022);
    expect(std('blocks.0.mlp.c_proj.weight')).toBeGreaterThan(0.009);
    expect(std('blocks.0.mlp.c_proj.weight')).toBeLessThan(0.011);
    expect(Array.from(model.params['blocks.1.ln_2.weight'].dataSync()).every((x) => x === 1)).toBe(true);
    expect(Array.from(model.params['blocks.1.attn.c_attn.bias'].dataSync()).every((x) => x === 0)).toBe(true);
    model.dispose();
  });

  it('dispose releases every tensor the model allocated', () => {
    const before = tf.memory().numTensors;
    const model = new Gpt(config('ape'), 8);
    expect(tf.memory().numTensors).toBe(before + Object.keys(model.params).length);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
