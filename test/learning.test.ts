import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../src/config/load.ts';
import { train } from '../src/experiments/train.ts';
import { readMetrics } from '../src/runs/metricsLog.ts';
import { testBackend } from './fixtures/backend.ts';

/**
 * Learning is tested by learning: a 100k-parameter model trained here, on wasm (and again on torch in .ci/run's
 * second pass), must answer held-out 2-digit reversed additions (never seen in training) with at least 99% exact
 * match.
 */
describe('a tiny transformer learns 2-digit reversed addition', () => {
  it('reaches >= 99% exact match on 200 held-out problems', async () => {
    const config = loadConfig('configs/addition-ape.yaml', [
      `backend=${testBackend('wasm')}`,
      'format.name=reversed', // $12+34=64$: the test pins its own format, independent of the shipped config's
      'task.train_digits=[2, 2]',
      'task.test_digits=[2, 2]',
      'task.test_size=200',
      'model.layers=2',
      'model.d_model=64',
      'train.steps=800',
      'train.warmup=50',
      'train.lr=0.003',
      'train.eval_every=150',
      'train.eval_size=50',
    ]);
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-learn-'));
    // The torch engine splits float sums by thread, so its loss curve depends on the thread count (1 thread,
    // e.g. a CI pinned to one core, gave 97% here): the test trains at one fixed count on every machine. 800 steps:
    // at 450 and 600 runs ended at 98-98.5% on one backend or the other (the schedule and float order move a run
    // that close to the line); 800 were at 99-100% from step 600 on, on wasm and torch.
    vi.stubEnv('ARITH_THREADS', '2');
    const result = await train(config, runDir, {}).finally(() => vi.unstubAllEnvs());
    const metrics = readMetrics(path.join(runDir, 'metrics.jsonl'));
    const final = metrics[metrics.length - 1];
    expect(final.step).toBe(800);
    expect(final.accuracy!['2']).toBeGreaterThanOrEqual(0.99);
    expect(metrics[0].loss).toBeGreaterThan(1); // it started from chance
    expect(final.loss).toBeLessThan(0.2); // one batch's loss: noisy, but far below the ~1.5 of a model that has not learned
    result.model.dispose();
    expect(tf.memory().numTensors).toBeLessThan(500);
  });
});
