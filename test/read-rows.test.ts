import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/backends/select.ts';
import { prepareExperiment } from '../src/config/experiment.ts';
import { loadConfig } from '../src/config/load.ts';
import { encodeBatch, pickRows, readPositions } from '../src/data/batches.ts';
import { EOS_ID } from '../src/data/tokenizer.ts';
import type { Problem } from '../src/data/problem.ts';
import { AdamW } from '../src/experiments/adamw.ts';
import { trainingBatch, trainStep } from '../src/experiments/train.ts';
import { auxHeadPrefix } from '../src/models/auxHeadNames.ts';
import { auxActivationName, auxLayers, runningSumLoss } from '../src/models/auxLoss.ts';
import { Gpt, type GptConfig } from '../src/models/gpt.ts';
import { maskedCrossEntropy } from '../src/models/loss.ts';
import { takeRows } from '../src/models/ops.ts';
import { testBackend } from './fixtures/backend.ts';
import { tinyGptConfig } from './fixtures/tinyGptConfig.ts';

// Training reads the logits only where the loss is, so the last block runs its MLP and head on those rows alone
// (ForwardOptions.rows). These tests hold that cut to the full forward pass it replaces.

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-rows-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const worstDifference = (got: tf.Tensor, want: tf.Tensor) => {
  expect(got.shape).toEqual(want.shape);
  const [g, w] = [Array.from(got.dataSync()), Array.from(want.dataSync())];
  return w.reduce((worst, value, i) => Math.max(worst, Math.abs(g[i] - value)), 0);
};

