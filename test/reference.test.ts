import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/backends/select.ts';
import { loadConfig } from '../src/config/load.ts';
import { encodeBatch, type TokenBatch } from '../src/data/batches.ts';
import { buildTestSets, heldOutKeys, TrainStream } from '../src/data/dataset.ts';
import { AdamW } from '../src/experiments/adamw.ts';
import { learningRate } from '../src/experiments/schedule.ts';
import { prepareExperiment } from '../src/config/experiment.ts';
import { trainingBatch, trainStep } from '../src/experiments/train.ts';
import { Gpt } from '../src/models/gpt.ts';
import { getPositionalEncoding, POSITIONAL_NAMES } from '../src/models/positional/index.ts';
import { readsRoles } from '../src/models/positional/positionIds.ts';
import { smallAdditionConfig } from './fixtures/smallAdditionConfig.ts';
import { hasPythonTorch, PYTHON } from './fixtures/pythonTorch.ts';

/** A training batch as gpt_reference.py reads it (positions only when the batch carries ids). */
function referenceBatch(batch: TokenBatch) {
  return {
    B: batch.batch,
    T: batch.seqLen,
    inputs: Array.from(batch.inputs),
    targets: Array.from(batch.targets),
    mask: Array.from(batch.lossMask),
    ...(batch.positions ? { positions: Array.from(batch.positions) } : {}),
  };
}

/**
 * llm.c-style check: eight AdamW steps of our GPT on real batches, against an independent float64 PyTorch
 * implementation written from the README's description, starting from the same weights. Agreement to 1e-5
 * means forward pass, loss mask, every gradient, clipping and the optimizer all match the description.
 */
describe.skipIf(!hasPythonTorch)('training matches a PyTorch reference', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-reference-'));

  // Every encoding alone, a combination of an input-side and an attention-side scheme, and looped models.
  // Role-reading encodings need position ids in every batch: checked below, with them.
  const cases = [
    ...POSITIONAL_NAMES.filter((name) => !readsRoles(getPositionalEncoding(name))).map((pos) => ({
      name: pos,
      pos,
      extra: [] as string[],
    })),
    { name: '[ape, t5]', pos: '[ape, t5]', extra: [] },
    { name: 'fire, recurrence 2', pos: 'fire', extra: ['model.recurrence=2'] },
    { name: 'nope, length-scaled attention', pos: 'nope', extra: ['model.length_scaled_attention=true'] },
    ...(['geglu', 'swiglu', 'bilinear'] as const).map((mlp) => ({ name: `ape, ${mlp} MLP`, pos: 'ape', extra: [`model.mlp=${mlp}`] })),
    { name: 'ape, [bilinear, gelu] MLPs', pos: 'ape', extra: ['model.mlp=[bilinear, gelu]'] },
    { name: 'ape, [bilinear, gelu] MLPs, d_ff [48, 96]', pos: 'ape', extra: ['model.mlp=[bilinear, gelu]', 'model.d_ff=[48, 96]'] },
  ];
  for (const { name, pos, extra } of cases) {
    it(`${name}: losses over 8 steps agree to 1e-5`, async () => {
      const config = smallAdditionConfig(pos, extra);
      const experiment = prepareExperiment(config);
      const model = new Gpt(experiment.model, 3);
      const params = Object.fromEntries(
        Object.entries(model.params).map(([k, v]) => [k, { shape: v.shape, data: Array.from(v.dataSync()) }]),
      );
      const stream = new TrainStream(experiment.task, 3, heldOutKeys(buildTestSets(experiment.task, 3)));
      const optimizer = new AdamW(model.params, { beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0.1 });
      const batches = [];
      const lrs = [];
      const losses = [];
      for (let step = 1; step <= 8; step++) {
        const batch = encodeBatch(
          stream.next(16, step).map((p) => experiment.format.encode(p, experiment.formatOptions)),
          experiment.tokenizer,
          'answer',
        );
        const lr = learningRate(step, { lr: 3e-3, minLr: 1e-4, warmup: 2, steps: 8 });
        batches.push(referenceBatch(batch));
        lrs.push(lr);
        losses.push((await trainStep(model, optimizer, batch, lr, 1.0, step)).loss);
      }
      model.dispose();
      optimizer.dispose();
      const file = path.join(dir, `${name.replace(/[^a-z0-9]+/gi, '-')}.json`);
      fs.writeFileSync(file, JSON.stringify({ config: experiment.model, params, batches, lrs }));
      const reference = (JSON.parse(execFileSync(PYTHON, ['test/reference/gpt_reference.py', file]).toString()) as { losses: number[] })
        .losses;
      expect(losses[7]).toBeLessThan(losses[0]); // it trained
      for (let i = 0; i < 8; i++) expect(Math.abs(losses[i] - reference[i]) / reference[i]).toBeLessThan(1e-5);
      expect(tf.memory().numTensors).toBeLessThan(50);
    });
  }
});

