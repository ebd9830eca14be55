/**
 * Training throughput of the lab's GPT on every backend available here.
 *   npm run bench -- [--backends torch,wasm,cpu] [--models small,large,config:addition-nope,configs] [--steps 5]
 *                    [--warmup 2] [--rounds 1] [--round-seconds S] [--threads N] [--device cpu|cuda]
 *                    [--fusions all,none,layernorm,...] [--lockstep]
 *                    [--vs-pytorch] [--python PYTHON] [--out bench/results]
 * Prints a table and writes JSON. A round's time is the median of its timed steps after warm-up; tokens/s =
 * tokens of a timed batch / step time. On torch it also reports the most bytes a timed step copied from
 * JavaScript buffers into native tensors (host uploads; the batch's token ids and targets should be all).
 *
 * Models (bench/models.ts): `small` and `large` train on one synthetic batch of 64 x 32 random tokens;
 * `config:<name>` trains configs/<name>.yaml's model on the batches its training run draws (its batch size,
 * sequence lengths, position ids, optimizer settings), `configs` every shipped addition and multiplication config.
 *
 * --vs-pytorch also trains the same model on the same batches in PyTorch (bench/pytorch_bench.py: same shapes,
 * float32, eager, the same thread count and device) in this invocation and prints PyTorch's time over ours per
 * round and their median; models it cannot build are skipped with the reason. --fusions times each listed fusion
 * setting (src/models/fused.ts: all, none, a name, `a+b`, `no-a` for all but a) on backends that have fused
 * kernels, to measure what each buys. --rounds repeats everything, which interleaves the engines in time on a
 * machine whose load changes, and reports every round, their median, min, max and largest deviation; within a
 * round each model's engines run back to back, PyTorch after ours in odd rounds and before in even ones.
 * --round-seconds S times each model for at least S seconds a round instead of --steps steps: the count comes from
 * the model's last warm-up step the first time it runs, and every engine and round then times that many (the
 * cores of a shared virtual machine change speed for a second or two at a time, bench/steadiness.ts, so a round
 * of a few 25 ms steps measures the moment it ran in).
 * --lockstep (one backend) trains the --fusions settings side by side, one model each, taking their steps in
 * turn on the same batch, and with --vs-pytorch PyTorch too, one step at a time (bench/lockstep.ts) right before
 * ours (right after them in odd rounds); a round's ratio to PyTorch is then the median over its step pairs,
 * which ran through the same seconds of the machine, where without it it is of two rounds' medians seconds apart.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendName, type DeviceName } from '../src/backends/select.ts';
import { torchBackend, uploadedBytes } from '../src/backends/torch/index.ts';
import type { TokenBatch } from '../src/data/batches.ts';
import { UserError } from '../src/errors.ts';
import { createOptimizer } from '../src/experiments/optimizer.ts';
import { trainStep } from '../src/experiments/train.ts';
import { availableFusions, enabledFusions, parseFusions, setFusions, type Fusion } from '../src/models/fused.ts';
import { Gpt } from '../src/models/gpt.ts';
import { resolveBenchModels, type BenchModel } from './models.ts';
import { type PartnerStep, PytorchPartner } from './lockstep.ts';
import { batchesJson, pytorchArguments, pytorchSkipReason } from './pytorchModel.ts';
import { formatSpread, medianOf, pairedRatios, roundSpread, spreadJson, stepsForRound } from './spread.ts';

function argument(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

/** The upper median, as pytorch_bench.py takes it. */
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Timing {
  backend: string;
  model: string;
  fusions: string;
  parameters: number;
  /** Per round: the median ms/step, the median CPU ms/step, every timed step's ms. */
  ms: number[];
  cpuMs: number[];
  stepsMs: number[][];
  /** torch: the most bytes one timed step copied from JavaScript buffers into native tensors, per round. */
  uploadBytes: number[];
}

/** Host bytes uploaded so far on torch; null on other backends, which do not count them. */
const torchUploads = () => (tf.getBackend() === 'torch' ? uploadedBytes() : null);

/** Each model's batches, drawn once (they do not depend on the backend) and trained on in every round. */
const drawnBatches = new Map<string, TokenBatch[]>();
/** Each model's timed steps a round: --steps, or with --round-seconds what its first warm-up measured. */
const timedStepsOf = new Map<string, number>();

