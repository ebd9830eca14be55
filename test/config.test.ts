import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.ts';
import { UserError } from '../src/errors.ts';

const base = YAML.parse(fs.readFileSync('configs/addition-nope.yaml', 'utf8'));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-config-'));

function writeConfig(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

function errorOf(run: () => unknown): UserError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return error as UserError;
  }
  throw new Error('expected a UserError');
}

describe('loadConfig', () => {
  it('fills defaults, takes the name from the file and applies --set overrides with YAML types', () => {
    const file = writeConfig('tiny.yaml', YAML.stringify(base));
    const config = loadConfig(file, ['train.steps=7', 'model.pos=rope', 'task.train_digits=[2, 3]', 'model.tie_embeddings=false']);
    expect(config.name).toBe('tiny');
    expect(config.train.steps).toBe(7);
    expect(config.model.pos).toBe('rope');
    expect(config.task.train_digits).toEqual([2, 3]);
    expect(config.model.tie_embeddings).toBe(false);
    expect(config.model.rope_fraction).toBe(1);
    expect(config.train.beta2).toBe(0.99);
  });

  // Each case: a change to the base config, the field the error must name, and words the message must hold.
  const cases: [string, (c: any) => void, string, RegExp][] = [
    ['unknown top-level key', (c) => (c.sed = 1), 'sed', /unknown key/],
    ['unknown nested key', (c) => (c.model.layer = 2), 'model.layer', /unknown key/],
    ['wrong type', (c) => (c.model.layers = 'two'), 'model.layers', /expected number/],
    ['negative steps', (c) => (c.train.steps = -5), 'train.steps', /expected number to be >0|too small/i],
    ['fractional heads', (c) => (c.model.heads = 2.5), 'model.heads', /integer|int/i],
    ['unknown format', (c) => (c.format.name = 'reverse'), 'format.name', /expected one of .*"reversed"/],
    ['unknown positional encoding', (c) => (c.model.pos = 'rotary'), 'model.pos', /expected one of .*"rope"/],
    ['unknown backend', (c) => (c.backend = 'cuda'), 'backend', /expected one of .*"wasm"/],
    ['unknown op', (c) => (c.task.op = 'sub'), 'task.op', /expected one of "add", "mul"/],
    ['digit range reversed', (c) => (c.task.train_digits = [5, 1]), 'task.train_digits', /min <= max/],
    ['digit range not a pair', (c) => (c.task.test_digits = [3]), 'task.test_digits', /expected|too small/i],
    ['missing train section', (c) => delete c.train, 'train', /expected object/],
    ['missing steps', (c) => delete c.train.steps, 'train.steps', /expected number/],
    ['d_model not divisible by heads', (c) => (c.model.heads = 3), 'model.d_model', /divisible by model.heads 3/],
    ['dropout out of range', (c) => (c.model.dropout = 1.5), 'model.dropout', /0.9|too big/i],
    ['min_lr above lr', (c) => (c.train.min_lr = 0.01), 'train.min_lr', /above lr/],
    ['sequence too long for max_len', (c) => (c.model.max_len = 10), 'model.max_len', /need up to \d+ tokens/],
    ['APE cannot reach the test lengths', (c) => ((c.model.pos = 'ape'), (c.model.max_len = 24)), 'task.test_digits', /learned "ape" table/],
    ['scratchpad cannot multiply', (c) => ((c.task.op = 'mul'), (c.format.name = 'scratchpad-simple'), (c.model.max_len = 400)), 'format.name', /cannot express task.op "mul"/],
    ['balanced sampling for multiplication', (c) => ((c.task.op = 'mul'), (c.task.sampling = 'balanced')), 'task.sampling', /addition only/],
    ['training set larger than the problem space', (c) => ((c.task.train_digits = [1, 1]), (c.task.train_size = 100)), 'task.train_size', /only 90 distinct problems/],
    ['bad run name', (c) => (c.name = 'my run'), 'name', /letters, digits/],
  ];

  for (const [label, mutate, field, message] of cases) {
    it(`rejects: ${label}`, () => {
      const config = structuredClone(base);
      mutate(config);
      const file = writeConfig(`${label.replace(/\W+/g, '-')}.yaml`, YAML.stringify(config));
      const error = errorOf(() => loadConfig(file));
      expect(error.details.file).toBe(file);
      expect(error.details.field).toBe(field);
      expect(error.message).toMatch(message);
    });
  }

  it('rejects a missing, an empty and a non-YAML file, naming the file', () => {
    expect(errorOf(() => loadConfig(path.join(dir, 'nope.yaml'))).toString()).toMatch(/nope.yaml: config file not found/);
    expect(errorOf(() => loadConfig(writeConfig('empty.yaml', '  \n'))).toString()).toMatch(/empty.yaml: config file is empty/);
    expect(errorOf(() => loadConfig(writeConfig('bad.yaml', 'task: [1, 2\n'))).toString()).toMatch(/bad.yaml: invalid YAML/);
    expect(errorOf(() => loadConfig(writeConfig('list.yaml', '- 1\n- 2\n'))).message).toMatch(/expected a YAML mapping/);
    expect(errorOf(() => loadConfig(writeConfig('dup.yaml', 'seed: 1\nseed: 2\n'))).message).toMatch(/invalid YAML/);
  });

  it('rejects a malformed --set', () => {
    const file = writeConfig('set.yaml', YAML.stringify(base));
    expect(errorOf(() => loadConfig(file, ['train.steps'])).details.field).toBe('--set');
    expect(errorOf(() => loadConfig(file, ['seed.x=1'])).message).toMatch(/"seed" is not a section/);
  });
});
