import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.ts';
import { ask, isRejected } from '../src/cli/ask.ts';
import { loadRun } from '../src/experiments/checkpoint.ts';
import { train } from '../src/experiments/train.ts';
import { modelDecoder } from '../src/inference/decode.ts';
import { lengthProbeDuringTraining } from '../src/probes/duringTraining.ts';
import { PROBES } from '../src/probes/index.ts';
import { modelCapture, modelPredictor, probeContext, runProbes } from '../src/probes/run.ts';
import { listCheckpoints } from '../src/runs/checkpointFiles.ts';

// On tfjs-backend-webgpu in Node (Dawn, measured on an H200), every synchronous read of a tensor throws
// `ReferenceError: OffscreenCanvas is not defined`: readSync draws to an OffscreenCanvas, which Node lacks. So the
// library must only ever read with `await t.data()` / `await t.array()`. This guard proves it on wasm, where a
// synchronous read would silently work.
//
// How: Tensor.prototype.dataSync / arraySync / bufferSync are replaced by versions that look at their *immediate*
// caller (the first stack frame above the patched method). tfjs may read synchronously inside its own kernels and
// helpers (e.g. bufferSync calls dataSync) — those callers live under node_modules/@tensorflow and are let
// through, as they are the backend's business. Any other caller is code of this project (src/ on the way from
// train, ask or the probes) and is a violation: recorded, and thrown, so that a caught error cannot hide it.
// Checking only "is there a src/ frame anywhere on the stack" would not work: every tfjs-internal read made on
// behalf of our ops has src/ frames further down.
const METHODS = ['dataSync', 'arraySync', 'bufferSync'] as const;
type Method = (typeof METHODS)[number];

function callerFrame(skip: Function): string {
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder, skip);
  const frames = (holder.stack ?? '').split('\n').slice(1);
  return frames[0]?.trim() ?? '';
}

const isTfjsInternal = (frame: string) =>
  /node_modules[\\/](\.pnpm[\\/].*[\\/])?@tensorflow[\\/]/.test(frame) || frame.includes('node:internal');

describe('the library never reads a tensor synchronously (webgpu in Node cannot)', () => {
  const originals = new Map<Method, Function>();
  let violations: string[] = [];

  beforeEach(() => {
    violations = [];
    const proto = tf.Tensor.prototype as unknown as Record<Method, Function>;
    for (const method of METHODS) {
      const original = proto[method];
      originals.set(method, original);
      const guarded = function (this: tf.Tensor, ...args: unknown[]) {
        const caller = callerFrame(guarded);
        if (!isTfjsInternal(caller)) {
          violations.push(`${method} from ${caller}`);
          throw new Error(`synchronous tensor read: ${method}() called ${caller}`);
        }
        return original.apply(this, args);
      };
      proto[method] = guarded;
    }
  });

  afterEach(() => {
    const proto = tf.Tensor.prototype as unknown as Record<Method, Function>;
    for (const [method, original] of originals) proto[method] = original;
  });

  it('the guard itself catches a synchronous read from outside tfjs', () => {
    const t = tf.scalar(3);
    try {
      expect(() => t.dataSync()).toThrow(/synchronous tensor read: dataSync/);
      expect(() => t.arraySync()).toThrow(/synchronous tensor read: arraySync/);
      expect(violations).toHaveLength(2);
    } finally {
      t.dispose();
    }
  });

  it('train (steps, evaluation, probe_every, checkpoint), the probes and predict read only asynchronously', async () => {
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-async-'));
    const config = parseConfig(
      {
        seed: 1,
        backend: 'wasm',
        task: { op: 'add', train_digits: [1, 2], test_digits: [1, 3], test_size: 8 },
        format: { name: 'reversed' },
        model: { layers: 1, heads: 2, d_model: 16, max_len: 17, pos: 'ape' },
        train: {
          steps: 4,
          batch: 8,
          lr: 0.01,
          warmup: 1,
          eval_every: 2,
          eval_size: 4,
          log_every: 1,
          checkpoint_every: 4,
          probe_every: 4,
          probe_samples: 2,
        },
      },
      'test',
    );
    const trained = await train(config, runDir, { onProbe: lengthProbeDuringTraining(runDir) });
    trained.model.dispose();
    expect(trained.final.accuracy).toBeDefined();
    expect(listCheckpoints(runDir).map((c) => c.step)).toEqual([4]);
    expect(fs.existsSync(path.join(runDir, 'probes', 'length-by-step.jsonl'))).toBe(true);

    const loaded = await loadRun(runDir);
    try {
      const before = tf.memory().numTensors;
      const context = probeContext(loaded.experiment, { samples: 2 });
      const runs = await runProbes(
        Object.values(PROBES),
        { predictor: modelPredictor(loaded.model, loaded.experiment), capture: modelCapture(loaded.model) },
        context,
      );
      expect(runs.map((r) => r.name)).toEqual(Object.keys(PROBES));
      const answers = await ask(modelDecoder(loaded.model), loaded.experiment, ['12+34', '7+8']);
      expect(answers.every((a) => !isRejected(a))).toBe(true);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      loaded.model.dispose();
    }
    expect(violations).toEqual([]);
  }, 120_000);
});