/**
 * Logits of one forward pass on a sequence far longer than any training example, against the same reference:
 * the position-dependent parameters are set well away from their (small) initial values first, so that a wrong
 * bucket, transform or pass changes the logits by much more than the tolerance.
 */
describe.skipIf(!hasPythonTorch)('logits match the PyTorch reference far beyond training lengths', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-reference-logits-'));
  const T = 160;
  const roleIds = Array.from({ length: T }, (_, t) => (t % 5 === 0 ? 0 : 1 + ((t * 7) % 38)));
  const spreadIds = Array.from({ length: T }, (_, t) => 2 * t + (t % 3));
  const cases = [
    { name: 't5', set: ['model.pos=t5'] },
    { name: 'fire', set: ['model.pos=fire'] },
    { name: '[ape, t5]', set: ['model.pos=[ape, t5]', `model.max_len=${T}`] },
    { name: '[sinusoidal, fire]', set: ['model.pos=[sinusoidal, fire]'] },
    { name: 'fire, recurrence 3', set: ['model.pos=fire', 'model.recurrence=3'] },
    { name: 'nope, recurrence 2', set: ['model.pos=nope', 'model.recurrence=2'] },
    { name: 'alibi, length-scaled attention', set: ['model.pos=alibi', 'model.length_scaled_attention=true'] },
    // Position ids of the sequence's own: arbitrary role ids (the input side reads them, the attention side
    // 0..T-1), and a sorted random subset of [0, 400) for randomized T5 and FIRE (per-sequence distances).
    { name: '[abacus, fire]', set: ['model.pos=[abacus, fire]', 'model.max_position=40', 'model.abacus_offset=20'], positions: roleIds },
    { name: '[coupled, t5]', set: ['model.pos=[coupled, t5]', 'model.max_position=40'], positions: roleIds },
    {
      name: '[coupled, t5] with T5 on the coupled ids, bidirectional',
      set: [
        'model.pos=[coupled, t5]',
        'model.max_position=40',
        'model.attention_ids=roles',
        'model.t5_bidirectional=true',
        'model.t5_buckets=20',
        'model.t5_max_distance=10',
      ],
      positions: roleIds,
    },
    {
      name: '[coupled, t5] with T5 on the coupled ids and no coupled table',
      set: [
        'model.pos=[coupled, t5]',
        'model.max_position=40',
        'model.attention_ids=roles',
        'model.role_table=false',
        'model.t5_bidirectional=true',
        'model.t5_buckets=20',
        'model.t5_max_distance=10',
        'model.t5_scale=3',
      ],
      positions: roleIds,
    },
    {
      name: 'abacus, recurrence 2',
      set: ['model.pos=abacus', 'model.max_position=40', 'model.abacus_offset=20', 'model.recurrence=2'],
      positions: roleIds,
    },
    { name: 't5, random positions', set: ['model.pos=t5', 'model.random_positions=400'], positions: spreadIds },
    { name: 'fire, random positions', set: ['model.pos=fire', 'model.random_positions=400'], positions: spreadIds },
  ];
  const overrides: Record<string, (shape: number[], seed: number) => tf.Tensor> = {
    't5.relative_attention_bias.weight': (shape, seed) => tf.randomNormal(shape, 0, 1, 'float32', seed),
    'fire.c': () => tf.tensor1d([0.3]),
    // L = 0.05 * 512 = 25.6: queries beyond position 25 use the progressive normalizer log(c i + 1).
    'fire.L_multiplier': () => tf.tensor1d([0.05]),
    'fire.mlp.fc_out.weight': (shape, seed) => tf.randomNormal(shape, 0, 1, 'float32', seed),
    'abacus.weight': (shape, seed) => tf.randomNormal(shape, 0, 1, 'float32', seed),
    'coupled.weight': (shape, seed) => tf.randomNormal(shape, 0, 1, 'float32', seed),
  };
  for (const { name, set, positions } of cases as { name: string; set: string[]; positions?: number[] }[]) {
    it(`${name}: ${T}-token logits agree to 1e-5`, () => {
      const config = loadConfig('configs/addition-nope.yaml', [...set, 'model.layers=2', 'model.d_model=32', 'model.heads=4']);
      const experiment = prepareExperiment(config);
      const model = new Gpt(experiment.model, 5);
      Object.entries(model.params).forEach(([key, variable], i) => {
        const value = overrides[key]?.(variable.shape, i);
        if (value) variable.assign(value);
        value?.dispose();
      });
      const params = Object.fromEntries(
        Object.entries(model.params).map(([k, v]) => [k, { shape: v.shape, data: Array.from(v.dataSync()) }]),
      );
      const vocab = experiment.tokenizer.size;
      const ids = [1, ...Array.from({ length: T - 1 }, (_, t) => 3 + ((t * 7 + (t >> 3)) % (vocab - 3)))];
      const logits = tf.tidy(
        () =>
          model
            .forward(tf.tensor2d([ids], [1, T], 'int32'), {
              training: false,
              ...(positions && { positions: tf.tensor2d([positions], [1, T], 'int32') }),
            })
            .arraySync()[0],
      );
      model.dispose();
      const file = path.join(dir, `${name.replace(/\W+/g, '-')}.json`);
      const logitsPositions = positions ? [positions] : null;
      fs.writeFileSync(
        file,
        JSON.stringify({ config: experiment.model, params, batches: [], lrs: [], logits_ids: [ids], logits_positions: logitsPositions }),
      );
      const reference = (JSON.parse(execFileSync(PYTHON, ['test/reference/gpt_reference.py', file]).toString()) as { logits: number[][][] })
        .logits[0];
      let worst = 0;
      let spread = 0;
      for (let t = 0; t < T; t++) {
        for (let v = 0; v < vocab; v++) {
          worst = Math.max(worst, Math.abs(logits[t][v] - reference[t][v]));
          spread = Math.max(spread, Math.abs(reference[t][v] - reference[0][v]));
        }
      }
      expect(spread).toBeGreaterThan(0.1); // the logits vary along the sequence: there is something to compare
      expect(worst).toBeLessThan(1e-5);
    });
  }
});