/**
 * Trains `bench` for the warm-up and its timed steps (at most `cap`, for the slow cpu backend), once per fusion
 * setting in `arms`, one model each; with several (--lockstep) they take their steps in turn, the order reversed
 * every other step. With a `partner` (--lockstep --vs-pytorch), PyTorch trains a step on the same batch before
 * ours (after them, when `partnerFirst` is false).
 */
async function benchOne(bench: BenchModel, cap: number, arms: Set<Fusion>[], partner?: PytorchPartner, partnerFirst = false) {
  const runs = arms.map((fusions) => {
    const model = new Gpt(bench.config, bench.seed);
    const optimizer = createOptimizer(model.params, bench.optimizer);
    return { fusions, model, optimizer, times: [] as number[], cpuTimes: [] as number[], uploadBytes: null as number | null };
  });
  // As many as the longest run needs (the cpu backend times fewer steps), so every engine trains on the same ones.
  if (!drawnBatches.has(bench.name)) drawnBatches.set(bench.name, bench.drawBatches(runs[0].model, warmup + steps));
  let batches = drawnBatches.get(bench.name)!;
  const partnerSteps: PartnerStep[] = [];
  let timedSteps = Math.min(cap, timedStepsOf.get(bench.name) ?? steps);
  for (let step = 0; step < warmup + timedSteps; step++) {
    const partnerStep = partner && partnerFirst ? await partner.step(batches[step]) : null;
    for (const run of step % 2 === 0 ? runs : [...runs].reverse()) {
      setFusions(run.fusions);
      const started = performance.now();
      const cpuStarted = process.cpuUsage();
      const uploaded = torchUploads();
      await trainStep(run.model, run.optimizer, batches[step], bench.lr, bench.gradClip, bench.dropoutSeed(step + 1), bench.aux);
      if (run === runs[0] && step === warmup - 1 && cap === Number.POSITIVE_INFINITY && !timedStepsOf.has(bench.name)) {
        // The first engine to train this model sets the count for all: its last warm-up step's time (not the cpu
        // backend's, which times at most 2 steps and would set the count of every engine after it).
        timedStepsOf.set(bench.name, stepsForRound(performance.now() - started, roundSeconds, steps));
        timedSteps = Math.min(cap, timedStepsOf.get(bench.name)!);
        // The training stream draws the same batches again and then more.
        if (batches.length < warmup + timedSteps) drawnBatches.set(bench.name, bench.drawBatches(run.model, warmup + timedSteps));
        batches = drawnBatches.get(bench.name)!;
      }
      if (step >= warmup) {
        if (uploaded !== null) run.uploadBytes = Math.max(run.uploadBytes ?? 0, torchUploads()! - uploaded);
        run.times.push(performance.now() - started);
        const cpu = process.cpuUsage(cpuStarted);
        run.cpuTimes.push((cpu.user + cpu.system) / 1000);
      }
    }
    const theirs = partnerStep ?? (partner ? await partner.step(batches[step]) : null);
    if (theirs && step >= warmup) partnerSteps.push(theirs);
  }
  for (const run of runs) {
    run.model.dispose();
    run.optimizer.dispose();
  }
  return {
    parameters: runs[0].model.parameterCount,
    arms: runs.map((run) => ({
      fusions: run.fusions,
      ms: median(run.times),
      cpuMs: median(run.cpuTimes),
      stepsMs: run.times,
      stepsCpuMs: run.cpuTimes,
      uploadBytes: run.uploadBytes,
    })),
    partnerSteps,
  };
}

/** The timed batches' shape: batch size, sequence lengths, mean tokens per step, upload size of ids and targets. */
function batchShape(batches: TokenBatch[], warmup: number) {
  const timed = batches.slice(warmup);
  const seqLens = [...new Set(timed.map((b) => b.seqLen))].sort((a, b) => a - b);
  const tokens = timed.reduce((sum, b) => sum + b.batch * b.seqLen, 0) / timed.length;
  return {
    batch: timed[0].batch,
    seq: seqLens.length === 1 ? seqLens[0] : seqLens,
    tokens,
    idBytes: 2 * 4 * Math.max(...timed.map((b) => b.batch * b.seqLen)),
  };
}

