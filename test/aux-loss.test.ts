import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/backends/select.ts';
import { prepareExperiment } from '../src/config/experiment.ts';
import { loadConfig } from '../src/config/load.ts';
import { encodeBatch } from '../src/data/batches.ts';
import { getFormat } from '../src/data/formats/index.ts';
import type { Problem } from '../src/data/problem.ts';
import { columns, runningSumTargets } from '../src/data/runningSum.ts';
import { AdamW } from '../src/experiments/adamw.ts';
import { loadRun, readCheckpoint } from '../src/experiments/checkpoint.ts';
import { prepareFork, writeFork } from '../src/experiments/fork.ts';
import { train, trainingBatch, trainStep } from '../src/experiments/train.ts';
import { auxHeadPrefix } from '../src/models/auxHeadNames.ts';
import { auxActivationName, auxLayers, runningSumLoss } from '../src/models/auxLoss.ts';
import { Gpt } from '../src/models/gpt.ts';
import { listCheckpoints } from '../src/runs/checkpointFiles.ts';
import { readMetrics } from '../src/runs/metricsLog.ts';
import { testBackend } from './fixtures/backend.ts';
import { trainInterruptedAfterStep1, trainWhole, withoutTimings } from './fixtures/interruptedRun.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-aux-'));

/** A tiny 2-layer multiplication run; each test overrides what it is about. */
const TINY = `
seed: 1
task: { op: mul, train_digits: [1, 2], test_digits: [2, 2], test_size: 8 }
format: { name: reversed }
model: { layers: 2, heads: 2, d_model: 16, max_len: 24, pos: ape }
train: { steps: 4, batch: 8, lr: 0.003, warmup: 0, eval_every: 100, eval_size: 4, log_every: 1, checkpoint_every: 100 }
`;
const configFile = path.join(dir, 'tiny.yaml');
fs.writeFileSync(configFile, TINY);
const AUX = ['train.aux_loss={target: running_sum, layer: 1, weight: 1, scale: 100}'];

beforeAll(async () => {
  await selectBackend(testBackend('wasm'));
});

const mul = (a: bigint, b: bigint): Problem => ({ op: 'mul', a, b });

describe('running sums of a problem', () => {
  it('2365 × 4347: ĉ_k = Σ_{i+j=k} a_i b_j + carry, digits of 10280655 least significant first', () => {
    const byK = columns(mul(2365n, 4347n));
    expect(byK.map((c) => c.runningSum)).toEqual([35, 65, 66, 70, 48, 22, 10, 1]);
    expect(byK.map((c) => c.carryIn)).toEqual([0, 3, 6, 6, 7, 4, 2, 1]);
    expect(byK.map((c) => c.digit).join('')).toBe([...'10280655'].reverse().join(''));
  });

  it('addition: a_k + b_k + carry', () => {
    expect(columns({ op: 'add', a: 128n, b: 367n }).map((c) => c.runningSum)).toEqual([15, 9, 4, 0]);
  });

  it('targets sit on the token before each answer digit (teacher forcing), nowhere else', () => {
    // reversed: `<bos> $ 1 2 * 3 4 =` then `8 0 4 $ \n`; `=` (input 7) predicts the units digit 8.
    const experiment = prepareExperiment(loadConfig(configFile));
    const { format, formatOptions, tokenizer } = experiment;
    const problem = mul(12n, 34n);
    const batch = encodeBatch([format.encode(problem, formatOptions)], tokenizer, 'answer', [format.roles!(problem, formatOptions)]);
    const { values, mask } = runningSumTargets([problem], batch.roles!, batch.seqLen);
    expect(Array.from(mask).flatMap((m, t) => (m ? [t] : []))).toEqual([7, 8, 9]);
    expect([values[7], values[8], values[9]]).toEqual([8, 10, 4]);
  });
});

