import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/backends/select.ts';
import { loadConfig } from '../src/config/load.ts';
import {
  buildTestSets,
  describeCurriculum,
  heldOutKeys,
  samplerAt,
  type TaskSpec,
  TrainStream,
  testSetSize,
  trainDigitsAt,
} from '../src/data/dataset.ts';
import { problemKey } from '../src/data/problem.ts';
import { train } from '../src/experiments/train.ts';
import { UserError } from '../src/errors.ts';
import { readMetrics } from '../src/runs/metricsLog.ts';
import { testBackend } from './fixtures/backend.ts';
import { trainInterruptedAfterStep1, trainWhole } from './fixtures/interruptedRun.ts';

// task.curriculum: stages of operand lengths by optimizer step, before task.train_digits.

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-curriculum-'));
const TINY = `
seed: 2
task: { op: mul, train_digits: [1, 3], test_digits: [3, 3], test_size: 8 }
format: { name: reversed-all }
model: { layers: 1, heads: 2, d_model: 16, max_len: 24, pos: ape }
train: { steps: 4, batch: 8, lr: 0.003, warmup: 0, eval_every: 100, eval_size: 4, log_every: 1, checkpoint_every: 100 }
`;
const configFile = path.join(dir, 'tiny.yaml');
fs.writeFileSync(configFile, TINY);
const STAGES = 'task.curriculum=[{until_step: 1, train_digits: [1, 1]}, {until_step: 2, train_digits: [2, 2]}]';

beforeAll(async () => {
  await selectBackend(testBackend('wasm'));
});

/** A fresh-sampling task; each test names what it is about. */
const taskWith = (fields: Partial<TaskSpec>): TaskSpec => ({
  op: 'add',
  trainDigits: [3, 5],
  testDigits: [3, 5],
  testSize: 10,
  trainSize: null,
  sampling: 'uniform',
  operandLengths: 'independent',
  ...fields,
});

describe('the stage of a step', () => {
  const task = taskWith({
    curriculum: [
      { untilStep: 10, trainDigits: [1, 1] },
      { untilStep: 20, trainDigits: [1, 2] },
    ],
  });

  it('steps up to each until_step draw from its range, later steps from train_digits', () => {
    expect([1, 10, 11, 20, 21, 1000].map((step) => trainDigitsAt(task, step))).toEqual([
      [1, 1],
      [1, 1],
      [1, 2],
      [1, 2],
      [3, 5],
      [3, 5],
    ]);
    expect(trainDigitsAt({ ...task, curriculum: [] }, 1)).toEqual([3, 5]);
  });

  it('the stream draws each batch from its step’s lengths, and every length of the stage comes out', () => {
    const stream = new TrainStream(task, 4, new Set());
    const lengths = (step: number) => new Set(stream.next(400, step).flatMap((p) => [p.a.toString().length, p.b.toString().length]));
    expect(lengths(10)).toEqual(new Set([1]));
    expect(lengths(11)).toEqual(new Set([1, 2]));
    expect(lengths(21)).toEqual(new Set([3, 4, 5]));
  });
});

describe('a stage with its own sampling', () => {
  const task = taskWith({
    op: 'mul',
    trainDigits: [4, 4],
    testDigits: [4, 4],
    sampling: 'large-digits',
    curriculum: [{ untilStep: 10, trainDigits: [4, 4], sampling: 'uniform' }],
  });
  const allLarge = (x: bigint) => [...x.toString()].every((d) => d >= '5');

  it('draws its steps uniformly and the steps after it as the task says', () => {
    expect(samplerAt(task, 10).sampling).toBe('uniform');
    expect(samplerAt(task, 11).sampling).toBe('large-digits');
    // A stage without its own sampling keeps the task's.
    expect(samplerAt({ ...task, curriculum: [{ untilStep: 10, trainDigits: [3, 3] }] }, 1)).toMatchObject({
      sampling: 'large-digits',
      trainDigits: [3, 3],
    });
    const stream = new TrainStream(task, 4, new Set());
    const largeShare = (step: number) => stream.next(2000, step).filter((p) => allLarge(p.a) && allLarge(p.b)).length / 2000;
    expect(largeShare(10)).toBeLessThan(0.02);
    expect(largeShare(11)).toBeGreaterThan(0.2);
  });

  it('the description names each stage’s sampling when they differ', () => {
    expect(describeCurriculum(task)).toBe('curriculum: steps 1-10: 4 digits, uniform; then 4 digits, large-digits');
    expect(describeCurriculum({ ...task, largeDigitsShare: 0.5 })).toBe(
      'curriculum: steps 1-10: 4 digits, uniform; then 4 digits, large-digits 50%',
    );
    expect(describeCurriculum({ ...task, sampling: 'large-sums', largeSums: { share: 0.3, from: 180 } })).toBe(
      'curriculum: steps 1-10: 4 digits, uniform; then 4 digits, large-sums 30% from 180',
    );
    expect(describeCurriculum({ ...task, sampling: 'large-mixed' })).toBe(
      'curriculum: steps 1-10: 4 digits, uniform; then 4 digits, large-mixed',
    );
    expect(describeCurriculum({ ...task, sampling: 'large-mixed', largeDigitsShare: 0.125 })).toBe(
      'curriculum: steps 1-10: 4 digits, uniform; then 4 digits, large-mixed (large digits 12.5%, large sums 25% from 150)',
    );
    expect(describeCurriculum({ ...task, curriculum: [{ untilStep: 10, trainDigits: [3, 3] }] })).toBe(
      'curriculum: steps 1-10: 3 digits; then 4 digits',
    );
  });
});

