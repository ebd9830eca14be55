import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.ts';
import { train } from '../src/experiments/train.ts';
import { readMetrics } from '../src/runs/metricsLog.ts';
import { testBackend } from './fixtures/backend.ts';

const configs = fs
  .readdirSync('configs')
  .filter((f) => f.endsWith('.yaml'))
  .sort();

/** Every shipped config loads, and trains and evaluates end to end (a few steps, a few problems). */
describe('shipped configs', () => {
  it('include the ones the README promises', () => {
    for (const name of ['nope', 'ape', 'sinusoidal', 'rope', 'alibi', 'plain', 'scratchpad-simple', 'scratchpad-detailed']) {
      expect(configs).toContain(`addition-${name}.yaml`);
    }
    expect(configs).toContain('multiplication-reversed.yaml');
  });

  for (const file of configs) {
    it(`${file} runs`, async () => {
      // A curriculum is squeezed into the 3 steps, one step a stage, so every stage's data is drawn, and so is an
      // auxiliary loss that stops (through step 1); kept fork points past step 3 are dropped (the check refuses them).
      const shipped = loadConfig(path.join('configs', file));
      const stages = shipped.task.curriculum.map((stage, i) => ({ ...stage, until_step: i + 1 }));
      const config = loadConfig(path.join('configs', file), [
        ...(stages.length > 0 ? [`task.curriculum=${JSON.stringify(stages)}`] : []),
        ...(shipped.train.aux_loss?.until_step !== undefined ? ['train.aux_loss.until_step=1'] : []),
        `backend=${testBackend('wasm')}`,
        'train.steps=3',
        'train.keep_checkpoints_at=[]',
        'train.eval_every=3',
        'task.test_size=2',
        'train.batch=4',
        'task.train_size=null',
      ]);
      const runDir = fs.mkdtempSync(path.join(os.tmpdir(), `arith-config-${file}-`));
      const result = await train(config, runDir, {});
      const metrics = readMetrics(path.join(runDir, 'metrics.jsonl'));
      expect(metrics[metrics.length - 1].step).toBe(3);
      expect(Object.keys(metrics[metrics.length - 1].accuracy!).length).toBe(config.task.test_digits[1] - config.task.test_digits[0] + 1);
      expect(Number.isFinite(metrics[metrics.length - 1].loss)).toBe(true);
      result.model.dispose();
    });
  }
});