describe('the auxiliary loss in a training step', () => {
  async function losses(overrides: string[], steps = 3): Promise<{ losses: number[]; auxLosses: (number | null)[]; model: Gpt }> {
    const config = loadConfig(configFile, [...overrides, 'train.weight_decay=0']);
    const experiment = prepareExperiment(config);
    const model = new Gpt(experiment.model, 5);
    const optimizer = new AdamW(model.params, { beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0 });
    const problems = [mul(12n, 34n), mul(7n, 89n), mul(56n, 3n), mul(99n, 99n)];
    const aux = config.train.aux_loss && { ...config.train.aux_loss, scale: 100 };
    const result: number[] = [];
    const auxLosses: (number | null)[] = [];
    for (let step = 1; step <= steps; step++) {
      const batch = trainingBatch(model, experiment, problems, step);
      const taken = await trainStep(model, optimizer, batch, 1e-2, 1, step, aux);
      result.push(taken.loss);
      auxLosses.push(taken.auxLoss);
    }
    optimizer.dispose();
    return { losses: result, auxLosses, model };
  }

  it('weight 0 gives exactly the standard loss curve; weight 1 adds the head loss and trains the head', async () => {
    const standard = await losses([]);
    const zero = await losses(['train.aux_loss={target: running_sum, layer: 1, weight: 0}']);
    const one = await losses(AUX);
    expect(zero.losses).toEqual(standard.losses);
    expect(one.losses[0]).toBeGreaterThan(standard.losses[0]);
    // The step reports the head's loss before its weight: from the same weights, loss = cross-entropy + 1 × it.
    expect(standard.auxLosses).toEqual([null, null, null]);
    expect(one.auxLosses[0]).toBeGreaterThan(0);
    expect(one.losses[0]).toBeCloseTo(standard.losses[0] + one.auxLosses[0]!, 5);
    expect(one.losses.slice(1)).not.toEqual(standard.losses.slice(1));
    // Same initial head (seeded by name); only a nonzero weight moves it.
    const head = (m: Gpt) => Array.from(m.params['aux_head.weight'].dataSync());
    expect(head(one.model)).not.toEqual(head(zero.model));
    for (const m of [standard, zero, one]) m.model.dispose();
  });

  /** Norms of the auxiliary loss's gradient alone, by parameter name (0 where no path reaches the loss). */
  function auxGradientNorms(overrides: string[]): { norm: (name: string) => number; model: Gpt; dispose: () => void } {
    const config = loadConfig(configFile, overrides);
    const experiment = prepareExperiment(config);
    const spec = config.train.aux_loss!;
    const model = new Gpt(experiment.model, 5);
    const problems = [mul(12n, 34n), mul(7n, 89n)];
    const batch = trainingBatch(model, experiment, problems, 1);
    const shape: [number, number] = [batch.batch, batch.seqLen];
    const layers = auxLayers(spec);
    const { grads } = tf.variableGrads(() => {
      const read = new Map<string, tf.Tensor>();
      model.forward(tf.tensor2d(batch.inputs, shape, 'int32'), {
        training: true,
        hook: (name, activation) => void read.set(name, activation),
      });
      const [values, mask] = [tf.tensor2d(batch.auxTargets!.values, shape), tf.tensor2d(batch.auxTargets!.mask, shape)];
      const perHead = layers.map((layer) =>
        runningSumLoss(model, read.get(auxActivationName(layer, spec.read))!, values, mask, spec, auxHeadPrefix(layer, layers)),
      );
      return tf.addN(perHead) as tf.Scalar;
    }, Object.values(model.params));
    // No path from a parameter to the loss: tfjs gives no gradient (null), i.e. zero.
    const norm = (name: string) => {
      const grad = grads[model.params[name].name];
      return grad ? tf.norm(grad).dataSync()[0] : 0;
    };
    return { norm, model, dispose: () => (tf.dispose(Object.values(grads)), model.dispose()) };
  }

  it('its gradient reaches the head and the blocks up to the layer it reads, and nothing after', () => {
    const { norm, dispose } = auxGradientNorms(AUX);
    expect(norm('aux_head.weight')).toBeGreaterThan(0);
    expect(norm('blocks.0.mlp.c_fc.weight')).toBeGreaterThan(0);
    expect(norm('wte.weight')).toBeGreaterThan(0);
    expect(norm('blocks.1.mlp.c_fc.weight')).toBe(0);
    expect(norm('ln_f.weight')).toBe(0);
    dispose();
  });

  it('read: heads puts one bias-free head on each attention head of the layer, before the projection', () => {
    const { norm, model, dispose } = auxGradientNorms(['train.aux_loss={target: running_sum, layer: 2, read: heads}']);
    // 2 heads of d_head 8 (d_model 16).
    expect(model.params['aux_head.weight'].shape).toEqual([2, 8]);
    expect(model.params['aux_head.bias']).toBeUndefined();
    expect(norm('aux_head.weight')).toBeGreaterThan(0);
    expect(norm('blocks.1.attn.c_attn.weight')).toBeGreaterThan(0);
    expect(norm('blocks.0.mlp.c_fc.weight')).toBeGreaterThan(0);
    // The heads' outputs come before block 2's projection and MLP: neither is trained by the auxiliary loss.
    expect(norm('blocks.1.attn.c_proj.weight')).toBe(0);
    expect(norm('blocks.1.mlp.c_fc.weight')).toBe(0);
    dispose();
  });

  it('a list of layers gives each block its own head, and the step adds their losses', async () => {
    const both = ['train.aux_loss={target: running_sum, layer: [1, 2], weight: 1}'];
    const { norm, model, dispose } = auxGradientNorms(both);
    expect(model.params['aux_head.weight']).toBeUndefined();
    for (const name of ['aux_head.1.weight', 'aux_head.2.weight', 'aux_head.1.bias', 'aux_head.2.bias'])
      expect(norm(name)).toBeGreaterThan(0);
    // Block 2's MLP now feeds a head (with layer 1 alone it gets no gradient from the loss).
    expect(norm('blocks.1.mlp.c_fc.weight')).toBeGreaterThan(0);
    dispose();
    // From the same weights, the step reports the sum of the two heads' losses, each computed on its own.
    const config = loadConfig(configFile, both);
    const model2 = new Gpt(prepareExperiment(config).model, 5);
    const batch = trainingBatch(model2, prepareExperiment(config), [mul(12n, 34n), mul(7n, 89n), mul(56n, 3n), mul(99n, 99n)], 1);
    const shape: [number, number] = [batch.batch, batch.seqLen];
    const read = new Map<string, tf.Tensor>();
    model2.forward(tf.tensor2d(batch.inputs, shape, 'int32'), {
      training: false,
      hook: (name, activation) => void read.set(name, activation),
    });
    const [values, mask] = [tf.tensor2d(batch.auxTargets!.values, shape), tf.tensor2d(batch.auxTargets!.mask, shape)];
    const spec = { scale: 100, read: 'residual' as const };
    const separate = [1, 2].map(
      (layer) =>
        runningSumLoss(model2, read.get(auxActivationName(layer, 'residual'))!, values, mask, spec, `aux_head.${layer}`).dataSync()[0],
    );
    expect(separate[0]).toBeGreaterThan(0);
    expect(separate[1]).toBeGreaterThan(0);
    tf.dispose([values, mask, ...read.values()]);
    model2.dispose();
    // Three steps with both heads leave no tensor behind once the model is gone.
    const before = tf.memory().numTensors;
    const run = await losses(both, 3);
    run.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(run.auxLosses[0]).toBeCloseTo(separate[0] + separate[1], 5);
  });

  it("read: heads averages each head's own squared error over the masked positions", () => {
    const config = loadConfig(configFile, ['train.aux_loss={target: running_sum, layer: 1, read: heads}']);
    const model = new Gpt(prepareExperiment(config).model, 5);
    // Head 0 reads columns 0-7, head 1 columns 8-15 of the activation; weights pick one column each.
    const weight = new Float32Array(16);
    weight[0] = 1; // head 0 predicts column 0
    weight[8 + 3] = 2; // head 1 predicts 2 × column 11
    model.params['aux_head.weight'].assign(tf.tensor2d(weight, [2, 8]));
    const activation = new Float32Array(2 * 16);
    activation[0] = 0.5; // position 0: head 0 says 0.5
    activation[11] = 0.25; // head 1 says 0.5
    activation[16] = 1; // position 1: head 0 says 1, head 1 says 0
    const loss = runningSumLoss(model, tf.tensor3d(activation, [1, 2, 16]), tf.tensor2d([[50, 30]]), tf.tensor2d([[1, 1]]), {
      scale: 100,
      read: 'heads',
    });
    // Targets 0.5 and 0.3: errors (0, 0) at position 0, (0.7, -0.3) at position 1; 0.58 / 4.
    expect(loss.dataSync()[0]).toBeCloseTo((0.49 + 0.09) / 4, 6);
    model.dispose();
  });
});