/**
 * The same check with position ids of each sequence's own, drawn as training draws them: position coupling and
 * Abacus (from token roles), and randomized positions (Ruoss et al.) for every position-indexed encoding. The
 * batches carry the ids to the reference, which indexes its tables and rotations by them.
 */
describe.skipIf(!hasPythonTorch)('training with position ids matches the PyTorch reference', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-reference-ids-'));
  const cases: [string, string, string[]][] = [
    ['coupled', 'configs/addition-coupled.yaml', ['model.max_position=40', 'task.test_digits=[1,12]']],
    ['abacus', 'configs/addition-abacus.yaml', ['model.abacus_offset=20', 'model.max_position=40', 'task.test_digits=[1,12]']],
    ...['ape', 'sinusoidal', 'rope', 'alibi', 't5', 'fire', '[ape, fire]'].map((pos): [string, string, string[]] => [
      `${pos} with random_positions`,
      'configs/addition-nope.yaml',
      [`model.pos=${pos}`, 'model.random_positions=64', 'model.max_len=64', 'model.rope_fraction=0.5'],
    ]),
    // Input side from roles, attention side on 0..T-1; and a looped model re-adding the Abacus embeddings.
    [
      '[abacus, fire]',
      'configs/addition-abacus.yaml',
      ['model.pos=[abacus, fire]', 'model.abacus_offset=20', 'model.max_position=40', 'task.test_digits=[1,12]'],
    ],
    ['[coupled, t5]', 'configs/addition-coupled.yaml', ['model.pos=[coupled, t5]', 'model.max_position=40', 'task.test_digits=[1,12]']],
    [
      '[coupled, t5] with T5 on the coupled ids',
      'configs/addition-coupled.yaml',
      [
        'model.pos=[coupled, t5]',
        'model.attention_ids=roles',
        'model.t5_bidirectional=true',
        'model.max_position=40',
        'task.test_digits=[1,12]',
      ],
    ],
    [
      '[coupled, t5] with T5 on the coupled ids and no coupled table',
      'configs/addition-coupled.yaml',
      [
        'model.pos=[coupled, t5]',
        'model.attention_ids=roles',
        'model.role_table=false',
        'model.t5_bidirectional=true',
        'model.t5_scale=10',
        'model.max_position=40',
        'task.test_digits=[1,12]',
      ],
    ],
    [
      'abacus, recurrence 2',
      'configs/addition-abacus.yaml',
      ['model.recurrence=2', 'model.abacus_offset=20', 'model.max_position=40', 'task.test_digits=[1,12]'],
    ],
  ];
  for (const [label, file, overrides] of cases) {
    it(`${label}: losses over 6 steps agree to 1e-5`, async () => {
      const config = loadConfig(file, [...overrides, 'model.layers=2', 'model.d_model=32', 'model.heads=4', 'train.batch=8']);
      const experiment = prepareExperiment(config);
      const model = new Gpt(experiment.model, 3);
      const params = Object.fromEntries(
        Object.entries(model.params).map(([k, v]) => [k, { shape: v.shape, data: Array.from(v.dataSync()) }]),
      );
      const stream = new TrainStream(experiment.task, 3, heldOutKeys(buildTestSets({ ...experiment.task, testSize: 2 }, 3)));
      const optimizer = new AdamW(model.params, { beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0.1 });
      const batches = [];
      const lrs = [];
      const losses = [];
      for (let step = 1; step <= 6; step++) {
        const batch = trainingBatch(model, experiment, stream.next(8, step), step);
        expect(batch.positions).toBeDefined();
        const lr = learningRate(step, { lr: 3e-3, minLr: 1e-4, warmup: 2, steps: 6 });
        batches.push(referenceBatch(batch));
        lrs.push(lr);
        losses.push((await trainStep(model, optimizer, batch, lr, 1.0, step)).loss);
      }
      model.dispose();
      optimizer.dispose();
      const caseFile = path.join(dir, `${label.replace(/\W+/g, '-')}.json`);
      fs.writeFileSync(caseFile, JSON.stringify({ config: experiment.model, params, batches, lrs }));
      const reference = (JSON.parse(execFileSync(PYTHON, ['test/reference/gpt_reference.py', caseFile]).toString()) as { losses: number[] })
        .losses;
      for (let i = 0; i < 6; i++) expect(Math.abs(losses[i] - reference[i]) / reference[i]).toBeLessThan(1e-5);
    });
  }
});