/** This process's environment, OMP_WAIT_POLICY included (the torch backend sets PASSIVE when it loads), and the threads. */
const pytorchEnv = (threads: number) => ({ ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) });

/** bench/pytorch_bench.py for one model: PyTorch eager, float32, the given threads and device, the batches in a file. */
function benchPytorch(
  python: string,
  bench: BenchModel,
  batchesFile: string,
  steps: number,
  warmup: number,
  threads: number,
  device: string,
) {
  const args = [
    'bench/pytorch_bench.py',
    ...pytorchArguments(bench, batchesFile),
    ...['--steps', steps, '--warmup', warmup, '--threads', threads, '--device', device].map(String),
  ];
  const run = spawnSync(python, args, { env: pytorchEnv(threads), encoding: 'utf8' });
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
    ms_per_step: number[];
  };
}

function fail(error: unknown): never {
  if (!(error instanceof UserError)) throw error;
  console.error(`bench: error: ${error.message}`);
  process.exit(2);
}

const backends = argument('backends', 'torch,wasm,cpu,tensorflow,webgpu').split(',') as BackendName[];
const steps = Number(argument('steps', '5'));
const warmup = Number(argument('warmup', '2'));
const rounds = Number(argument('rounds', '1'));
const roundSeconds = Number(argument('round-seconds', '0'));
if (!(roundSeconds >= 0)) fail(new UserError(`--round-seconds must be a number of seconds, got ${argument('round-seconds', '')}`));
if (roundSeconds > 0 && warmup < 1) fail(new UserError('--round-seconds needs --warmup 1 or more: the last warm-up step sets the count'));
const threads = Number(argument('threads', String(os.cpus().length)));
const device = argument('device', 'cpu');
const vsPytorch = process.argv.includes('--vs-pytorch');
const lockstep = process.argv.includes('--lockstep');
let models: BenchModel[] = [];
try {
  models = resolveBenchModels(argument('models', 'small,large'));
} catch (error) {
  fail(error);
}
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
if (lockstep && backends.length !== 1) {
  fail(
    new UserError(
      `--lockstep alternates the steps of one engine's settings and PyTorch's: give one backend (--backends torch), not ${backends.join(',')}`,
    ),
  );
}
const defaultFusions = enabledFusions();
const label = (fusions: Fusion[], available: Fusion[]) => {
  const used = fusions.filter((f) => available.includes(f));
  const missing = available.filter((f) => !fusions.includes(f));
  if (available.length === 0) return 'composed';
  if (used.length === 0) return 'none';
  if (missing.length === 0) return 'all';
  return missing.length === 1 && used.length > 1 ? `no-${missing[0]}` : used.join('+');
};
const nameWidth = Math.max(6, ...models.map((m) => m.name.length));