describe('config errors name the field', () => {
  const cases: [string, string[], RegExp][] = [
    ['addition', ['task.op=add', ...AUX], /multiplication/],
    ['a format that writes the answer most significant first', ['format.name=plain', ...AUX], /least significant first/],
    ['a layer outside the model', ['train.aux_loss={target: running_sum, layer: 3}'], /1 to model.layers \(2\)/],
    ['a list with a layer outside the model', ['train.aux_loss={target: running_sum, layer: [1, 3]}'], /layer 3 is outside the model/],
    ['a list naming a block twice', ['train.aux_loss={target: running_sum, layer: [2, 2]}'], /name a block twice/],
    ['until_step at train.steps', ['train.aux_loss={target: running_sum, layer: 1, until_step: 4}'], /^is 4, not before train\.steps 4/],
    ['internalizing a format without chain of thought', ['train.internalize={every: 2, tokens_per_stage: 4}'], /no chain of thought/],
    [
      'a stage longer than the chain of thought',
      ['format.name=cot-multiplication', 'model.max_len=64', 'train.internalize={every: 2, tokens_per_stage: 1000}'],
      /more than the whole chain of thought/,
    ],
  ];
  const fields = [
    'train.aux_loss',
    'train.aux_loss',
    'train.aux_loss.layer',
    'train.aux_loss.layer',
    'train.aux_loss.layer',
    'train.aux_loss.until_step',
    'train.internalize',
    'train.internalize.tokens_per_stage',
  ];
  cases.forEach(([what, overrides, message], i) => {
    it(what, () => {
      expect(() => loadConfig(configFile, overrides)).toThrow(message);
      try {
        loadConfig(configFile, overrides);
      } catch (error) {
        expect((error as { details?: { field?: string } }).details?.field).toBe(fields[i]);
      }
    });
  });
});

