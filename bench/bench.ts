/**
 * Training throughput of the lab's GPT on every backend available here.
 *   npm run bench -- [--backends torch,wasm,cpu] [--models small,large] [--steps 5] [--warmup 2] [--rounds 1]
 *                    [--threads N] [--device cpu|cuda] [--fusions all,none,layernorm,...] [--vs-pytorch]
 *                    [--python PYTHON] [--out bench/results]
 * Prints a table and writes JSON. Medians over timed steps after warm-up; tokens/s = batch * seq / step time. On
 * torch it also reports the most bytes a timed step copied from JavaScript buffers into native tensors (host
 * uploads; the batch's token ids and targets, 16 KiB, should be all).
 *
 * --vs-pytorch also trains the same model in PyTorch (bench/pytorch_bench.py: same shapes, float32, eager, the
 * same thread count and device) in this invocation and prints tokens/s(ours) / tokens/s(PyTorch) per model.
 * --fusions times each listed fusion setting (src/models/fused.ts: all, none, a name, `a+b`, `no-a` for all but
 * a) on backends that have fused kernels, to measure what each buys. --rounds repeats everything and reports the
 * median of the rounds, which interleaves the engines in time on a machine whose load changes.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendName, type DeviceName } from '../src/backends/select.ts';
import { torchBackend, uploadedBytes } from '../src/backends/torch/index.ts';
import { UserError } from '../src/errors.ts';
import { AdamW } from '../src/experiments/adamw.ts';
import { trainStep } from '../src/experiments/train.ts';
import type { TokenBatch } from '../src/data/batches.ts';
import { availableFusions, enabledFusions, parseFusions, setFusions, type Fusion } from '../src/models/fused.ts';
import { Gpt } from '../src/models/gpt.ts';
import { createRandom } from '../src/random.ts';
import { BENCH_MODELS, BENCH_VOCAB } from './models.ts';

const BATCH = 64;
const SEQ = 32;

function argument(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

function syntheticBatch(): TokenBatch {
  const random = createRandom(0, 'bench');
  const size = BATCH * SEQ;
  const inputs = Int32Array.from({ length: size }, () => random.int(3, BENCH_VOCAB - 1));
  const targets = Int32Array.from({ length: size }, () => random.int(3, BENCH_VOCAB - 1));
  const ones = new Float32Array(size).fill(1);
  return { batch: BATCH, seqLen: SEQ, inputs, targets, lossMask: ones, answerMask: ones };
}

/** The upper median, as pytorch_bench.py takes it. */
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** Rounds: the middle one, or the mean of the two middle ones (an upper median of 2 rounds would be the slower). */
const medianOfRounds = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const tokensPerSecond = (ms: number) => Math.round((BATCH * SEQ) / (ms / 1000));

interface Timing {
  backend: string;
  model: string;
  fusions: string;
  parameters: number;
  ms: number[];
  cpuMs: number[];
  /** torch: the most bytes one timed step copied from JavaScript buffers into native tensors, per round. */
  uploadBytes: number[];
}

/** Host bytes uploaded so far on torch; null on other backends, which do not count them. */
const torchUploads = () => (tf.getBackend() === 'torch' ? uploadedBytes() : null);

async function benchOne(
  modelName: string,
  steps: number,
  warmup: number,
): Promise<{ parameters: number; ms: number; cpuMs: number; uploadBytes: number | null }> {
  const model = new Gpt(BENCH_MODELS[modelName], 0);
  const optimizer = new AdamW(model.params, { beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0.1 });
  const batch = syntheticBatch();
  const times: number[] = [];
  const cpuTimes: number[] = [];
  let uploadBytes: number | null = null;
  for (let step = 0; step < warmup + steps; step++) {
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    const uploaded = torchUploads();
    await trainStep(model, optimizer, batch, 1e-3, 1, step);
    if (step >= warmup) {
      if (uploaded !== null) uploadBytes = Math.max(uploadBytes ?? 0, torchUploads()! - uploaded);
      times.push(performance.now() - started);
      const cpu = process.cpuUsage(cpuStarted);
      cpuTimes.push((cpu.user + cpu.system) / 1000);
    }
  }
  model.dispose();
  optimizer.dispose();
  return { parameters: model.parameterCount, ms: median(times), cpuMs: median(cpuTimes), uploadBytes };
}

