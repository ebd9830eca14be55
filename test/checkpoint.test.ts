import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/backends/select.ts';
import { loadConfig } from '../src/config/load.ts';
import { buildTestSets } from '../src/data/dataset.ts';
import { loadRun, readCheckpoint } from '../src/experiments/checkpoint.ts';
import { accuracyByLength } from '../src/experiments/evaluate.ts';
import { train, type TrainResult } from '../src/experiments/train.ts';
import { listCheckpoints } from '../src/runs/checkpointFiles.ts';
import { readMetrics } from '../src/runs/metricsLog.ts';
import { MODEL_FILE } from '../src/runs/paths.ts';
import type { MetricsRecord } from '../src/runs/records.ts';
import { readRunInfo } from '../src/runs/runDirectory.ts';
import { testBackend } from './fixtures/backend.ts';

// A model small enough that 200 steps take ~2 s on wasm, slow enough that a kill lands mid-run.
const TINY_CONFIG = `
seed: 3
backend: wasm
task: { op: add, train_digits: [1, 2], test_digits: [1, 3], test_size: 20 }
format: { name: reversed }
model: { layers: 1, heads: 2, d_model: 16, max_len: 16, pos: rope }
train:
  steps: 200
  batch: 16
  lr: 0.003
  warmup: 10
  eval_every: 40
  eval_size: 10
  log_every: 1
  checkpoint_every: 25
  keep_checkpoints: 3
`;

const CLI = path.resolve('bin/arith-lab.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-checkpoint-'));
const configFile = path.join(dir, 'tiny.yaml');
fs.writeFileSync(configFile, TINY_CONFIG);

/** The fields a resumed run must reproduce exactly; tokens_per_s and elapsed_s are wall-clock. */
function exactFields(records: MetricsRecord[]) {
  return records.map(({ tokens_per_s: _speed, elapsed_s: _elapsed, ...rest }) => rest);
}

function metricsOf(runDir: string) {
  return readMetrics(path.join(runDir, 'metrics.jsonl'));
}

/** The newest step in metrics.jsonl, ignoring a line being written right now. */
function lastLoggedStep(runDir: string): number {
  try {
    const lines = fs
      .readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.endsWith('}'));
    return lines.length ? (JSON.parse(lines[lines.length - 1]) as MetricsRecord).step : 0;
  } catch {
    return 0;
  }
}

function startCli(args: string[]): { child: ChildProcess; exit: Promise<{ code: number | null; signal: string | null; stderr: string }> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exit = new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, exit };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A Node stack trace line; no user-facing failure may print one. */
const STACK_LINE = /^\s+at .+\(.*:\d+:\d+\)$/m;

let reference: TrainResult;
const referenceDir = path.join(dir, 'reference');
const tensorCounts: number[] = [];

beforeAll(async () => {
  await selectBackend(testBackend('wasm'));
  fs.mkdirSync(referenceDir);
  reference = await train(loadConfig(configFile), referenceDir, { onStep: () => tensorCounts.push(tf.memory().numTensors) });
}, 120_000);

afterAll(() => reference?.model.dispose());

