/**
 * Time and size of one checkpoint (model + AdamW state + state.json) for the lab's models.
 *   node bin/run-ts.js bench/checkpoint.ts [--backend wasm] [--models large] [--repeats 5]
 * Writes into a temporary folder (fsync included, as training does), then reads and verifies it back.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { selectBackend, type BackendName } from '../src/backends/select.ts';
import { AdamW } from '../src/experiments/adamw.ts';
import { modelTensors, optimizerTensors, readCheckpoint, restoreModel, writeCheckpoint } from '../src/experiments/checkpoint.ts';
import { Gpt } from '../src/models/gpt.ts';
import { BENCH_MODELS } from './models.ts';

function argument(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const megabytes = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

const backend = await selectBackend(argument('backend', 'wasm') as BackendName);
const repeats = Number(argument('repeats', '5'));
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-checkpoint-bench-'));
console.log(`backend ${backend}, ${repeats} writes each, median; folder ${root}`);
for (const name of argument('models', 'small,large').split(',')) {
  const model = new Gpt(BENCH_MODELS[name], 0);
  const optimizer = new AdamW(model.params, { beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0.1 });
  const runDir = path.join(root, name);
  const state = {
    stream: { random: {}, cursor: 0, epoch: 0 },
    optimizer_step: 1,
    train_seconds: 0,
    window: { tokens: 0, seconds: 0 },
    last_record: null,
    backend,
  };
  const writes: number[] = [];
  const reads: number[] = [];
  let dir = '';
  for (let i = 1; i <= repeats; i++) {
    const started = performance.now();
    dir = writeCheckpoint(runDir, { step: i, model: await modelTensors(model), optimizer: await optimizerTensors(optimizer), state }, 2);
    writes.push(performance.now() - started);
    const readStarted = performance.now();
    restoreModel(model, readCheckpoint(dir).model);
    reads.push(performance.now() - readStarted);
  }
  const sizes = fs.readdirSync(dir).map((file) => [file, fs.statSync(path.join(dir, file)).size] as const);
  const total = sizes.reduce((sum, [, size]) => sum + size, 0);
  console.log(
    `${name}: ${model.parameterCount.toLocaleString('en-US')} parameters; write ${median(writes).toFixed(0)} ms, read+verify+load ${median(reads).toFixed(0)} ms; ` +
      `${megabytes(total)} MiB (${sizes.map(([file, size]) => `${file} ${megabytes(size)} MiB`).join(', ')})`,
  );
  optimizer.dispose();
  model.dispose();
}
fs.rmSync(root, { recursive: true, force: true });