describe('held-out problems of a stage’s lengths', () => {
  it('a length trained only in a stage keeps 90% of its problems for training, so the stage can draw', () => {
    const task = taskWith({
      op: 'mul',
      trainDigits: [4, 4],
      testDigits: [1, 4],
      testSize: 500,
      curriculum: [{ untilStep: 5, trainDigits: [1, 1] }],
    });
    expect([1, 2, 3].map((digits) => testSetSize(task, digits))).toEqual([10, 500, 500]);
    expect(testSetSize({ ...task, curriculum: [] }, 1)).toBe(100);
    const heldOut = heldOutKeys(buildTestSets(task, 0));
    const drawn = new TrainStream(task, 0, heldOut).next(200, 1);
    expect(new Set(drawn.map((p) => p.a.toString().length))).toEqual(new Set([1]));
    for (const p of drawn) expect(heldOut.has(problemKey(p))).toBe(false);
  });
});

describe('bad curricula are one line naming the stage', () => {
  const cases: [string, string[], string, RegExp][] = [
    [
      'stages out of order',
      ['task.curriculum=[{until_step: 3, train_digits: [1, 1]}, {until_step: 2, train_digits: [2, 2]}]'],
      'task.curriculum.1.until_step',
      /^2 must be after the stage before it \(until_step 3\)$/,
    ],
    [
      'a stage that outlasts training',
      ['task.curriculum=[{until_step: 4, train_digits: [1, 1]}]'],
      'task.curriculum.0.until_step',
      /^4 is not before the last of train.steps 4: task.train_digits would never be trained$/,
    ],
    [
      'a stage longer than train_digits',
      ['task.curriculum=[{until_step: 2, train_digits: [1, 4]}]'],
      'task.curriculum.0.train_digits',
      /^\[1, 4\] is longer than task.train_digits \[1, 3\], which sizes the model and the format/,
    ],
    [
      'a fixed training set',
      [STAGES, 'task.train_size=50'],
      'task.curriculum',
      /a fixed training set \(task.train_size 50\) has none to draw, set it to null/,
    ],
    ['a stage without its range', ['task.curriculum=[{until_step: 2}]'], 'task.curriculum.0.train_digits', /expected tuple/i],
    [
      'a stage sampling another op’s way',
      ['task.curriculum=[{until_step: 2, train_digits: [1, 1], sampling: balanced}]'],
      'task.curriculum.0.sampling',
      /^balanced sampling balances carries and is defined for addition only$/,
    ],
  ];
  it.each(cases)('%s', (_what, overrides, field, message) => {
    let caught: unknown;
    try {
      loadConfig(configFile, overrides);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UserError);
    expect((caught as UserError).details.field).toBe(field);
    expect((caught as UserError).message).toMatch(message);
  });
});

describe('training with a curriculum', () => {
  it('an interrupted run resumes at its step’s stage: metrics equal an uninterrupted run, and differ from no curriculum', async () => {
    const config = loadConfig(configFile, [STAGES]);
    const [whole, parts, plain] = ['whole', 'parts', 'plain'].map((name) => path.join(dir, name));
    for (const d of [whole, parts, plain]) fs.mkdirSync(d);
    const losses = await trainWhole(config, whole);
    expect(await trainInterruptedAfterStep1(config, parts)).toEqual(losses);
    // The stages changed what the first steps trained on (1- and 2-digit problems only).
    expect((await trainWhole(loadConfig(configFile), plain))[0].loss).not.toBe(losses[0].loss);
  }, 60_000);

  it('step 1 trains on the first stage: its loss equals a run trained on that range alone, step 2 differs', async () => {
    const staged = path.join(dir, 'staged');
    const ones = path.join(dir, 'ones');
    for (const d of [staged, ones]) fs.mkdirSync(d);
    (await train(loadConfig(configFile, ['task.curriculum=[{until_step: 1, train_digits: [1, 1]}]']), staged)).model.dispose();
    (await train(loadConfig(configFile, ['task.train_digits=[1, 1]']), ones)).model.dispose();
    const [a, b] = [staged, ones].map((d) => readMetrics(path.join(d, 'metrics.jsonl')).map((r) => r.loss));
    expect(a[0]).toBe(b[0]);
    expect(a[1]).not.toBe(b[1]);
  }, 60_000);

  it('`arith-lab data` shows the stages and the first batch, drawn from the first stage', () => {
    const cli = path.resolve('bin/arith-lab.js');
    const result = spawnSync(process.execPath, [cli, 'data', '--config', configFile, '--set', STAGES, '--show', '6'], {
      encoding: 'utf8',
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('curriculum: step 1: 1 digit; step 2: 2 digits; then 1-3 digits (shown: the first batch)');
    const shown = result.stdout.split('\n').filter((line) => line.startsWith('problem '));
    expect(shown).toHaveLength(6);
    for (const line of shown) expect(line).toMatch(/^problem \d\*\d = \d+$/);
  });
});
