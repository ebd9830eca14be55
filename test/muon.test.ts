import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/backends/select.ts';
import { loadConfig } from '../src/config/load.ts';
import { readCheckpoint } from '../src/experiments/checkpoint.ts';
import { AdamW } from '../src/experiments/adamw.ts';
import { MUON_PARAMETER, Muon, orthogonalize } from '../src/experiments/muon.ts';
import { listCheckpoints } from '../src/runs/checkpointFiles.ts';
import { testBackend } from './fixtures/backend.ts';
import { expectExactResume } from './fixtures/interruptedRun.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-muon-'));

beforeAll(async () => {
  await selectBackend(testBackend('wasm'));
});

const random = seedrandom('muon');
const gaussian = (n: number) => Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()));

/** `count` orthonormal vectors of length `size` (Gram-Schmidt on Gaussian vectors), as rows. */
function orthonormalRows(count: number, size: number): number[][] {
  const rows: number[][] = [];
  while (rows.length < count) {
    let v = gaussian(size);
    for (const u of rows) {
      const dot = u.reduce((s, x, i) => s + x * v[i], 0);
      v = v.map((x, i) => x - dot * u[i]);
    }
    const norm = Math.hypot(...v);
    rows.push(v.map((x) => x / norm));
  }
  return rows;
}

const matrix = (t: tf.Tensor) => t.arraySync() as number[][];

describe('Newton-Schulz orthogonalization', () => {
  it('keeps the singular vectors and moves every singular value near 1', () => {
    // G = U diag(s) Vᵀ with singular values 30 times apart: Uᵀ O V must come back diagonal, near the identity.
    const u = orthonormalRows(3, 3);
    const v = orthonormalRows(3, 8);
    const s = [3, 1, 0.1];
    const g = tf.tidy(() => tf.matMul(tf.matMul(tf.tensor2d(u), tf.diag(tf.tensor1d(s)), true), tf.tensor2d(v)));
    const o = orthogonalize(tf.expandDims(g, 0) as tf.Tensor3D, 5);
    const core = matrix(tf.matMul(tf.matMul(tf.tensor2d(u), tf.squeeze(o, [0])), tf.tensor2d(v), false, true));
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        if (i === j) expect(core[i][j]).toBeGreaterThan(0.6), expect(core[i][j]).toBeLessThan(1.25);
        else expect(Math.abs(core[i][j])).toBeLessThan(1e-4);
      }
    }
    // With fewer iterations the smallest singular value is still far from 1: the iterations do the work.
    const early = matrix(
      tf.matMul(
        tf.matMul(tf.tensor2d(u), tf.squeeze(orthogonalize(tf.expandDims(g, 0) as tf.Tensor3D, 1), [0])),
        tf.tensor2d(v),
        false,
        true,
      ),
    );
    expect(early[2][2]).toBeLessThan(0.2);
  });

  it('orthogonalizes each matrix of a stack on its own, whatever its scale', () => {
    const a = tf.tensor2d([gaussian(6), gaussian(6)]);
    const b = tf.mul(tf.tensor2d([gaussian(6), gaussian(6)]), 1000);
    const both = orthogonalize(tf.stack([a, b]) as tf.Tensor3D, 5);
    const alone = [a, b].map((m) => orthogonalize(tf.expandDims(m, 0) as tf.Tensor3D, 5));
    for (const i of [0, 1]) {
      const [x, y] = [matrix(tf.squeeze(tf.slice(both, [i, 0, 0], [1, 2, 6]), [0])), matrix(tf.squeeze(alone[i], [0]))];
      x.flat().forEach((value, k) => expect(value).toBeCloseTo(y.flat()[k], 5));
    }
  });
});

