/**
 * Training throughput of the lab's GPT on every backend available here.
 *   npm run bench -- [--backends wasm,cpu] [--steps 10] [--models small,large] [--out bench/results]
 * Prints a table and writes JSON. Medians over timed steps after warm-up; tokens/s = batch * seq / step time.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendName } from '../src/backends/select.ts';
import { UserError } from '../src/errors.ts';
import { AdamW } from '../src/experiments/adamw.ts';
import { trainStep } from '../src/experiments/train.ts';
import type { TokenBatch } from '../src/data/batches.ts';
import { Gpt, type GptConfig } from '../src/models/gpt.ts';
import { createRandom } from '../src/random.ts';

const MODELS: Record<string, Omit<GptConfig, 'vocabSize'>> = {
  small: { layers: 2, heads: 4, dModel: 128, dFf: 512, dropout: 0, maxLen: 64, pos: 'nope', ropeFraction: 1, ropeBase: 10000, tieEmbeddings: true },
  large: { layers: 6, heads: 6, dModel: 384, dFf: 1536, dropout: 0, maxLen: 64, pos: 'nope', ropeFraction: 1, ropeBase: 10000, tieEmbeddings: true },
};
const BATCH = 64;
const SEQ = 32;
const VOCAB = 20;

function argument(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

function syntheticBatch(): TokenBatch {
  const random = createRandom(0, 'bench');
  const size = BATCH * SEQ;
  const inputs = Int32Array.from({ length: size }, () => random.int(3, VOCAB - 1));
  const targets = Int32Array.from({ length: size }, () => random.int(3, VOCAB - 1));
  const ones = new Float32Array(size).fill(1);
  return { batch: BATCH, seqLen: SEQ, inputs, targets, lossMask: ones, answerMask: ones };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function benchOne(backend: string, modelName: string, steps: number) {
  const model = new Gpt({ ...MODELS[modelName], vocabSize: VOCAB }, 0);
  const optimizer = new AdamW(model.params, { beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0.1 });
  const batch = syntheticBatch();
  const times: number[] = [];
  const warmup = 2;
  for (let step = 0; step < warmup + steps; step++) {
    const started = performance.now();
    await trainStep(model, optimizer, batch, 1e-3, 1, step);
    if (step >= warmup) times.push(performance.now() - started);
  }
  model.dispose();
  optimizer.dispose();
  const ms = median(times);
  return { backend, model: modelName, parameters: model.parameterCount, batch: BATCH, seq: SEQ, steps, median_ms_per_step: Number(ms.toFixed(1)), tokens_per_s: Math.round((BATCH * SEQ) / (ms / 1000)) };
}

const backends = argument('backends', 'wasm,cpu,tensorflow,webgpu').split(',') as BackendName[];
const models = argument('models', 'small,large').split(',');
const steps = Number(argument('steps', '5'));
const results: object[] = [];
for (const backend of backends) {
  try {
    await selectBackend(backend);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    console.log(`${backend}: skipped (${error.message})`);
    results.push({ backend, skipped: error.message });
    continue;
  }
  for (const modelName of models) {
    // The plain-JS cpu backend takes minutes per step on the large model; time it on the small one only.
    const modelSteps = backend === 'cpu' ? Math.min(steps, 2) : steps;
    if (backend === 'cpu' && modelName === 'large' && !process.argv.includes('--cpu-large')) {
      console.log('cpu/large: skipped (minutes per step; pass --cpu-large to time it)');
      continue;
    }
    const result = await benchOne(backend, modelName, modelSteps);
    console.log(`${backend.padEnd(10)} ${modelName.padEnd(6)} ${String(result.parameters).padStart(10)} params  ${String(result.median_ms_per_step).padStart(8)} ms/step  ${String(result.tokens_per_s).padStart(7)} tok/s`);
    results.push(result);
  }
  tf.disposeVariables();
}
const out = argument('out', 'bench/results');
fs.mkdirSync(out, { recursive: true });
const file = path.join(out, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
fs.writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, results }, null, 2) + '\n');
console.log(`wrote ${file}`);