describe('checkpoints of an uninterrupted run', () => {
  it('keeps the newest keep_checkpoints, each complete, and tensor count stays flat across writes', () => {
    expect(listCheckpoints(referenceDir).map((c) => c.step)).toEqual([200, 175, 150]);
    for (const { dir: checkpointDir } of listCheckpoints(referenceDir)) expect(() => readCheckpoint(checkpointDir)).not.toThrow();
    expect(fs.readdirSync(path.join(referenceDir, 'checkpoints')).filter((name) => name.startsWith('.'))).toEqual([]);
    // Steps 25, 50, ... wrote checkpoints and 40, 80, ... evaluated; neither may leave tensors behind.
    expect(new Set(tensorCounts.slice(1)).size).toBe(1);
    const info = readRunInfo(referenceDir);
    expect(info).toMatchObject({
      status: 'finished',
      backend: 'wasm',
      step: 200,
      checkpoint: { step: 200, dir: 'checkpoints/step-000200' },
    });
    expect(info.versions.tfjs).toBeTruthy();
    expect(info.train_seconds).toBeGreaterThan(0);
  });

  it('loadRun rebuilds the trained model: same weights, same held-out accuracy; an older step on request', async () => {
    const loaded = await loadRun(referenceDir);
    try {
      expect(loaded.step).toBe(200);
      expect(loaded.backend).toBe('wasm');
      expect(loaded.config).toEqual(loadConfig(configFile));
      for (const [name, variable] of Object.entries(reference.model.params)) {
        expect(Array.from(loaded.model.params[name].dataSync()), name).toEqual(Array.from(variable.dataSync()));
      }
      const testSets = buildTestSets(loaded.experiment.task, loaded.config.seed);
      expect(await accuracyByLength(loaded.model, loaded.experiment, testSets)).toEqual(reference.final.accuracy);
    } finally {
      loaded.model.dispose();
    }
    const older = await loadRun(referenceDir, { step: 175 });
    expect(older.step).toBe(175);
    expect(Array.from(older.model.params['wte.weight'].dataSync())).not.toEqual(
      Array.from(reference.model.params['wte.weight'].dataSync()),
    );
    older.model.dispose();
    await expect(loadRun(referenceDir, { step: 25 })).rejects.toThrow(/no checkpoint at step 25 \(available: 150, 175, 200\)/);
  });
});

describe('interrupted runs continue exactly', () => {
  it('SIGKILL mid-run, then --resume: metrics.jsonl equals the uninterrupted run', async () => {
    const runDir = path.join(dir, 'killed');
    const { child, exit } = startCli(['train', '--config', configFile, '--run-dir', runDir]);
    await waitFor(() => lastLoggedStep(runDir) >= 62 && listCheckpoints(runDir).some((c) => c.step === 50), 'step 62');
    child.kill('SIGKILL');
    expect((await exit).signal).toBe('SIGKILL');
    const killedAt = lastLoggedStep(runDir);
    expect(killedAt).toBeLessThan(200);
    expect(readRunInfo(runDir).status).toBe('running'); // nobody got to say otherwise

    const resumed = await startCli(['train', '--resume', runDir]).exit;
    expect(resumed.code, resumed.stderr).toBe(0);
    const resumedAt = Number(/resuming at step (\d+)/.exec(resumed.stderr)?.[1]);
    expect(resumedAt).toBeGreaterThanOrEqual(50);
    expect(resumedAt).toBeLessThanOrEqual(killedAt);
    expect(exactFields(metricsOf(runDir))).toEqual(exactFields(metricsOf(referenceDir)));
    const info = readRunInfo(runDir);
    expect(info.status).toBe('finished');
    expect(info.resumes).toHaveLength(1);
    expect(info.result).toEqual(readRunInfo(referenceDir).result);
  }, 120_000);

  const interruptedDir = path.join(dir, 'interrupted');

  it('SIGINT finishes the step, writes a checkpoint there, marks the run interrupted and exits 130', async () => {
    const { child, exit } = startCli(['train', '--config', configFile, '--run-dir', interruptedDir]);
    await waitFor(() => lastLoggedStep(interruptedDir) >= 55, 'step 55');
    child.kill('SIGINT');
    const { code, stderr } = await exit;
    expect(code, stderr).toBe(130);
    const lastLine = stderr.trim().split('\n').at(-1)!;
    const step = Number(
      /^arith-lab: interrupted after step (\d+); checkpoint written, continue with: arith-lab train --resume /.exec(lastLine)?.[1],
    );
    expect(step).toBeGreaterThanOrEqual(55);
    expect(step).toBeLessThan(200);
    expect(stderr).not.toMatch(STACK_LINE);
    expect(listCheckpoints(interruptedDir)[0].step).toBe(step);
    expect(readCheckpoint(listCheckpoints(interruptedDir)[0].dir).state.last_record?.step).toBe(step);
    expect(readRunInfo(interruptedDir)).toMatchObject({ status: 'interrupted', step, message: `interrupted by SIGINT after step ${step}` });
    expect(lastLoggedStep(interruptedDir)).toBe(step);
  }, 120_000);

  it('a truncated newest checkpoint: resume warns and continues exactly from the previous one; all truncated is one clear error', async () => {
    const [newest, previous] = listCheckpoints(interruptedDir);
    const modelFile = path.join(newest.dir, MODEL_FILE);
    const truncatedSize = Math.floor(fs.statSync(modelFile).size / 2);
    fs.truncateSync(modelFile, truncatedSize);

    // Every checkpoint truncated (in a copy): exit 2, one line, no stack.
    const broken = path.join(dir, 'all-truncated');
    fs.cpSync(interruptedDir, broken, { recursive: true });
    for (const checkpoint of listCheckpoints(broken)) fs.truncateSync(path.join(checkpoint.dir, MODEL_FILE), 100);
    const failed = await startCli(['train', '--resume', broken]).exit;
    expect(failed.code).toBe(2);
    expect(failed.stderr.trim().split('\n')).toHaveLength(1);
    expect(failed.stderr).toMatch(
      /^arith-lab: error: .*all-truncated: no usable checkpoint \(checkpoint step-\d+ is unusable: model.safetensors: 100 bytes, state.json recorded \d+ \(truncated\?\)/,
    );

    const resumed = await startCli(['train', '--resume', interruptedDir]).exit;
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).not.toMatch(STACK_LINE);
    expect(resumed.stderr).toContain(
      // The size found, not a reference run's: the header's metadata (the step's record) varies a few bytes by step.
      `warning: checkpoint ${path.basename(newest.dir)} is unusable: model.safetensors: ${truncatedSize} bytes`,
    );
    expect(resumed.stderr).toContain(`using ${path.basename(previous.dir)} instead`);
    expect(resumed.stderr).toContain(`resuming at step ${previous.step}`);
    expect(exactFields(metricsOf(interruptedDir))).toEqual(exactFields(metricsOf(referenceDir)));
    expect(readRunInfo(interruptedDir).status).toBe('finished');
  }, 120_000);
});

