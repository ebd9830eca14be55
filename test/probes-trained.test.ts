import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.ts';
import { buildTestSets } from '../src/data/dataset.ts';
import { accuracyByLength } from '../src/experiments/evaluate.ts';
import { train, type TrainResult } from '../src/experiments/train.ts';
import { modelDecoder } from '../src/inference/decode.ts';
import { predict as predictInProcess } from '../src/inference/predict.ts';
import type { AttentionResult } from '../src/probes/attention.ts';
import { lengthProbeDuringTraining, type LengthAtStep } from '../src/probes/duringTraining.ts';
import { PROBES } from '../src/probes/index.ts';
import type { LengthResult } from '../src/probes/length.ts';
import { modelCapture, modelPredictor, probeContext, runProbes, type ProbeRun } from '../src/probes/run.ts';
import { LENGTH_BY_STEP_FILE } from '../src/runs/paths.ts';

// 2-digit reversed addition with operands padded to 2 digits (one layout, so a tiny model learns most of it in
// ~10 s on one wasm core: 100% of 1-digit, ~90% of 2-digit problems). Unpadded reversed addition at this size
// learned almost nothing, and a test of "the probes agree" needs a model that is right and wrong.
// A learned position table of 17 tokens fits 3+3 digits, so the default grid (2 x 2 = 4 digits) is capped at 3.
const CONFIG = {
  seed: 0,
  backend: 'wasm',
  task: { op: 'add', train_digits: [1, 2], test_digits: [1, 3], test_size: 100 },
  format: { name: 'reversed-padded', pad_width: 2 },
  model: { layers: 2, heads: 2, d_model: 32, max_len: 17, pos: 'ape' },
  train: {
    steps: 300,
    batch: 64,
    lr: 0.01,
    warmup: 20,
    eval_every: 300,
    eval_size: 100,
    log_every: 50,
    checkpoint_every: 300,
    probe_every: 150,
    probe_samples: 100,
  },
};

const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-probes-'));
let trained: TrainResult;
let runs: ProbeRun[];

beforeAll(async () => {
  trained = await train(parseConfig(structuredClone(CONFIG), 'test'), runDir, { onProbe: lengthProbeDuringTraining(runDir) });
  const context = probeContext(trained.experiment, { samples: 100 });
  runs = await runProbes(
    Object.values(PROBES),
    { predictor: modelPredictor(trained.model, trained.experiment), capture: modelCapture(trained.model) },
    context,
  );
}, 180_000);

const resultOf = <T>(name: string) => runs.find((r) => r.name === name)!.result as T;

describe('probes on a really trained model', () => {
  it('the length diagonal over the held-out sets equals the training evaluation', async () => {
    const length = resultOf<LengthResult>('length');
    expect(length.maxDigits).toBe(3);
    expect(length.maxDigitsLimit).toMatch(/max_len 17/);
    const final = trained.final.accuracy!;
    // The model learned something, so the comparison is not 0 = 0 everywhere.
    expect(Math.max(...Object.values(final))).toBeGreaterThan(0);
    const testSets = buildTestSets(trained.experiment.task, CONFIG.seed);
    const recomputed = await accuracyByLength(trained.model, trained.experiment, testSets, 100);
    for (const cell of length.diagonal) {
      expect(cell.source).toBe('held-out');
      expect(cell.accuracy).toBe(final[cell.digitsA]);
      expect(cell.accuracy).toBe(recomputed[cell.digitsA]);
    }
    expect(length.diagonal.map((c) => c.inTrainingRange)).toEqual([true, true, false]);
  });

  it('leaves no tensors behind', async () => {
    const before = tf.memory().numTensors;
    const context = probeContext(trained.experiment, { samples: 5 });
    await runProbes(
      Object.values(PROBES),
      { predictor: modelPredictor(trained.model, trained.experiment), capture: modelCapture(trained.model) },
      context,
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('train.probe_every appended the length grid at each probed step', () => {
    const lines = fs
      .readFileSync(path.join(runDir, 'probes', LENGTH_BY_STEP_FILE), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as LengthAtStep);
    expect(lines.map((l) => l.step)).toEqual([150, 300]);
    expect(lines[1].diagonal.map((c) => c.accuracy)).toEqual(resultOf<LengthResult>('length').diagonal.map((c) => c.accuracy));
    expect(lines[1].accuracy).toEqual(resultOf<LengthResult>('length').accuracy);
  });

  it('attention patterns are causal rows of probabilities with a summary per layer and head', () => {
    const attention = resultOf<AttentionResult>('attention');
    expect(attention.prompts.map((p) => p.digits)).toEqual([1, 2]);
    expect(attention.summary).toHaveLength(2 * 2);
    for (const prompt of attention.prompts) {
      expect(prompt.layers).toHaveLength(2);
      for (const { heads } of prompt.layers) {
        for (const { pattern, answerDigits } of heads) {
          expect(pattern).toHaveLength(prompt.tokens.length);
          pattern.forEach((row, q) => {
            expect(Math.abs(row.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(0.01);
            expect(row.slice(q + 1).every((w) => w === 0)).toBe(true);
          });
          expect(answerDigits.map((d) => d.digit)).toEqual(prompt.roles.filter((r) => r?.startsWith('answer')).map((_, k) => k));
          for (const d of answerDigits) expect(d.top[0].index).toBeLessThanOrEqual(d.query);
        }
      }
    }
  });

  it('the CLI loads the checkpoint, writes probes/<name>.json and answers questions', async () => {
    const cli = path.resolve('bin/arith-lab.js');
    const probe = spawnSync(process.execPath, [cli, 'probe', runDir, '--probe', 'length', '--backend', 'wasm'], { encoding: 'utf8' });
    expect(probe.status, probe.stderr).toBe(0);
    expect(probe.stdout).toMatch(/diagonal/);
    const written = JSON.parse(fs.readFileSync(path.join(runDir, 'probes', 'length.json'), 'utf8'));
    expect(written.step).toBe(300);
    expect(written.accuracy).toEqual(resultOf<LengthResult>('length').accuracy);

    const problems = buildTestSets(trained.experiment.task, CONFIG.seed).get(2)!.slice(0, 8);
    const predict = spawnSync(process.execPath, [cli, 'predict', runDir, '--json', '--backend', 'wasm'], {
      input: [...problems.map((p) => `${p.a}+${p.b}`), 'nonsense'].join('\n') + '\n',
      encoding: 'utf8',
    });
    expect(predict.status).toBe(2);
    const answers = predict.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(answers).toHaveLength(problems.length + 1);
    expect(answers[problems.length]).toMatchObject({ line: problems.length + 1, error: expect.any(String) });
    // Same greedy decoding as evaluation, with a budget that does not peek at the answer.
    const evaluated = await predictInProcess(modelDecoder(trained.model), trained.experiment, problems);
    answers.slice(0, problems.length).forEach((answer, i) => {
      expect(answer.expected).toBe((problems[i].a + problems[i].b).toString());
      expect(answer.ok).toBe(evaluated[i].correct);
    });
  });
});