/** bench/pytorch_bench.py for one model: PyTorch eager, float32, the given threads and device. */
function benchPytorch(python: string, modelName: string, steps: number, warmup: number, threads: number, device: string) {
  const m = BENCH_MODELS[modelName];
  const args = [
    'bench/pytorch_bench.py',
    '--layers',
    m.layers,
    '--heads',
    m.heads,
    '--d-model',
    m.dModel,
    '--d-ff',
    m.dFf,
    '--vocab',
    BENCH_VOCAB,
    '--batch',
    BATCH,
    '--seq',
    SEQ,
    '--steps',
    steps,
    '--warmup',
    warmup,
    '--threads',
    threads,
    '--device',
    device,
  ].map(String);
  // This process's environment, OMP_WAIT_POLICY included (the torch backend sets PASSIVE when it loads).
  const env = { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
  const run = spawnSync(python, args, { env, encoding: 'utf8' });
  if (run.status !== 0)
    throw new Error(
      `${python} bench/pytorch_bench.py failed: ${(run.stderr || String(run.error)).trim().split('\n').slice(-3).join(' | ')}`,
    );
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as {
    torch: string;
    device: string;
    threads: number;
    parameters: number;
    median_ms_per_step: number;
    median_cpu_ms_per_step: number;
  };
}

const backends = argument('backends', 'torch,wasm,cpu,tensorflow,webgpu').split(',') as BackendName[];
const models = argument('models', 'small,large').split(',');
const steps = Number(argument('steps', '5'));
const warmup = Number(argument('warmup', '2'));
const rounds = Number(argument('rounds', '1'));
const threads = Number(argument('threads', String(os.cpus().length)));
const device = argument('device', 'cpu');
const vsPytorch = process.argv.includes('--vs-pytorch');
/** The Python that imports torch: --python, else the first of python3 on PATH (a GPU box's PyTorch) and Debian's. */
function findPython(): string {
  const given = argument('python', '');
  if (given) return given;
  const candidates = ['python3', '/usr/bin/python3'];
  return candidates.find((candidate) => spawnSync(candidate, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) ?? candidates[0];
}
const python = vsPytorch ? findPython() : '';
const fusionSettings = argument('fusions', '').split(',').filter(Boolean);
for (const setting of fusionSettings) parseFusions(setting); // fail before timing anything
const defaultFusions = enabledFusions();
const label = (fusions: Fusion[], available: Fusion[]) => {
  const used = fusions.filter((f) => available.includes(f));
  const missing = available.filter((f) => !fusions.includes(f));
  if (available.length === 0) return 'composed';
  if (used.length === 0) return 'none';
  if (missing.length === 0) return 'all';
  return missing.length === 1 && used.length > 1 ? `no-${missing[0]}` : used.join('+');
};

const timings = new Map<string, Timing>();
const pytorchTimings = new Map<string, { ms: number[]; cpuMs: number[]; info: object }>();
const skipped: { backend: string; skipped: string }[] = [];
const loadAtStart = os.loadavg();
for (let round = 0; round < rounds; round++) {
  for (const backend of backends) {
    if (skipped.some((s) => s.backend === backend)) continue;
    try {
      await selectBackend(backend, () => {}, device as DeviceName);
      // The same intra-op (ATen, OpenBLAS) thread count PyTorch gets.
      if (backend === 'torch') torchBackend()!.native.setNumThreads(threads);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      console.log(`${backend}: skipped (${error.message})`);
      skipped.push({ backend, skipped: error.message });
      continue;
    }
    const available = availableFusions();
    const settings = available.length > 0 && fusionSettings.length > 0 ? fusionSettings : [null];
    for (const modelName of models) {
      // The plain-JS cpu backend takes minutes per step on the large model; time it on the small one only.
      if (backend === 'cpu' && modelName === 'large' && !process.argv.includes('--cpu-large')) {
        if (round === 0) console.log('cpu/large: skipped (minutes per step; pass --cpu-large to time it)');
        continue;
      }
      for (const setting of settings) {
        setFusions(setting === null ? defaultFusions : parseFusions(setting));
        const fusions = label(enabledFusions(), available);
        const result = await benchOne(modelName, backend === 'cpu' ? Math.min(steps, 2) : steps, warmup);
        const key = `${backend}/${modelName}/${fusions}`;
        const timing = timings.get(key) ?? {
          backend,
          model: modelName,
          fusions,
          parameters: result.parameters,
          ms: [],
          cpuMs: [],
          uploadBytes: [],
        };
        timing.ms.push(result.ms);
        timing.cpuMs.push(result.cpuMs);
        if (result.uploadBytes !== null) timing.uploadBytes.push(result.uploadBytes);
        timings.set(key, timing);
        console.log(
          `round ${round + 1}: ${backend.padEnd(10)} ${modelName.padEnd(6)} ${fusions.padEnd(16)} ${result.ms.toFixed(1).padStart(8)} ms/step ${result.cpuMs.toFixed(1).padStart(8)} CPU ms/step${result.uploadBytes === null ? '' : ` ${String(result.uploadBytes).padStart(8)} B uploaded/step`}`,
        );
      }
    }
    setFusions(defaultFusions);
    tf.disposeVariables();
  }
  if (vsPytorch) {
    for (const modelName of models) {
      const result = benchPytorch(python, modelName, steps, warmup, threads, device);
      const entry = pytorchTimings.get(modelName) ?? {
        ms: [],
        cpuMs: [],
        info: { torch: result.torch, device: result.device, threads: result.threads, parameters: result.parameters },
      };
      entry.ms.push(result.median_ms_per_step);
      entry.cpuMs.push(result.median_cpu_ms_per_step);
      pytorchTimings.set(modelName, entry);
      console.log(
        `round ${round + 1}: ${'pytorch'.padEnd(10)} ${modelName.padEnd(6)} ${'eager'.padEnd(16)} ${result.median_ms_per_step.toFixed(1).padStart(8)} ms/step ${result.median_cpu_ms_per_step.toFixed(1).padStart(8)} CPU ms/step`,
      );
    }
  }
}

const results: object[] = [...skipped];
console.log(
  `\n${rounds > 1 ? `median of ${rounds} rounds, ` : ''}${steps} timed steps after ${warmup} warm-up, batch ${BATCH}, seq ${SEQ}, ${threads} threads, device ${device}, load ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}`,
);
// CPU ms/step is the process's CPU time (all its threads): on a machine shared with other work it measures this
// engine's work, where wall time also counts the waits for a core. Ratios are PyTorch's time over ours.
console.log(
  `${'backend'.padEnd(10)} ${'model'.padEnd(6)} ${'fusions'.padEnd(16)} ${'params'.padStart(10)} ${'ms/step'.padStart(9)} ${'tok/s'.padStart(8)} ${'CPU ms'.padStart(9)}${vsPytorch ? '  vs PyTorch (wall, CPU)' : ''}`,
);
const row = (backend: string, model: string, fusions: string, parameters: number, ms: number, cpuMs: number, ratios: string) =>
  console.log(
    `${backend.padEnd(10)} ${model.padEnd(6)} ${fusions.padEnd(16)} ${String(parameters).padStart(10)} ${ms.toFixed(1).padStart(9)} ${String(tokensPerSecond(ms)).padStart(8)} ${cpuMs.toFixed(1).padStart(9)}${ratios}`,
  );
for (const timing of timings.values()) {
  const ms = medianOfRounds(timing.ms);
  const cpuMs = medianOfRounds(timing.cpuMs);
  const pytorch = pytorchTimings.get(timing.model);
  const ratio = pytorch ? medianOfRounds(pytorch.ms) / ms : undefined;
  const cpuRatio = pytorch ? medianOfRounds(pytorch.cpuMs) / cpuMs : undefined;
  row(
    timing.backend,
    timing.model,
    timing.fusions,
    timing.parameters,
    ms,
    cpuMs,
    ratio && cpuRatio ? `  ${ratio.toFixed(2)}x, ${cpuRatio.toFixed(2)}x` : '',
  );
  results.push({
    backend: timing.backend,
    model: timing.model,
    fusions: timing.fusions,
    parameters: timing.parameters,
    batch: BATCH,
    seq: SEQ,
    steps,
    median_ms_per_step: Number(ms.toFixed(1)),
    tokens_per_s: tokensPerSecond(ms),
    median_cpu_ms_per_step: Number(cpuMs.toFixed(1)),
    rounds_ms_per_step: timing.ms.map((x) => Number(x.toFixed(1))),
    // The batch's token ids and targets are 2 * batch * seq * 4 bytes; its masks are all ones here (native fills).
    ...(timing.uploadBytes.length ? { upload_bytes_per_step: Math.max(...timing.uploadBytes), batch_bytes: 2 * BATCH * SEQ * 4 } : {}),
    ...(ratio && cpuRatio ? { vs_pytorch: Number(ratio.toFixed(3)), vs_pytorch_cpu_time: Number(cpuRatio.toFixed(3)) } : {}),
  });
}
const pytorch: object[] = [];
for (const [modelName, entry] of pytorchTimings) {
  const ms = medianOfRounds(entry.ms);
  const cpuMs = medianOfRounds(entry.cpuMs);
  row('pytorch', modelName, 'eager', (entry.info as { parameters: number }).parameters, ms, cpuMs, '  1.00x');
  pytorch.push({
    model: modelName,
    ...entry.info,
    median_ms_per_step: ms,
    tokens_per_s: tokensPerSecond(ms),
    median_cpu_ms_per_step: cpuMs,
    rounds_ms_per_step: entry.ms,
  });
}
const out = argument('out', 'bench/results');
fs.mkdirSync(out, { recursive: true });
const file = path.join(out, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
const meta = {
  date: new Date().toISOString(),
  cpus: os.cpus().length,
  cpu: os.cpus()[0]?.model,
  node: process.version,
  threads,
  device,
  omp_wait_policy: process.env.OMP_WAIT_POLICY ?? null,
  python: python || null,
  load_at_start: loadAtStart,
  load_at_end: os.loadavg(),
  steps,
  warmup,
  rounds,
};
fs.writeFileSync(file, JSON.stringify({ ...meta, results, ...(vsPytorch ? { pytorch } : {}) }, null, 2) + '\n');
console.log(`wrote ${file}`);