describe('divergence', () => {
  it('a NaN stops the run: status failed naming the step, exit 1 with one line, last good checkpoint kept', async () => {
    const runDir = path.join(dir, 'diverged');
    // A huge learning rate with decoupled weight decay flips and scales the weights until they overflow.
    const overrides = ['train.lr=1e6', 'train.min_lr=0', 'train.warmup=0', 'train.checkpoint_every=1'].flatMap((s) => ['--set', s]);
    const { code, stderr } = await startCli(['train', '--config', configFile, ...overrides, '--run-dir', runDir]).exit;
    expect(code, stderr).toBe(1);
    expect(stderr).not.toMatch(STACK_LINE);
    const lastLine = stderr.trim().split('\n').at(-1)!;
    const match =
      /^arith-lab: run diverged: (loss|gradient norm) became (NaN|Infinity|-Infinity) at step (\d+); last good checkpoint: step (\d+) \(/.exec(
        lastLine,
      );
    expect(match, lastLine).not.toBeNull();
    const [failedStep, goodStep] = [Number(match![3]), Number(match![4])];
    expect(goodStep).toBe(failedStep - 1);
    const info = readRunInfo(runDir);
    expect(info.status).toBe('failed');
    expect(info.message).toContain(`at step ${failedStep}`);
    const kept = readCheckpoint(listCheckpoints(runDir)[0].dir);
    expect(kept.step).toBe(goodStep);
    for (const tensor of Object.values(kept.model)) expect(tensor.data.every(Number.isFinite)).toBe(true);
  }, 60_000);
});