const timings = new Map<string, Timing>();
const pytorchTimings = new Map<string, { ms: number[]; cpuMs: number[]; stepsMs: number[][]; info: object }>();
/** --lockstep --vs-pytorch: per engine and setting, each round's median over its step pairs of PyTorch's time over ours. */
const stepPairRatios = new Map<string, { wall: number[]; cpu: number[] }>();
const skipped: { backend: string; model?: string; skipped: string }[] = [];
/** Each model's batches as pytorch_bench.py reads them, written once; the folder is removed at the end. */
const batchesFolder = vsPytorch ? fs.mkdtempSync(path.join(os.tmpdir(), 'arith-bench-')) : '';
const loadAtStart = os.loadavg();
/** Our engines on one model for one round: every backend that starts, every fusion setting. */
async function benchOurs(bench: BenchModel, round: number) {
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
    // The plain-JS cpu backend takes minutes per step on the large model; time it on the small one only.
    if (backend === 'cpu' && bench.name === 'large' && !process.argv.includes('--cpu-large')) {
      if (round === 0) console.log('cpu/large: skipped (minutes per step; pass --cpu-large to time it)');
      continue;
    }
    const available = availableFusions();
    const settings = (available.length > 0 && fusionSettings.length > 0 ? fusionSettings : [null]).map((setting) =>
      setting === null ? new Set(defaultFusions) : parseFusions(setting),
    );
    const cap = backend === 'cpu' ? Math.min(steps, 2) : Number.POSITIVE_INFINITY;
    // --lockstep: every setting (and PyTorch) in one run, step by step; otherwise one run per setting.
    for (const arms of lockstep ? [settings] : settings.map((setting) => [setting])) {
      const partner = lockstep && vsPytorch ? await startPartner(bench, round) : undefined;
      let result: Awaited<ReturnType<typeof benchOne>>;
      try {
        result = await benchOne(bench, cap, arms, partner, round % 2 === 1);
      } finally {
        await partner?.close();
      }
      if (partner) recordPartner(bench, round, partner, result.partnerSteps);
      for (const arm of result.arms) {
        const fusions = label([...arm.fusions], available);
        const key = `${backend}/${bench.name}/${fusions}`;
        const timing = timings.get(key) ?? {
          backend,
          model: bench.name,
          fusions,
          parameters: result.parameters,
          ms: [],
          cpuMs: [],
          stepsMs: [],
          uploadBytes: [],
        };
        timing.ms.push(arm.ms);
        timing.cpuMs.push(arm.cpuMs);
        timing.stepsMs.push(arm.stepsMs);
        if (arm.uploadBytes !== null) timing.uploadBytes.push(arm.uploadBytes);
        timings.set(key, timing);
        let pairs = '';
        if (partner) {
          const theirs = result.partnerSteps;
          const ratios = stepPairRatios.get(key) ?? { wall: [], cpu: [] };
          ratios.wall.push(medianOf(theirs.map((s, i) => s.ms / arm.stepsMs[i])));
          ratios.cpu.push(medianOf(theirs.map((s, i) => s.cpuMs / arm.stepsCpuMs[i])));
          stepPairRatios.set(key, ratios);
          pairs = `   PyTorch's CPU time over ours, median of the step pairs: ${ratios.cpu.at(-1)!.toFixed(3)}x`;
        }
        console.log(
          `round ${round + 1}: ${backend.padEnd(10)} ${bench.name.padEnd(nameWidth)} ${fusions.padEnd(16)} ${arm.ms.toFixed(1).padStart(8)} ms/step ${arm.cpuMs.toFixed(1).padStart(8)} CPU ms/step${arm.uploadBytes === null ? '' : ` ${String(arm.uploadBytes).padStart(8)} B uploaded/step`}${pairs}`,
        );
      }
    }
    setFusions(defaultFusions);
    tf.disposeVariables();
  }
}

/** --lockstep: PyTorch's model for `bench`, waiting for batches; undefined (said once) where it cannot build it. */
async function startPartner(bench: BenchModel, round: number): Promise<PytorchPartner | undefined> {
  const reason = pytorchSkipReason(bench, drawnBatches.get(bench.name) ?? []);
  if (reason) {
    if (round === 0) {
      console.log(`pytorch/${bench.name}: skipped (${reason})`);
      skipped.push({ backend: 'pytorch', model: bench.name, skipped: reason });
    }
    return undefined;
  }
  const args = [...pytorchArguments(bench, null), ...['--threads', threads, '--device', device].map(String)];
  return PytorchPartner.start(python, args, pytorchEnv(threads));
}

/** --lockstep: PyTorch's steps of a round, as a PyTorch round. */
function recordPartner(bench: BenchModel, round: number, partner: PytorchPartner, theirs: PartnerStep[]) {
  const entry = pytorchTimings.get(bench.name) ?? { ms: [], cpuMs: [], stepsMs: [], info: partner.facts };
  entry.ms.push(median(theirs.map((s) => s.ms)));
  entry.cpuMs.push(median(theirs.map((s) => s.cpuMs)));
  entry.stepsMs.push(theirs.map((s) => Number(s.ms.toFixed(2))));
  pytorchTimings.set(bench.name, entry);
  console.log(
    `round ${round + 1}: ${'pytorch'.padEnd(10)} ${bench.name.padEnd(nameWidth)} ${'eager'.padEnd(16)} ${entry.ms.at(-1)!.toFixed(1).padStart(8)} ms/step ${entry.cpuMs.at(-1)!.toFixed(1).padStart(8)} CPU ms/step`,
  );
}