describe('runs with the head and with internalization', () => {
  it('the checkpoint holds aux_head.*, and loadRun restores it', async () => {
    const runDir = path.join(dir, 'aux');
    fs.mkdirSync(runDir);
    const result = await train(loadConfig(configFile, AUX), runDir);
    // Every metrics line carries the head's own loss, inside the total.
    const records = readMetrics(path.join(runDir, 'metrics.jsonl'));
    expect(records.length).toBeGreaterThan(0);
    for (const r of records) {
      expect(r.aux_loss).toBeGreaterThan(0);
      expect(r.loss).toBeGreaterThan(r.aux_loss!);
    }
    const loaded = await loadRun(runDir);
    expect(Array.from(loaded.model.params['aux_head.weight'].dataSync())).toEqual(
      Array.from(result.model.params['aux_head.weight'].dataSync()),
    );
    loaded.model.dispose();
    result.model.dispose();
  }, 60_000);

  it('until_step: the head loss through that step, then the cross-entropy alone, the head left where it was', async () => {
    const run = async (name: string, aux: string) => {
      const runDir = path.join(dir, name);
      fs.mkdirSync(runDir);
      (await train(loadConfig(configFile, [aux, 'train.checkpoint_every=1', 'train.keep_checkpoints=4']), runDir)).model.dispose();
      const head = (step: number) =>
        Array.from(readCheckpoint(listCheckpoints(runDir).find((c) => c.step === step)!.dir).model['aux_head.weight'].data);
      return { metrics: withoutTimings(readMetrics(path.join(runDir, 'metrics.jsonl'))), head };
    };
    const always = await run('aux-always', AUX[0]);
    const until = await run('aux-until-2', 'train.aux_loss={target: running_sum, layer: 1, weight: 1, scale: 100, until_step: 2}');
    // The cross-entropy alone from step 3: a fork of the head's run at step 2 with weight 0, whose head gets no gradient.
    const parent = path.join(dir, 'aux-always');
    const forked = path.join(dir, 'aux-weight-0');
    fs.mkdirSync(forked);
    const point = prepareFork(parent, 2, ['train.aux_loss.weight=0']);
    (await train(point.config, forked, { resumeFrom: writeFork(forked, point) })).model.dispose();
    const zero = withoutTimings(readMetrics(path.join(forked, 'metrics.jsonl')));
    expect(until.metrics.map((r) => r.aux_loss !== undefined)).toEqual([true, true, false, false]);
    expect(until.metrics.slice(0, 2)).toEqual(always.metrics.slice(0, 2));
    expect(until.metrics[2].loss).not.toBe(always.metrics[2].loss);
    expect(until.metrics.slice(2).map((r) => r.loss)).toEqual(zero.slice(2).map((r) => r.loss));
    expect(until.head(4)).toEqual(until.head(2));
    expect(always.head(4)).not.toEqual(always.head(2));
  }, 60_000);

  it('an interrupted internalization run resumes at the same stage: metrics equal an uninterrupted run', async () => {
    const overrides = ['format.name=cot-multiplication', 'model.max_len=64', 'train.internalize={every: 2, tokens_per_stage: 5}'];
    const config = loadConfig(configFile, overrides);
    const experiment = prepareExperiment(config);
    const model = new Gpt(experiment.model, 1);
    const problems = [mul(12n, 34n)];
    const lengths = [1, 2, 3, 4].map((step) => trainingBatch(model, experiment, problems, step).seqLen);
    expect(lengths).toEqual([lengths[0], lengths[0], lengths[0] - 5, lengths[0] - 5]);
    model.dispose();

    const [whole, parts] = ['whole', 'parts'].map((name) => path.join(dir, name));
    fs.mkdirSync(whole);
    fs.mkdirSync(parts);
    expect(await trainInterruptedAfterStep1(config, parts)).toEqual(await trainWhole(config, whole));
  }, 60_000);
});

