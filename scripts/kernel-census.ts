/**
 * Lists the tfjs kernels the lab calls, by running every shipped config (a few training steps, evaluation with
 * greedy decoding, every probe, predict) on the cpu backend with each of its kernels re-registered wrapped to
 * count its calls. A new backend must implement every name printed.
 *   node bin/run-ts.js scripts/kernel-census.ts [--json]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadConfig } from '../src/config/load.ts';
import { ask } from '../src/cli/ask.ts';
import { train } from '../src/experiments/train.ts';
import { modelDecoder } from '../src/inference/decode.ts';
import { PROBES } from '../src/probes/index.ts';
import { modelCapture, modelPredictor, probeContext, runProbes } from '../src/probes/run.ts';

const counts = new Map<string, number>();
for (const kernel of tf.getKernelsForBackend('cpu')) {
  tf.unregisterKernel(kernel.kernelName, 'cpu');
  tf.registerKernel({
    ...kernel,
    kernelFunc: (args) => {
      counts.set(kernel.kernelName, (counts.get(kernel.kernelName) ?? 0) + 1);
      return (kernel.kernelFunc as (a: typeof args) => ReturnType<typeof kernel.kernelFunc>)(args);
    },
  });
}

const byConfig: Record<string, string[]> = {};
for (const file of fs
  .readdirSync('configs')
  .filter((f) => f.endsWith('.yaml'))
  .sort()) {
  counts.clear();
  const config = loadConfig(path.join('configs', file), [
    'train.steps=2',
    'train.eval_every=2',
    'task.test_size=2',
    'train.batch=4',
    'task.train_size=null',
    'model.layers=1',
    'model.d_model=16',
    'model.heads=2',
  ]);
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-census-'));
  const { model, experiment } = await train({ ...config, backend: 'cpu' }, runDir, {});
  await runProbes(
    Object.values(PROBES),
    { predictor: modelPredictor(model, experiment), capture: modelCapture(model) },
    probeContext(experiment, { samples: 2 }),
  );
  await ask(modelDecoder(model), experiment, ['12+34']);
  model.dispose();
  byConfig[file] = [...counts.keys()].sort();
}
const all = [...new Set(Object.values(byConfig).flat())].sort();
if (process.argv.includes('--json')) console.log(JSON.stringify({ all, byConfig }, null, 1));
else console.log(`${all.length} kernels: ${all.join(' ')}`);