/** PyTorch on one model for one round, on the batches our engines drew for it. */
function benchTheirs(bench: BenchModel, round: number) {
  const batches = drawnBatches.get(bench.name);
  // No engine of ours trained it (every backend skipped): there are no batches to give PyTorch.
  if (!batches) return;
  const reason = pytorchSkipReason(bench, batches);
  if (reason) {
    if (round === 0) {
      console.log(`pytorch/${bench.name}: skipped (${reason})`);
      skipped.push({ backend: 'pytorch', model: bench.name, skipped: reason });
    }
    return;
  }
  const batchesFile = path.join(batchesFolder, `${bench.name.replace(/[^A-Za-z0-9._-]+/g, '_')}.json`);
  if (!fs.existsSync(batchesFile)) fs.writeFileSync(batchesFile, batchesJson(batches));
  const result = benchPytorch(python, bench, batchesFile, timedStepsOf.get(bench.name) ?? steps, warmup, threads, device);
  const entry = pytorchTimings.get(bench.name) ?? {
    ms: [],
    cpuMs: [],
    stepsMs: [],
    info: { torch: result.torch, device: result.device, threads: result.threads, parameters: result.parameters },
  };
  entry.ms.push(result.median_ms_per_step);
  entry.cpuMs.push(result.median_cpu_ms_per_step);
  entry.stepsMs.push(result.ms_per_step);
  pytorchTimings.set(bench.name, entry);
  console.log(
    `round ${round + 1}: ${'pytorch'.padEnd(10)} ${bench.name.padEnd(nameWidth)} ${'eager'.padEnd(16)} ${result.median_ms_per_step.toFixed(1).padStart(8)} ms/step ${result.median_cpu_ms_per_step.toFixed(1).padStart(8)} CPU ms/step`,
  );
}

try {
  for (let round = 0; round < rounds; round++) {
    for (const bench of models) {
      // A model's engines run back to back, PyTorch right after ours (before ours in even rounds, once ours
      // have drawn its batches), so a pair's ratio compares seconds-apart runs: a machine whose cores slow
      // down for a minute at a time moved whole rounds when every model of ours ran before every PyTorch one.
      // --lockstep alternates the engines step by step inside benchOurs instead.
      if (vsPytorch && !lockstep && round % 2 === 1) benchTheirs(bench, round);
      await benchOurs(bench, round);
      if (vsPytorch && !lockstep && round % 2 === 0) benchTheirs(bench, round);
    }
  }
} finally {
  if (batchesFolder) fs.rmSync(batchesFolder, { recursive: true, force: true });
}

const modelsByName = new Map(models.map((m) => [m.name, m]));
const shapeOf = (name: string) => batchShape(drawnBatches.get(name)!, warmup);
const tokensPerSecond = (name: string, ms: number) => Math.round(shapeOf(name).tokens / (ms / 1000));
const results: object[] = [...skipped];
console.log(
  `\n${rounds > 1 ? `${rounds} rounds: median (min-max, largest deviation from the median), ` : ''}${roundSeconds > 0 ? `rounds of at least ${roundSeconds} s (timed steps per model below)` : `${steps} timed steps`} after ${warmup} warm-up, ${threads} threads, device ${device}, load ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}`,
);
for (const bench of models)
  if (drawnBatches.has(bench.name)) {
    const shape = shapeOf(bench.name);
    console.log(
      `${bench.name}: ${bench.batchSource}; timed batches ${shape.batch} x ${Array.isArray(shape.seq) ? shape.seq.join('/') : shape.seq}${roundSeconds > 0 ? `; ${timedStepsOf.get(bench.name)} timed steps a round` : ''}`,
    );
  }
// CPU ms/step is the process's CPU time (all its threads): on a machine shared with other work it measures this
// engine's work, where wall time also counts the waits for a core. Ratios are PyTorch's time over ours, taken
// round by round (each pair ran side by side) and then their median.
const spreadWidth = rounds > 1 ? 30 : 9;
console.log(
  `${'backend'.padEnd(10)} ${'model'.padEnd(nameWidth)} ${'fusions'.padEnd(16)} ${'params'.padStart(10)} ${'ms/step'.padStart(spreadWidth)} ${'tok/s'.padStart(8)} ${'CPU ms'.padStart(spreadWidth)}${vsPytorch ? '  vs PyTorch: wall, CPU' : ''}`,
);
const row = (
  backend: string,
  model: string,
  fusions: string,
  parameters: number,
  ms: string,
  tokens: number,
  cpuMs: string,
  ratios: string,
) =>
  console.log(
    `${backend.padEnd(10)} ${model.padEnd(nameWidth)} ${fusions.padEnd(16)} ${String(parameters).padStart(10)} ${ms.padStart(spreadWidth)} ${String(tokens).padStart(8)} ${cpuMs.padStart(spreadWidth)}${ratios}`,
  );
