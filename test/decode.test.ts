import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/backends/select.ts';
import { greedyDecode } from '../src/inference/decode.ts';
import { disposeKvCache, Gpt, type GptConfig, type KvCache } from '../src/models/gpt.ts';
import { getPositionalEncoding, POSITIONAL_NAMES, type PositionalName } from '../src/models/positional/index.ts';
import { readsRoles } from '../src/models/positional/positionIds.ts';
import { testBackend } from './fixtures/backend.ts';
import { tinyGptConfig } from './fixtures/tinyGptConfig.ts';

const config = (pos: PositionalName, overrides: Partial<GptConfig> = {}) =>
  tinyGptConfig({ maxLen: 32, pos, ropeFraction: 0.5, ...overrides });

beforeAll(async () => {
  await selectBackend(testBackend('cpu'));
});

describe('key/value cache', () => {
  // Encodings that read token roles need position ids: test/position-ids.test.ts checks them with ids.
  const cases: { name: string; pos: PositionalName; overrides?: Partial<GptConfig> }[] = [
    ...POSITIONAL_NAMES.filter((name) => !readsRoles(getPositionalEncoding(name))).map((pos) => ({ name: pos, pos })),
    { name: '[ape, t5]', pos: ['ape', 't5'] },
    { name: 'fire, recurrence 3 (one cache per pass)', pos: 'fire', overrides: { recurrence: 3 } },
  ];
  for (const { name, pos, overrides } of cases) {
    it(`${name}: incremental logits equal the full forward pass`, () => {
      const model = new Gpt(config(pos, overrides), 4);
      const ids = [
        [1, 5, 7, 3, 9, 4, 6, 8],
        [1, 4, 4, 10, 2, 3, 5, 11],
      ];
      const full = tf.tidy(() => model.forward(tf.tensor2d(ids, [2, 8], 'int32'), { training: false }).arraySync());
      const cache: KvCache = { length: 0, keys: [], values: [] };
      const before = tf.memory().numTensors;
      // A 5-token prefix, then one token at a time.
      const prefix = tf.tidy(() =>
        model
          .forward(
            tf.tensor2d(
              ids.map((r) => r.slice(0, 5)),
              [2, 5],
              'int32',
            ),
            { training: false, cache },
          )
          .arraySync(),
      );
      const steps = [prefix];
      for (let t = 5; t < 8; t++) {
        steps.push(
          tf.tidy(() =>
            model
              .forward(
                tf.tensor2d(
                  ids.map((r) => [r[t]]),
                  [2, 1],
                  'int32',
                ),
                { training: false, cache },
              )
              .arraySync(),
          ),
        );
      }
      expect(cache.length).toBe(8);
      expect(cache.keys.length).toBe(2 * (overrides?.recurrence ?? 1));
      for (let b = 0; b < 2; b++) {
        const incremental = [...steps[0][b], ...steps[1][b], ...steps[2][b], ...steps[3][b]];
        incremental.forEach((row, t) => row.forEach((value, v) => expect(Math.abs(value - full[b][t][v])).toBeLessThan(1e-5)));
      }
      disposeKvCache(cache);
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    });
  }

  it('greedy decoding equals argmax of full forward passes, token by token', async () => {
    const model = new Gpt(config('rope'), 9);
    const prompts = [
      [1, 5, 6],
      [1, 7, 3],
      [1, 3],
    ];
    const maxNew = [6, 4, 5];
    const before = tf.memory().numTensors;
    const generated = await greedyDecode(model, prompts, maxNew);
    expect(tf.memory().numTensors).toBe(before);
    prompts.forEach((prompt, i) => {
      const sequence = [...prompt];
      const expected: number[] = [];
      for (let step = 0; step < maxNew[i]; step++) {
        const next = tf.tidy(() => {
          const logits = model.forward(tf.tensor2d([sequence], [1, sequence.length], 'int32'), { training: false });
          return tf.argMax(logits.slice([0, sequence.length - 1, 0], [1, 1, 12]).reshape([12])).dataSync()[0];
        });
        if (next === 2) break; // <eos>
        expected.push(next);
        sequence.push(next);
      }
      expect(generated[i]).toEqual(expected);
    });
    model.dispose();
  });

  /** Greedy tokens from full forward passes (no cache), one at a time. */
  function greedyWithoutCache(model: Gpt, prompt: number[], maxNew: number): number[] {
    const sequence = [...prompt];
    const out: number[] = [];
    for (let step = 0; step < maxNew; step++) {
      const next = tf.tidy(() => {
        const logits = model.forward(tf.tensor2d([sequence], [1, sequence.length], 'int32'), { training: false });
        return tf.argMax(logits.slice([0, sequence.length - 1, 0], [1, 1, 12]).reshape([12])).dataSync()[0];
      });
      if (next === 2) break; // <eos>
      out.push(next);
      sequence.push(next);
    }
    return out;
  }

  // Far beyond any training length: a T5 distance past its last bucket boundary, FIRE past its threshold L (here
  // 16, so its normalizer grows with the query position), a looped model. The position parameters are made
  // large, so that a wrong position in the cached path changes the argmax.
  for (const { name, pos, overrides } of [
    { name: 't5', pos: 't5', overrides: {} },
    { name: 'fire', pos: 'fire', overrides: { fireL: 16 } },
    { name: '[sinusoidal, fire], recurrence 2', pos: ['sinusoidal', 'fire'], overrides: { recurrence: 2, fireL: 16 } },
    { name: 'nope, length-scaled attention', pos: 'nope', overrides: { lengthScaledAttention: true } },
  ] as { name: string; pos: PositionalName; overrides: Partial<GptConfig> }[]) {
    it(`${name}: greedy decoding of 110-token prompts with the cache equals decoding without it`, async () => {
      const model = new Gpt(config(pos, overrides), 11);
      // <eos> (id 2) must not end the decoding after a token or two: token embeddings of unit scale (tied to the
      // output) with a zero row for <eos> pin its logit at 0 among large ones, so all 12 tokens are compared.
      const wte = model.params['wte.weight'];
      const eosRow = tf.oneHot([2], wte.shape[0]).reshape([-1, 1]);
      wte.assign(tf.tidy(() => tf.randomNormal(wte.shape, 0, 1, 'float32', 5).mul(tf.scalar(1).sub(eosRow))));
      eosRow.dispose();
      const t5Table = model.params['t5.relative_attention_bias.weight'];
      if (t5Table) t5Table.assign(tf.randomNormal(t5Table.shape, 0, 2, 'float32', 3));
      const fireOut = model.params['fire.mlp.fc_out.weight'];
      if (fireOut) fireOut.assign(tf.randomNormal(fireOut.shape, 0, 2, 'float32', 4));
      const prompts = [0, 1].map((row) => [1, ...Array.from({ length: 109 }, (_, t) => 3 + ((t * (5 + row) + (t >> 2)) % 9))]);
      const generated = await greedyDecode(model, prompts, [12, 12]);
      prompts.forEach((prompt, i) => expect(generated[i]).toEqual(greedyWithoutCache(model, prompt, 12)));
      // Not a constant answer: the positions matter to what is generated.
      expect(new Set(generated.flat()).size).toBeGreaterThan(1);
      model.dispose();
    });
  }
});