describe('cot-multiplication format', () => {
  const format = getFormat('cot-multiplication');
  const options = { padWidth: 4, maxDigits: 4 };
  it('writes the partial products, the running totals between them, then the product, all least significant first', () => {
    expect(format.encode(mul(12n, 34n), options)).toEqual({
      prompt: '2 1 * 4 3||',
      target: '8 4 0 + 0 6 3 0 #### 8 0 4 0\n',
    });
    expect(format.encode(mul(2365n, 4347n), options).target).toBe(
      '5 5 5 6 1 + 0 0 6 4 9 0 ( 5 5 1 1 1 1 ) + 0 0 5 9 0 7 0 ( 5 5 6 0 2 8 0 ) + 0 0 0 0 6 4 9 0 #### 5 5 6 0 8 2 0 1\n',
    );
  });
  it("matches Deng et al.'s data files line for line (a zero partial product included)", () => {
    // First lines of data/4_by_4_mult/test_bigbench.txt and data/5_by_5_mult/test_bigbench.txt in
    // github.com/da03/Internalize_CoT_Step_by_Step; their lines end where our end of line is.
    const lines = [
      '7 6 9 2 * 1 6 3 6||7 6 9 2 0 + 0 2 0 8 7 1 ( 7 8 9 0 8 1 ) + 0 0 1 0 9 8 0 ( 7 8 0 1 7 0 1 ) + 0 0 0 2 0 8 7 1 #### 7 8 0 3 7 8 8 1',
      '9 4 0 8 3 * 1 4 2 0 1||9 4 0 8 3 0 + 0 6 9 1 2 5 1 ( 9 0 0 0 6 5 1 ) + 0 0 8 9 0 6 7 0 ( 9 0 8 9 6 1 9 0 ) + 0 0 0 0 0 0 0 0 0 ( 9 0 8 9 6 1 9 0 0 ) + 0 0 0 0 9 4 0 8 3 0 #### 9 0 8 9 5 6 9 8 3 0',
    ];
    const problems = [mul(2967n, 6361n), mul(38049n, 10241n)];
    expect(problems.map((p) => format.encode(p, options)).map((e) => e.prompt + e.target)).toEqual(lines.map((l) => `${l}\n`));
  });
  it('parses the answer after ####, with any part of the chain of thought removed', () => {
    expect(format.parse('8 4 0 + 0 6 3 0 #### 8 0 4 0\n', options)).toEqual({ ok: true, answer: 408n });
    expect(format.parse(' #### 8 0 4', options)).toEqual({ ok: true, answer: 408n });
    expect(format.parse('8 4 0 + 0 6', options).ok).toBe(false);
  });
  it('roles: operand and answer digits with their significance, the chain of thought as text', () => {
    const roles = format.roles!(mul(12n, 34n), options);
    expect(roles.prompt.filter((r) => r.kind === 'a').map((r) => r.significance)).toEqual([0, 1]);
    const answer = roles.target.filter((r) => r.kind === 'answer').map((r) => r.significance);
    expect(answer).toEqual([0, 1, 2, 3]);
    expect(new Set(roles.target.slice(0, 15).map((r) => r.kind))).toEqual(new Set(['text', 'separator']));
  });
});
