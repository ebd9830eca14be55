import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/backends/select.ts';
import { loadConfig } from '../src/config/load.ts';
import { encodeBatch } from '../src/data/batches.ts';
import { buildTestSets, heldOutKeys, TrainStream } from '../src/data/dataset.ts';
import { AdamW } from '../src/experiments/adamw.ts';
import { learningRate } from '../src/experiments/schedule.ts';
import { prepareExperiment } from '../src/config/experiment.ts';
import { trainStep } from '../src/experiments/train.ts';
import { Gpt } from '../src/models/gpt.ts';
import { getPositionalEncoding, POSITIONAL_NAMES } from '../src/models/positional/index.ts';
import { readsRoles } from '../src/models/positional/positionIds.ts';
import { trainingBatch } from '../src/experiments/train.ts';

// Debian's python3-torch (installed by .ci/run). Without it this file is skipped, and says so.
const PYTHON = '/usr/bin/python3';
const hasTorch = (() => {
  try {
    execFileSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/**
 * llm.c-style check: eight AdamW steps of our GPT on real batches, against an independent float64 PyTorch
 * implementation written from the README's description, starting from the same weights. Agreement to 1e-5
 * means forward pass, loss mask, every gradient, clipping and the optimizer all match the description.
 */
describe.skipIf(!hasTorch)('training matches a PyTorch reference', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-reference-'));

  // Role-reading encodings need position ids in every batch: checked below, with them.
  for (const pos of POSITIONAL_NAMES.filter((name) => !readsRoles(getPositionalEncoding(name)))) {
    it(`${pos}: losses over 8 steps agree to 1e-5`, async () => {
      const config = loadConfig('configs/addition-nope.yaml', [
        `model.pos=${pos}`,
        'model.layers=2',
        'model.d_model=32',
        'model.heads=4',
        'model.rope_fraction=0.5',
      ]);
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
          stream.next(16).map((p) => experiment.format.encode(p, experiment.formatOptions)),
          experiment.tokenizer,
          'answer',
        );
        const lr = learningRate(step, { lr: 3e-3, minLr: 1e-4, warmup: 2, steps: 8 });
        batches.push({
          B: batch.batch,
          T: batch.seqLen,
          inputs: Array.from(batch.inputs),
          targets: Array.from(batch.targets),
          mask: Array.from(batch.lossMask),
        });
        lrs.push(lr);
        losses.push((await trainStep(model, optimizer, batch, lr, 1.0, step)).loss);
      }
      model.dispose();
      optimizer.dispose();
      const file = path.join(dir, `${pos}.json`);
      fs.writeFileSync(file, JSON.stringify({ config: experiment.model, params, batches, lrs }));
      const reference = JSON.parse(execFileSync(PYTHON, ['test/reference/gpt_reference.py', file]).toString()) as number[];
      expect(losses[7]).toBeLessThan(losses[0]); // it trained
      for (let i = 0; i < 8; i++) expect(Math.abs(losses[i] - reference[i]) / reference[i]).toBeLessThan(1e-5);
      expect(tf.memory().numTensors).toBeLessThan(50);
    });
  }
});

/**
 * The same check with position ids of each sequence's own, drawn as training draws them: position coupling and
 * Abacus (from token roles), and randomized positions (Ruoss et al.) for every position-indexed encoding. The
 * batches carry the ids to the reference, which indexes its tables and rotations by them.
 */
describe.skipIf(!hasTorch)('training with position ids matches the PyTorch reference', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-reference-ids-'));
  const cases: [string, string, string[]][] = [
    ['coupled', 'configs/addition-coupled.yaml', ['model.max_position=40', 'task.test_digits=[1,12]']],
    ['abacus', 'configs/addition-abacus.yaml', ['model.abacus_offset=20', 'model.max_position=40', 'task.test_digits=[1,12]']],
    ...['ape', 'sinusoidal', 'rope', 'alibi'].map((pos): [string, string, string[]] => [
      `${pos} with random_positions`,
      'configs/addition-nope.yaml',
      [`model.pos=${pos}`, 'model.random_positions=64', 'model.max_len=64', 'model.rope_fraction=0.5'],
    ]),
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
        const batch = trainingBatch(model, experiment, stream.next(8), step);
        expect(batch.positions).toBeDefined();
        const lr = learningRate(step, { lr: 3e-3, minLr: 1e-4, warmup: 2, steps: 6 });
        batches.push({
          B: batch.batch,
          T: batch.seqLen,
          inputs: Array.from(batch.inputs),
          targets: Array.from(batch.targets),
          mask: Array.from(batch.lossMask),
          positions: Array.from(batch.positions!),
        });
        lrs.push(lr);
        losses.push((await trainStep(model, optimizer, batch, lr, 1.0, step)).loss);
      }
      model.dispose();
      optimizer.dispose();
      const caseFile = path.join(dir, `${label.replaceAll(' ', '-')}.json`);
      fs.writeFileSync(caseFile, JSON.stringify({ config: experiment.model, params, batches, lrs }));
      const reference = JSON.parse(execFileSync(PYTHON, ['test/reference/gpt_reference.py', caseFile]).toString()) as number[];
      for (let i = 0; i < 6; i++) expect(Math.abs(losses[i] - reference[i]) / reference[i]).toBeLessThan(1e-5);
    });
  }
});