for (const timing of timings.values()) {
  const ms = roundSpread(timing.ms);
  const cpuMs = roundSpread(timing.cpuMs);
  const pytorch = pytorchTimings.get(timing.model);
  const pairs = stepPairRatios.get(`${timing.backend}/${timing.model}/${timing.fusions}`);
  const ratio = pytorch && (pairs ? roundSpread(pairs.wall) : pairedRatios(timing.ms, pytorch.ms));
  const cpuRatio = pytorch && (pairs ? roundSpread(pairs.cpu) : pairedRatios(timing.cpuMs, pytorch.cpuMs));
  const shape = shapeOf(timing.model);
  row(
    timing.backend,
    timing.model,
    timing.fusions,
    timing.parameters,
    formatSpread(ms, 1),
    tokensPerSecond(timing.model, ms.median),
    formatSpread(cpuMs, 1),
    ratio && cpuRatio ? `  ${formatSpread(ratio, 2, 'x')}, ${formatSpread(cpuRatio, 2, 'x')}` : '',
  );
  results.push({
    backend: timing.backend,
    model: timing.model,
    batches: modelsByName.get(timing.model)!.batchSource,
    fusions: timing.fusions,
    parameters: timing.parameters,
    batch: shape.batch,
    seq: shape.seq,
    steps: timedStepsOf.get(timing.model) ?? steps,
    median_ms_per_step: Number(ms.median.toFixed(1)),
    tokens_per_s: tokensPerSecond(timing.model, ms.median),
    median_cpu_ms_per_step: Number(cpuMs.median.toFixed(1)),
    rounds_ms_per_step: timing.ms.map((x) => Number(x.toFixed(1))),
    ms_per_step: spreadJson(ms, 1),
    cpu_ms_per_step: spreadJson(cpuMs, 1),
    // Every timed step of every round, to tell a slow round from a slow step within one.
    steps_ms: timing.stepsMs.map((round) => round.map((x) => Number(x.toFixed(1)))),
    // The batch's token ids and targets are 2 * batch * seq * 4 bytes; masks of all ones are filled natively.
    ...(timing.uploadBytes.length ? { upload_bytes_per_step: Math.max(...timing.uploadBytes), batch_bytes: shape.idBytes } : {}),
    ...(ratio && cpuRatio
      ? {
          vs_pytorch: Number(ratio.median.toFixed(3)),
          vs_pytorch_cpu_time: Number(cpuRatio.median.toFixed(3)),
          vs_pytorch_rounds: spreadJson(ratio, 3),
          vs_pytorch_cpu_time_rounds: spreadJson(cpuRatio, 3),
        }
      : {}),
  });
}
const pytorch: object[] = [];
for (const [modelName, entry] of pytorchTimings) {
  const ms = roundSpread(entry.ms);
  const cpuMs = roundSpread(entry.cpuMs);
  row(
    'pytorch',
    modelName,
    'eager',
    (entry.info as { parameters: number }).parameters,
    formatSpread(ms, 1),
    tokensPerSecond(modelName, ms.median),
    formatSpread(cpuMs, 1),
    '  1.00x',
  );
  pytorch.push({
    model: modelName,
    ...entry.info,
    median_ms_per_step: ms.median,
    tokens_per_s: tokensPerSecond(modelName, ms.median),
    median_cpu_ms_per_step: cpuMs.median,
    rounds_ms_per_step: entry.ms,
    ms_per_step: spreadJson(ms, 2),
    cpu_ms_per_step: spreadJson(cpuMs, 2),
    steps_ms: entry.stepsMs,
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
  round_seconds: roundSeconds,
  // Ratios to PyTorch per round: the median over step pairs (--lockstep), else of the rounds' medians.
  lockstep,
  warmup,
  rounds,
};
fs.writeFileSync(file, JSON.stringify({ ...meta, results, ...(vsPytorch ? { pytorch } : {}) }, null, 2) + '\n');
console.log(`wrote ${file}`);