describe('the positions training reads', () => {
  it('loss positions and running-sum targets, row-major; pickRows keeps their values in order', () => {
    // Two rows of 4: loss on the last two of row 0 and the last three of row 1 (row 0 padded by one).
    const batch = {
      batch: 2,
      seqLen: 4,
      inputs: new Int32Array(8),
      targets: Int32Array.from([10, 11, 12, 13, 20, 21, 22, 23]),
      lossMask: Float32Array.from([0, 0, 1, 0, 0, 1, 1, 1]),
      answerMask: new Float32Array(8),
    };
    expect(Array.from(readPositions(batch))).toEqual([2, 5, 6, 7]);
    expect(Array.from(pickRows(batch.targets, readPositions(batch)))).toEqual([12, 21, 22, 23]);
    expect(pickRows(batch.lossMask, readPositions(batch))).toBeInstanceOf(Float32Array);
    // A running-sum target outside the loss (loss_on answer never makes one; the union keeps it read anyway).
    const aux = { values: new Float32Array(8), mask: Float32Array.from([0, 1, 0, 0, 0, 0, 0, 0]) };
    expect(Array.from(readPositions({ ...batch, auxTargets: aux }))).toEqual([1, 2, 5, 6, 7]);
  });

  it('a real batch: the answer digits and <eos> of each problem, not the prompt or the padding', async () => {
    fs.writeFileSync(
      path.join(dir, 'add.yaml'),
      `task: { op: add, train_digits: [1, 3], test_digits: [3, 3], test_size: 4 }
format: { name: reversed }
model: { layers: 1, heads: 1, d_model: 8, max_len: 24, pos: nope }
train: { steps: 1, batch: 2, lr: 0.001 }
`,
    );
    const { format, formatOptions, tokenizer } = prepareExperiment(loadConfig(path.join(dir, 'add.yaml')));
    const problems: Problem[] = [
      { op: 'add', a: 5n, b: 7n },
      { op: 'add', a: 123n, b: 456n },
    ];
    const batch = encodeBatch(
      problems.map((p) => format.encode(p, formatOptions)),
      tokenizer,
      'answer',
    );
    const read = readPositions(batch);
    const targets = Array.from(pickRows(batch.targets, read)).map((id) => (id === EOS_ID ? '|' : tokenizer.decode([id])));
    // reversed writes the sum least significant digit first between `$` marks: 12 -> `$21$`, 579 -> `$975$`.
    const answers = problems.map((p) => format.encode(p, formatOptions).target);
    expect(targets.join('')).toBe(answers.map((answer) => `${answer}|`).join(''));
    expect(read.length).toBeLessThan(batch.batch * batch.seqLen);
  });
});

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`${backend}: the cut forward pass equals the full one at the rows read`, () => {
    const rows = [3, 4, 9, 10, 11, 17];

    it(`takeRows: x's rows as [1, N, d], and the gradient lands on those rows only (${backend === 'wasm' ? 'one-hot product: wasm has no UnsortedSegmentSum' : 'tf.gather'})`, async () => {
      await selectBackend(testBackend(backend));
      expect(tf.getKernel('UnsortedSegmentSum', backend) === undefined).toBe(backend === 'wasm');
      tf.tidy(() => {
        const x = tf.randomNormal([3, 6, 5], 0, 1, 'float32', 1);
        const index = tf.tensor1d(rows, 'int32');
        const taken = takeRows(x, index);
        expect(taken.shape).toEqual([1, rows.length, 5]);
        expect(worstDifference(taken, tf.gather(x.reshape([18, 5]), index).reshape([1, rows.length, 5]))).toBe(0);
        const dy = tf.randomNormal([1, rows.length, 5], 0, 1, 'float32', 2);
        const [dx] = tf.grads((input: tf.Tensor) => takeRows(input, index))([x], dy);
        const want = new Float32Array(18 * 5);
        const dyValues = dy.dataSync();
        rows.forEach((row, i) => {
          for (let c = 0; c < 5; c++) want[row * 5 + c] = dyValues[i * 5 + c];
        });
        expect(worstDifference(dx, tf.tensor3d(want, [3, 6, 5]))).toBe(0);
      });
    });

    const shapes: [string, Partial<GptConfig>][] = [
      ['2 layers', {}],
      ['a looped model (2 passes of 2 layers)', { recurrence: 2 }],
      ['bilinear MLP, rotary positions', { mlp: 'bilinear', pos: 'rope' }],
    ];
    for (const [label, change] of shapes) {
      it(`${label}: logits and every gradient match the full pass's at those rows`, async () => {
        await selectBackend(testBackend(backend));
        const model = new Gpt(tinyGptConfig({ vocabSize: 11, pos: 'ape', ...change }), 3);
        const tokens = tf.tensor2d(
          Array.from({ length: 18 }, (_, i) => (i * 7) % 11),
          [3, 6],
          'int32',
        );
        const index = tf.tensor1d(rows, 'int32');
        const targets = Array.from({ length: 18 }, (_, i) => (i * 5 + 1) % 11);
        const cutTargets = tf.tensor2d(
          rows.map((r) => targets[r]),
          [1, rows.length],
          'int32',
        );
        const cutMask = tf.ones([1, rows.length]) as tf.Tensor2D;
        const fullTargets = tf.tensor2d(targets, [3, 6], 'int32');
        const fullMask = tf.tensor2d(
          Array.from({ length: 18 }, (_, i) => (rows.includes(i) ? 1 : 0)),
          [3, 6],
        );
        const params = Object.values(model.params);
        const full = tf.variableGrads(() => maskedCrossEntropy(model.forward(tokens, { training: true }), fullTargets, fullMask), params);
        const names: string[] = [];
        const cut = tf.variableGrads(() => {
          const logits = model.forward(tokens, { training: true, rows: index, hook: (name) => names.push(name), hookPatterns: false });
          expect(logits.shape).toEqual([1, rows.length, 11]);
          return maskedCrossEntropy(logits, cutTargets, cutMask);
        }, params);
        expect(Math.abs(cut.value.dataSync()[0] - full.value.dataSync()[0])).toBeLessThan(1e-6);
        for (const param of params) {
          const [got, want] = [cut.grads[param.name], full.grads[param.name]];
          expect(worstDifference(got, want), param.name).toBeLessThan(1e-6);
        }
        // The gradient is not zero everywhere: a cut that dropped the loss would pass the comparisons above only
        // with a zero gradient on both sides, which this rules out.
        expect(tf.max(tf.abs(cut.grads[model.params['blocks.0.mlp.c_fc.weight'].name])).dataSync()[0]).toBeGreaterThan(1e-4);
        expect(names).toContain(`${model.lastBlockName}.mlp.out`);
        tf.dispose([
          full.value,
          cut.value,
          ...Object.values(full.grads),
          ...Object.values(cut.grads),
          tokens,
          index,
          cutTargets,
          cutMask,
          fullTargets,
          fullMask,
        ]);
        model.dispose();
      });
    }
  });
}

