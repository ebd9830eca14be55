import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/backends/select.ts';
import { prepareExperiment } from '../src/config/experiment.ts';
import { loadConfig } from '../src/config/load.ts';
import { loadRun, ONLINE_PREFIX, readCheckpoint } from '../src/experiments/checkpoint.ts';
import { accuracyByLength } from '../src/experiments/evaluate.ts';
import { train } from '../src/experiments/train.ts';
import { averageDecay, WeightAverage } from '../src/experiments/weightAverage.ts';
import { Gpt } from '../src/models/gpt.ts';
import { listCheckpoints } from '../src/runs/checkpointFiles.ts';
import { readMetrics } from '../src/runs/metricsLog.ts';
import { buildTestSets } from '../src/data/dataset.ts';
import { testBackend } from './fixtures/backend.ts';
import { expectExactResume } from './fixtures/interruptedRun.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-ema-'));

const TINY = `
seed: 2
task: { op: add, train_digits: [1, 2], test_digits: [2, 2], test_size: 16 }
format: { name: reversed }
model: { layers: 1, heads: 2, d_model: 16, max_len: 16, pos: ape }
train: { steps: 30, batch: 8, lr: 0.01, warmup: 0, eval_every: 10, eval_size: 8, log_every: 1, checkpoint_every: 10 }
`;
const configFile = path.join(dir, 'tiny.yaml');
fs.writeFileSync(configFile, TINY);
const EMA = ['train.ema={decay: 0.9, every: 1}'];

beforeAll(async () => {
  await selectBackend(testBackend('wasm'));
});

const values = (model: Gpt, name: string) => Array.from(model.params[name].dataSync());

describe('the moving average of the weights', () => {
  it('the n-th update decays by min(decay, (1 + n) / (10 + n))', () => {
    expect(averageDecay(0.999, 1)).toBeCloseTo(2 / 11, 12);
    expect(averageDecay(0.999, 90)).toBeCloseTo(91 / 100, 12);
    expect(averageDecay(0.9, 1000)).toBe(0.9);
  });

  it('folds the online weights in on update steps only: average ← d·average + (1 − d)·online', () => {
    const experiment = prepareExperiment(loadConfig(configFile));
    const online = new Gpt(experiment.model, 0);
    const average = new WeightAverage(online, 0, { decay: 0.5, every: 3 });
    const name = 'wte.weight';
    const start = values(online, name);
    expect(values(average.model, name)).toEqual(start);
    online.params[name].assign(tf.add(online.params[name], 1));
    average.update(online, 4); // not an update step
    expect(values(average.model, name)).toEqual(start);
    average.update(online, 30); // the 10th update: min(0.5, 11/20) = 0.5
    const expected = start.map((w) => 0.5 * w + 0.5 * (w + 1));
    values(average.model, name).forEach((w, i) => expect(w).toBeCloseTo(expected[i], 6));
    online.dispose();
    average.dispose();
  });
});

describe('a run with train.ema', () => {
  it('saves the average as its model, the online weights beside the moments, and evaluates both', async () => {
    const runDir = path.join(dir, 'ema');
    fs.mkdirSync(runDir);
    const config = loadConfig(configFile, EMA);
    const counts: number[] = [];
    const result = await train(config, runDir, { onStep: () => counts.push(tf.memory().numTensors) });
    // Updating the average leaks no tensor: the count after step 2 is the count after every later step.
    expect(new Set(counts.slice(1)).size).toBe(1);
    const checkpoint = readCheckpoint(listCheckpoints(runDir)[0].dir);
    // The returned model is the average, and so is model.safetensors; the online weights differ from it.
    expect(Array.from(checkpoint.model['wte.weight'].data)).toEqual(values(result.model, 'wte.weight'));
    expect(Array.from(checkpoint.optimizer[`${ONLINE_PREFIX}wte.weight`].data)).not.toEqual(values(result.model, 'wte.weight'));
    const evals = readMetrics(path.join(runDir, 'metrics.jsonl')).filter((r) => r.accuracy);
    expect(evals.map((r) => r.step)).toEqual([10, 20, 30]);
    for (const r of evals) expect(Object.keys(r.online_accuracy!)).toEqual(Object.keys(r.accuracy!));
    // Probes and predict load the average: the run's final accuracy is the loaded model's.
    const loaded = await loadRun(runDir);
    const accuracy = await accuracyByLength(loaded.model, loaded.experiment, buildTestSets(loaded.experiment.task, config.seed), Infinity);
    expect(accuracy).toEqual(evals.at(-1)!.accuracy);
    loaded.model.dispose();
    result.model.dispose();
  }, 60_000);

  it('without train.ema the optimizer file holds only the moments', async () => {
    const runDir = path.join(dir, 'plain');
    fs.mkdirSync(runDir);
    (await train(loadConfig(configFile, ['train.steps=2']), runDir)).model.dispose();
    const checkpoint = readCheckpoint(listCheckpoints(runDir)[0].dir);
    expect(Object.keys(checkpoint.optimizer).some((name) => name.startsWith(ONLINE_PREFIX))).toBe(false);
    expect(readMetrics(path.join(runDir, 'metrics.jsonl')).some((r) => r.online_accuracy)).toBe(false);
  }, 60_000);

  it('resumes exactly: the same metrics and the same average and online weights as a run never stopped', async () => {
    const resumeDir = path.join(dir, 'resume');
    fs.mkdirSync(resumeDir);
    await expectExactResume(loadConfig(configFile, [...EMA, 'train.steps=12']), resumeDir);
  }, 60_000);

  it('a checkpoint without the online weights is unusable for a run with train.ema, naming the file', async () => {
    const runDir = path.join(dir, 'plain');
    const checkpoint = listCheckpoints(runDir)[0].dir;
    const expected = new Map(Object.entries(readCheckpoint(checkpoint).model).map(([name, t]) => [name, t.shape]));
    expect(() => readCheckpoint(checkpoint, expected, { averaged: true })).toThrow(/optimizer.safetensors: tensor online\.\S+ is missing/);
  });

  it('the CLI prints the trained weights beside the average, and predict answers from the run', () => {
    const runDir = path.join(dir, 'cli');
    const cli = (args: string[]) => spawnSync(process.execPath, [path.resolve('bin/arith-lab.js'), ...args], { encoding: 'utf8' });
    const trained = cli([
      'train',
      '--config',
      configFile,
      '--set',
      'train.ema={decay: 0.9, every: 2}',
      '--run-dir',
      runDir,
      '--backend',
      'wasm',
    ]);
    expect(trained.status, trained.stderr).toBe(0);
    expect(trained.stdout).toMatch(/\(the weight average, train\.ema; the trained weights alone: 2: \d+\.\d%\)/);
    const predicted = cli(['predict', runDir, '12+34', '--backend', 'wasm']);
    expect(predicted.status, predicted.stderr).toBe(0);
  }, 60_000);

  it('a decay outside (0, 1) is one error naming train.ema.decay', () => {
    for (const decay of [1, 0, 1.5]) {
      const load = () => loadConfig(configFile, [`train.ema={decay: ${decay}}`]);
      expect(load).toThrow(/expected number to be/);
      try {
        load();
      } catch (error) {
        expect((error as { details?: { field?: string } }).details?.field).toBe('train.ema.decay');
      }
    }
  });
});
