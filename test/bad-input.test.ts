import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { applyOverrides, loadConfig, nameFromFile, parseConfig } from '../src/config/load.ts';
import { checkMemory, decodeBytes, estimateTrainingMemory, longestDecodable, machineLimits } from '../src/config/memoryEstimate.ts';
import { prepareExperiment } from '../src/config/experiment.ts';
import { parameterSpecs } from '../src/models/gpt.ts';
import { getPositionalEncoding } from '../src/models/positional/index.ts';
import { escapeControl, quoteInput, UserError } from '../src/errors.ts';
import { writeQuery } from '../src/inference/query.ts';
import { readRun } from '../src/report/readRun.ts';
import { buildReport } from '../src/report/report.ts';
import { METRICS_FILE } from '../src/runs/paths.ts';
import { fabricateRun } from './fixtures/reportRuns.ts';

// Issue 13's "silently accepted" and "stack trace" inputs that need no trained model: each must end in one
// UserError naming the field, or be handled and said so.

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-bad-input-'));
// biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for control characters.
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

function errorOf(fn: () => unknown): UserError {
  try {
    fn();
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
  throw new Error('expected a UserError');
}

const base = () => ({
  seed: 0,
  task: { op: 'add', train_digits: [1, 3], test_digits: [1, 4] },
  format: { name: 'reversed-padded', pad_width: 3 },
  model: { layers: 1, heads: 2, d_model: 16, max_len: 32, pos: 'rope' },
  train: { steps: 10 },
});

/** The base config with `model` fields replaced, as a raw object for parseConfig. */
const withModel = (fields: Record<string, unknown>) => {
  const raw = base() as unknown as Record<string, Record<string, unknown>>;
  raw.model = { ...raw.model, ...fields };
  return raw;
};

describe('--set', () => {
  it('a value that is not YAML is one line naming the override', () => {
    const error = errorOf(() => applyOverrides(base(), ['train.steps=[1']));
    expect(error.details.field).toBe('--set train.steps');
    expect(error.toString()).toMatch(/^--set train\.steps: the value is not valid YAML: Flow sequence must end/);
    expect(error.toString()).not.toContain('\n');
    // A YAML warning (an unknown tag) is refused too, rather than printed raw by the parser.
    expect(errorOf(() => applyOverrides(base(), ['seed=!Eq 1'])).toString()).toMatch(
      /^--set seed: the value is not valid YAML: Unresolved tag/,
    );
  });

  it('__proto__ names the key and pollutes nothing', () => {
    for (const key of ['__proto__.steps=5', 'constructor.prototype.steps=5', 'train.__proto__.steps=5']) {
      const raw = base();
      const error = errorOf(() => applyOverrides(raw, [key]));
      expect(error.message).toMatch(/unknown key "(__proto__|constructor)"/);
      expect(error.details.field).toMatch(/^--set (train\.)?(__proto__|constructor)$/);
      expect(({} as Record<string, unknown>).steps).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('steps');
    }
  });

  it('still sets ordinary fields and makes missing sections', () => {
    const raw: Record<string, unknown> = base();
    applyOverrides(raw, ['train.steps=7', 'model.pos=alibi', 'format.pad_width=null']);
    expect(parseConfig(raw, 'x').train.steps).toBe(7);
    expect(parseConfig(raw, 'x').model.pos).toBe('alibi');
  });
});

describe('config checks across fields', () => {
  it('pad_width narrower than the training operands is refused for formats that pad', () => {
    const raw = base();
    raw.format.pad_width = 2;
    const error = errorOf(() => parseConfig(raw, 'f.yaml'));
    expect(error.details.field).toBe('format.pad_width');
    expect(error.message).toMatch(/narrower than the 3-digit training operands/);
    // zero-padded pads too; reversed writes operands in full and ignores the width.
    expect(errorOf(() => parseConfig({ ...raw, format: { name: 'zero-padded', pad_width: 2 } }, 'f')).details.field).toBe(
      'format.pad_width',
    );
    expect(parseConfig({ ...raw, format: { name: 'reversed', pad_width: 2 } }, 'f').format.pad_width).toBe(2);
    expect(parseConfig({ ...raw, format: { name: 'reversed-padded', pad_width: 4 } }, 'f').format.pad_width).toBe(4);
  });

  it('format.pad_extra with a format that writes no padding is refused', () => {
    const raw = base();
    const error = errorOf(() => parseConfig({ ...raw, format: { name: 'reversed', pad_extra: 1 } }, 'f.yaml'));
    expect(error.details.field).toBe('format.pad_extra');
    expect(error.message).toMatch(/written only by format reversed-padded, not "reversed"/);
    expect(parseConfig({ ...raw, format: { name: 'reversed-padded', pad_extra: 1 } }, 'f').format.pad_extra).toBe(1);
  });

  it('a t5_max_distance within the exact buckets is refused (its log-spaced buckets would be undefined)', () => {
    const raw = base();
    Object.assign(raw.model, { pos: 't5', t5_buckets: 32, t5_bidirectional: true, t5_max_distance: 8 });
    const error = errorOf(() => parseConfig(raw, 'f.yaml'));
    expect(error.details.field).toBe('model.t5_max_distance');
    expect(error.message).toMatch(/8 must exceed the 8 exact distances of 32 bidirectional buckets .* at least 9/);
    expect(parseConfig({ ...raw, model: { ...(raw.model as object), t5_max_distance: 9 } }, 'f').model.t5_max_distance).toBe(9);
  });

  it('a rope_fraction that rotates no dimension is refused, with the smallest that does', () => {
    const raw = base();
    (raw.model as Record<string, unknown>).rope_fraction = 0.01;
    const error = errorOf(() => parseConfig(raw, 'f.yaml'));
    expect(error.details.field).toBe('model.rope_fraction');
    expect(error.message).toMatch(/rotates no dimension.*at least 0\.25/);
    // 0.25 of an 8-dimension head rotates 2: fine. Without rope the option is unused.
    expect(parseConfig({ ...raw, model: { ...raw.model, rope_fraction: 0.25 } }, 'f').model.rope_fraction).toBe(0.25);
    expect(parseConfig({ ...raw, model: { ...raw.model, pos: 'nope' } }, 'f').model.pos).toBe('nope');
  });

  it('schema bounds are finite', () => {
    for (const [section, field, value] of [
      ['model', 'max_len', 2 ** 31],
      ['model', 'd_model', 2 ** 21],
      ['train', 'batch', 2 ** 31],
      ['task', 'test_size', 1e10],
    ] as const) {
      const raw = base() as unknown as Record<string, Record<string, unknown>>;
      raw[section][field] = value;
      const error = errorOf(() => parseConfig(raw, 'f'));
      expect(error.details.field).toBe(`${section}.${field}`);
      expect(error.message).toMatch(/Too big/);
    }
  });
});

describe('model.mlp as a list', () => {
  it('needs one kind per block: a list of another length is refused naming model.mlp; the right length loads', () => {
    for (const kinds of [['bilinear'], ['bilinear', 'gelu', 'gelu']]) {
      const error = errorOf(() => parseConfig(withModel({ layers: 2, mlp: kinds }), 'f'));
      expect(error.details).toEqual({ file: 'f', field: 'model.mlp' });
      expect(error.message).toBe(`lists ${kinds.length} MLP kinds for model.layers 2: give one kind, or one per block`);
    }
    expect(parseConfig(withModel({ layers: 2, mlp: ['bilinear', 'gelu'] }), 'f').model.mlp).toEqual(['bilinear', 'gelu']);
  });
});

describe('model.d_ff as a list', () => {
  it('needs one width per block: a list of another length is refused naming model.d_ff; the right length sizes each block', () => {
    for (const widths of [[96], [32, 96, 64]]) {
      const error = errorOf(() => parseConfig(withModel({ layers: 2, d_ff: widths }), 'f'));
      expect(error.details).toEqual({ file: 'f', field: 'model.d_ff' });
      expect(error.message).toBe(`lists ${widths.length} MLP widths for model.layers 2: give one width, or one per block`);
    }
    const raw = withModel({ layers: 2, d_ff: [32, 96], mlp: ['bilinear', 'gelu'] });
    const shapes = Object.fromEntries(
      parameterSpecs(prepareExperiment(parseConfig(raw, 'f')).model, getPositionalEncoding('nope')).map((spec) => [spec.name, spec.shape]),
    );
    const d = parseConfig(raw, 'f').model.d_model;
    expect([shapes['blocks.0.mlp.c_fc.weight'], shapes['blocks.0.mlp.c_gate.weight'], shapes['blocks.0.mlp.c_proj.weight']]).toEqual([
      [d, 32],
      [d, 32],
      [32, d],
    ]);
    expect([shapes['blocks.1.mlp.c_fc.weight'], shapes['blocks.1.mlp.c_gate.weight'], shapes['blocks.1.mlp.c_proj.weight']]).toEqual([
      [d, 96],
      undefined,
      [96, d],
    ]);
  });
});

describe('memory estimate', () => {
  const ape = 'configs/addition-ape.yaml';

  it.each([
    ['model.max_len=1e9', 'model.max_len', /about 1 TB.*learned position table \(1,000,000,000 x 64\)/],
    ['model.d_model=1048576', 'model.d_model', /about 422\.5 TB.*weights \(2 layers, d_model 1,048,576/],
    ['train.batch=10000000', 'train.batch', /about 3 TB.*activations \(10,000,000 problems/],
    ['task.test_size=1e8', 'task.test_size', /408,181,820 held-out problems are more than the 16,777,216/],
  ])('--set %s is refused naming %s, before anything is allocated', (override, field, message) => {
    const started = performance.now();
    const error = errorOf(() => loadConfig(ape, [override]));
    expect(error.details).toEqual({ file: ape, field });
    expect(error.message).toMatch(message);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('every shipped config fits this machine', () => {
    for (const file of fs.readdirSync('configs')) expect(() => loadConfig(path.join('configs', file))).not.toThrow();
  });

  it('names the biggest part of the pool over its limit', () => {
    const config = loadConfig(ape);
    const tensors = estimateTrainingMemory(config)
      .filter((t) => t.pool === 'tensors')
      .reduce((sum, t) => sum + t.bytes, 0);
    expect(() => checkMemory(config, ape, { tensors, heap: 1e12 })).not.toThrow();
    const error = errorOf(() => checkMemory(config, ape, { tensors: tensors - 1, heap: 1e12 }));
    expect(error.details.field).toBe('train.batch');
    expect(errorOf(() => checkMemory(config, ape, { tensors: 1e12, heap: 1000 })).message).toMatch(/JavaScript heap/);
    // wasm's 32-bit heap ends at 4 GiB whatever the machine has; a GPU's memory is not the machine's.
    expect(machineLimits({ backend: 'wasm', device: 'cpu' }).tensors).toBeLessThanOrEqual(4 * 2 ** 30);
    expect(machineLimits({ backend: 'torch', device: 'cuda' }).tensors).toBe(256 * 2 ** 30);
  });

  it('predict caps operand length by what decoding may take', () => {
    const experiment = prepareExperiment(loadConfig('configs/addition-rope.yaml'));
    const longest = longestDecodable(experiment.model, 1e9);
    expect(decodeBytes(experiment.model, longest)).toBeLessThanOrEqual(1e9);
    expect(decodeBytes(experiment.model, longest + 1)).toBeGreaterThan(1e9);
    const huge = 10n ** 6000n - 1n;
    const written = writeQuery(experiment, { op: 'add', a: huge, b: 1n });
    expect(written.ok).toBe(false);
    if (!written.ok) expect(written.error).toMatch(/needs at least 6,001 tokens; decoding more than [\d,]+ would take over [\d.]+ GB/);
    expect(writeQuery(experiment, { op: 'add', a: 10n ** 40n, b: 1n }).ok).toBe(true);
  });
});

describe('config files', () => {
  it('a file name that is not a valid run name gives a derived one', () => {
    const file = path.join(dir, '配置 ü.yaml');
    fs.copyFileSync('configs/addition-ape.yaml', file);
    expect(loadConfig(file).name).toBe('u');
    expect(nameFromFile('my config (v2).yaml')).toBe('my-config-v2');
    expect(nameFromFile('配置.yaml')).toBe('run');
    // A name the user wrote is theirs to fix.
    expect(errorOf(() => loadConfig(file, ['name=my run'])).details.field).toBe('name');
  });

  it('random bytes: one escaped line, and nothing printed by the YAML parser', () => {
    const warn = vi.spyOn(process, 'emitWarning');
    let state = 13;
    const byte = () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state >>> 23;
    };
    let sawControl = 0;
    for (let i = 0; i < 200; i++) {
      const file = path.join(dir, 'random.yaml');
      fs.writeFileSync(file, Uint8Array.from({ length: 4096 }, byte));
      const error = errorOf(() => loadConfig(file));
      if (CONTROL.test(error.message)) sawControl += 1;
      expect(error.toString()).not.toMatch(CONTROL);
      expect(error.toString().length).toBeLessThan(400);
    }
    // Known cases too: a control character in a key, in a YAML error, in a tag.
    const cases = [
      `${fs.readFileSync('configs/addition-ape.yaml', 'utf8')}\n"\u001b[2Jbad\u0007": 1\n`,
      '%\u001b]0;title\u0007\n---\na: 1\n',
    ];
    const file = path.join(dir, 'control.yaml');
    for (const text of cases) {
      fs.writeFileSync(file, text);
      const line = errorOf(() => loadConfig(file)).toString();
      expect(line).not.toMatch(CONTROL);
      expect(line).toMatch(/\\x1b/);
    }
    // An unknown tag was a warning the parser printed raw to stderr; now it is the error.
    fs.writeFileSync(file, 'seed: !Eq 1\n');
    expect(errorOf(() => loadConfig(file)).toString()).toMatch(/invalid YAML: Unresolved tag/);
    expect(sawControl).toBeGreaterThan(0);
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
  });

  it('escaping and quoting', () => {
    expect(escapeControl('a\u001b[31mb\nc\u202ed')).toBe('a\\x1b[31mb\\nc\\u202ed');
    expect(escapeControl('配置 ü')).toBe('配置 ü');
    expect(quoteInput('x'.repeat(10_000_000))).toBe(`"${'x'.repeat(60)}"... (10,000,000 characters)`);
    expect(new UserError('bad \u0007', { file: 'f\u001b.yaml' }).toString()).toBe('f\\x1b.yaml: bad \\x07');
  });
});

describe('report', () => {
  it('--out a directory is refused before anything is written', async () => {
    const run = await fabricateRun(path.join(dir, 'run-out'), { steps: 500 });
    const out = path.join(dir, 'out-dir');
    fs.mkdirSync(out);
    const error = errorOf(() => buildReport([run], { out }));
    expect(error.details.field).toBe('--out');
    expect(error.message).toMatch(/is a directory/);
    expect(fs.readdirSync(out)).toEqual([]);
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const file = path.join(dir, 'a-file');
    fs.writeFileSync(file, 'keep');
    expect(errorOf(() => buildReport([run], { out: path.join(file, 'page.html') })).message).toMatch(/is not a directory/);
    expect(fs.readFileSync(file, 'utf8')).toBe('keep');
  });

  it('metrics with repeated steps: one record per step is drawn, and a note says so', async () => {
    const run = await fabricateRun(path.join(dir, 'run-repeated'), { steps: 500 });
    const metrics = path.join(run, METRICS_FILE);
    const lines = fs.readFileSync(metrics, 'utf8').trim().split('\n');
    // A second training appended the first 20 steps again, with other losses.
    const again = lines.slice(0, 20).map((line) => JSON.stringify({ ...JSON.parse(line), loss: 9 }));
    fs.appendFileSync(metrics, `${again.join('\n')}\n`);
    const data = readRun(run);
    expect(data.metrics.length).toBe(lines.length);
    expect(new Set(data.metrics.map((r) => r.step)).size).toBe(lines.length);
    expect(data.metrics[0].loss).toBe(9);
    const note = data.notes.find((n) => n.includes('repeat'));
    expect(note).toMatch(/20 lines repeat a step already logged \(20 steps, first \d+\)/);
    const result = buildReport([run], { out: path.join(dir, 'repeated.html') });
    expect(result.notes).toContain(note);
    expect(fs.readFileSync(result.file, 'utf8')).toContain('repeat a step already logged');
  });
});