describe('the Muon optimizer', () => {
  const params = (): Record<string, tf.Variable> => ({
    'blocks.0.attn.c_attn.weight': tf.variable(tf.tensor2d([gaussian(12), gaussian(12), gaussian(12), gaussian(12)])),
    'blocks.0.mlp.c_proj.weight': tf.variable(tf.tensor2d(Array.from({ length: 8 }, () => gaussian(4)))),
    'blocks.0.ln_1.bias': tf.variable(tf.tensor1d(gaussian(4))),
    'wte.weight': tf.variable(tf.tensor2d([gaussian(4), gaussian(4), gaussian(4)])),
  });
  const adamOptions = { beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0.1 };

  it('steps each map of a matrix by -lr·0.2·sqrt(max(rows, cols)) times its orthogonalized Nesterov momentum; AdamW steps the rest', () => {
    const weights = params();
    const before = Object.fromEntries(Object.entries(weights).map(([name, p]) => [name, tf.clone(p)]));
    const twins = Object.fromEntries(Object.entries(weights).map(([name, p]) => [name, tf.variable(tf.clone(p))]));
    const muon = new Muon(weights, adamOptions, { momentum: 0.9, nsSteps: 5 });
    const adamw = new AdamW({ 'blocks.0.ln_1.bias': twins['blocks.0.ln_1.bias'], 'wte.weight': twins['wte.weight'] }, adamOptions);
    const lr = 0.01;
    const steps = [0, 1].map(() => Object.fromEntries(Object.entries(weights).map(([name, p]) => [name, tf.randomNormal(p.shape)])));
    for (const grads of steps) {
      muon.apply(grads, lr);
      adamw.apply(grads, lr);
    }
    // AdamW's parameters are exactly where AdamW alone puts them.
    for (const name of ['blocks.0.ln_1.bias', 'wte.weight']) expect(weights[name].arraySync()).toEqual(twins[name].arraySync());
    // The matrices, step t: W ← W·(1 − lr·wd) − lr·U_t, U_t each map of the direction orthogonalized and scaled.
    // The momentum after step 1 is g1 (direction 1.9·g1, the same once normalized), after step 2 m = 0.9·g1 + g2
    // (direction g2 + 0.9·m).
    const scaledOrthogonal = (direction: tf.Tensor, pieces: number) =>
      tf.concat(
        (tf.split(direction, pieces, 1) as tf.Tensor2D[]).map((piece) => {
          const [rows, cols] = piece.shape;
          const turned = rows > cols ? tf.transpose(piece) : piece;
          const o = tf.squeeze(orthogonalize(tf.expandDims(turned, 0) as tf.Tensor3D, 5), [0]);
          return tf.mul(rows > cols ? tf.transpose(o) : o, 0.2 * Math.sqrt(Math.max(rows, cols)));
        }),
        1,
      );
    const decay = 1 - lr * 0.1;
    const expectStep = (name: string, pieces: number) => {
      const [g1, g2] = steps.map((grads) => grads[name]);
      const second = tf.add(g2, tf.mul(tf.add(tf.mul(g1, 0.9), g2), 0.9));
      const afterFirst = tf.sub(tf.mul(before[name], decay), tf.mul(scaledOrthogonal(g1, pieces), lr));
      const expected = tf.sub(tf.mul(afterFirst, decay), tf.mul(scaledOrthogonal(second, pieces), lr));
      const got = (weights[name].arraySync() as number[][]).flat();
      (expected.arraySync() as number[][]).flat().forEach((value, k) => expect(got[k]).toBeCloseTo(value, 5));
    };
    expectStep('blocks.0.attn.c_attn.weight', 3); // [4, 12]: three [4, 4] maps, each orthogonalized alone
    expectStep('blocks.0.mlp.c_proj.weight', 1); // [8, 4]: more rows than columns, orthogonalized transposed
    // Muon's state is one momentum per matrix; AdamW keeps moments only for its own parameters.
    expect(muon.state().map(([name]) => name)).toEqual([
      'adam.m.blocks.0.ln_1.bias',
      'adam.m.wte.weight',
      'adam.v.blocks.0.ln_1.bias',
      'adam.v.wte.weight',
      'muon.m.blocks.0.attn.c_attn.weight',
      'muon.m.blocks.0.mlp.c_proj.weight',
    ]);
    expect(muon.step).toBe(2);
  });
});

const TINY = `
seed: 2
task: { op: add, train_digits: [1, 2], test_digits: [2, 2], test_size: 16 }
format: { name: reversed }
model: { layers: 1, heads: 2, d_model: 16, max_len: 16, pos: ape }
train: { steps: 12, batch: 8, lr: 0.01, warmup: 0, eval_every: 6, eval_size: 8, log_every: 1, checkpoint_every: 6, muon: {} }
`;

describe('which parameters Muon trains', () => {
  it("the blocks' weight matrices, a gated MLP's gate included; biases, gains, embeddings and heads stay with AdamW", () => {
    for (const name of [
      'blocks.0.attn.c_attn.weight',
      'blocks.1.attn.c_proj.weight',
      'blocks.0.mlp.c_fc.weight',
      'blocks.0.mlp.c_gate.weight',
      'blocks.3.mlp.c_proj.weight',
    ]) {
      expect(MUON_PARAMETER.test(name), name).toBe(true);
    }
    for (const name of [
      'blocks.0.mlp.c_gate.bias',
      'blocks.0.ln_1.weight',
      'wte.weight',
      'wpe.weight',
      'lm_head.weight',
      'aux_head.weight',
    ]) {
      expect(MUON_PARAMETER.test(name), name).toBe(false);
    }
  });
});

describe('a run with train.muon', () => {
  const configFile = path.join(dir, 'tiny.yaml');
  fs.writeFileSync(configFile, TINY);

  it('resumes exactly, its momenta saved in optimizer.safetensors', async () => {
    const { whole } = await expectExactResume(loadConfig(configFile), dir);
    const names = Object.keys(readCheckpoint(listCheckpoints(whole)[0].dir).optimizer);
    expect(names).toContain('muon.m.blocks.0.mlp.c_fc.weight');
    expect(names).not.toContain('adam.m.blocks.0.mlp.c_fc.weight');
    expect(names).toContain('adam.m.wte.weight');
  }, 60_000);

  it('an AdamW checkpoint is unusable for a Muon run, naming the missing momentum', () => {
    const checkpoint = listCheckpoints(path.join(dir, 'whole'))[0].dir;
    const adamOnly = path.join(dir, 'adam');
    fs.mkdirSync(adamOnly);
    const expected = new Map(Object.entries(readCheckpoint(checkpoint).model).map(([name, t]) => [name, t.shape]));
    expect(() => readCheckpoint(checkpoint, expected, { muon: false })).toThrow(
      /optimizer.safetensors: tensor adam\.m\.blocks\.0\.attn\.c_attn\.weight is missing/,
    );
    expect(() => readCheckpoint(checkpoint, expected, { muon: true })).not.toThrow();
  });

  it('a momentum outside [0, 1) or zero iterations is one error naming the field', () => {
    const failedField = (setting: string) => {
      try {
        loadConfig(configFile, [setting]);
      } catch (error) {
        return (error as { details?: { field?: string } }).details?.field;
      }
      return 'no error';
    };
    expect(failedField('train.muon={momentum: 1}')).toBe('train.muon.momentum');
    expect(failedField('train.muon={ns_steps: 0}')).toBe('train.muon.ns_steps');
    expect(failedField('train.muon={momentum: 0.5, ns_steps: 3}')).toBe('no error');
  });
});