describe('a training step reads only the loss positions', () => {
  const config = `
seed: 1
task: { op: mul, train_digits: [1, 2], test_digits: [2, 2], test_size: 8 }
format: { name: reversed }
model: { layers: 2, heads: 2, d_model: 16, max_len: 24, pos: ape }
train: { steps: 4, batch: 4, lr: 0.003, warmup: 0, weight_decay: 0, eval_every: 100, eval_size: 4, checkpoint_every: 100 }
`;
  const problems: Problem[] = [
    { op: 'mul', a: 12n, b: 34n },
    { op: 'mul', a: 7n, b: 89n },
    { op: 'mul', a: 56n, b: 3n },
    { op: 'mul', a: 99n, b: 99n },
  ];

  // The auxiliary head on the last block reads the cut stream and its targets are cut with it; a head on
  // block 1 reads the full stream. Both must give the loss of the full forward pass.
  for (const layer of [2, 1, [1, 2]] as const) {
    it(`its loss is the full pass's cross-entropy plus the running-sum loss (head on block ${layer})`, async () => {
      await selectBackend(testBackend('cpu'));
      const file = path.join(dir, 'mul.yaml');
      fs.writeFileSync(file, config);
      const layerText = typeof layer === 'number' ? String(layer) : `[${layer.join(', ')}]`;
      const experiment = prepareExperiment(
        loadConfig(file, [`train.aux_loss={target: running_sum, layer: ${layerText}, weight: 1, scale: 100}`]),
      );
      const aux = experiment.config.train.aux_loss!;
      const model = new Gpt(experiment.model, 5);
      const batch = trainingBatch(model, experiment, problems, 1);
      expect(readPositions(batch).length).toBeLessThan(batch.batch * batch.seqLen);
      const shape: [number, number] = [batch.batch, batch.seqLen];
      // The full pass, as training ran before the cut.
      const want = tf.tidy(() => {
        const read = new Map<string, tf.Tensor>();
        const logits = model.forward(tf.tensor2d(batch.inputs, shape, 'int32'), {
          training: true,
          hook: (name, activation) => read.set(name, activation),
          hookPatterns: false,
        });
        const crossEntropy = maskedCrossEntropy(logits, tf.tensor2d(batch.targets, shape, 'int32'), tf.tensor2d(batch.lossMask, shape));
        const layers = auxLayers(aux);
        const auxLoss = tf.addN(
          layers.map((l) =>
            runningSumLoss(
              model,
              read.get(auxActivationName(l, aux.read))!,
              tf.tensor2d(batch.auxTargets!.values, shape),
              tf.tensor2d(batch.auxTargets!.mask, shape),
              aux,
              auxHeadPrefix(l, layers),
            ),
          ),
        );
        return [crossEntropy.dataSync()[0], auxLoss.dataSync()[0]];
      });
      const optimizer = new AdamW(model.params, { beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0 });
      const before = tf.memory().numTensors;
      const taken = await trainStep(model, optimizer, batch, 1e-2, 1, 1, aux);
      expect(taken.auxLoss).toBeCloseTo(want[1], 5);
      expect(taken.loss).toBeCloseTo(want[0] + want[1], 5);
      // Optimizer state is created on the first step; a second step must leave the count where the first did.
      const afterFirst = tf.memory().numTensors;
      await trainStep(model, optimizer, trainingBatch(model, experiment, problems, 2), 1e-2, 1, 2, aux);
      expect(tf.memory().numTensors).toBe(afterFirst);
      expect(afterFirst).toBeGreaterThanOrEqual(before);
      optimizer.dispose();
      model.dispose();
    });
  }
});
