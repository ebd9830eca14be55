import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { trainCommand } from '../src/cli/train.ts';
import { loadConfig } from '../src/config/load.ts';
import { UserError } from '../src/errors.ts';
import { expectedParameters, prepareResume, writeCheckpoint } from '../src/experiments/checkpoint.ts';
import type { NamedTensor } from '../src/experiments/safetensors.ts';
import { prepareExperiment } from '../src/config/experiment.ts';
import { MODEL_FILE, STATE_FILE } from '../src/runs/paths.ts';
import type { RunStatus } from '../src/runs/records.ts';
import { createRunDir, writeResolvedConfig, writeRunInfo } from '../src/runs/runDirectory.ts';

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
    if (!(error instanceof UserError)) throw error;
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

  it("reads a positional encoding's options as model.<snake_case> fields into the model config's names", () => {
    const file = writeConfig('rope.yaml', YAML.stringify(base));
    const { model } = prepareExperiment(loadConfig(file, ['model.pos=rope', 'model.rope_fraction=0.25', 'model.rope_base=500']));
    expect(model).toMatchObject({ pos: 'rope', ropeFraction: 0.25, ropeBase: 500 });
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
    ['rope_fraction out of range', (c) => (c.model.rope_fraction = 0), 'model.rope_fraction', /expected number to be >0/],
    ['min_lr above lr', (c) => (c.train.min_lr = 0.01), 'train.min_lr', /above lr/],
    ['a cooldown of no steps', (c) => (c.train.cooldown = 0), 'train.cooldown', /expected number to be >0/],
    ['a cooldown longer than the run', (c) => (c.train.cooldown = 1.5), 'train.cooldown', /expected number to be <=1/],
    ['sequence too long for max_len', (c) => (c.model.max_len = 10), 'model.max_len', /need up to \d+ tokens/],
    [
      'APE cannot reach the test lengths',
      (c) => ((c.model.pos = 'ape'), (c.model.max_len = 24)),
      'task.test_digits',
      /learned "ape" table/,
    ],
    [
      'scratchpad cannot multiply',
      (c) => ((c.task.op = 'mul'), (c.format.name = 'scratchpad-simple'), (c.model.max_len = 400)),
      'format.name',
      /cannot express task.op "mul"/,
    ],
    [
      'balanced sampling for multiplication',
      (c) => ((c.task.op = 'mul'), (c.task.sampling = 'balanced')),
      'task.sampling',
      /addition only/,
    ],
    [
      'training set larger than the problem space',
      (c) => ((c.task.train_digits = [1, 1]), (c.task.train_size = 100)),
      'task.train_size',
      /only 90 distinct problems/,
    ],
    ['bad run name', (c) => (c.name = 'my run'), 'name', /letters, digits/],
    ['checkpoint_every zero', (c) => (c.train.checkpoint_every = 0), 'train.checkpoint_every', /expected number to be >0/],
    ['keep_checkpoints fractional', (c) => (c.train.keep_checkpoints = 1.5), 'train.keep_checkpoints', /expected int/],
    ['an unknown encoding in a list', (c) => (c.model.pos = ['ape', 'fire2']), 'model.pos', /expected one of .*"fire".*, or a list/],
    ['an empty list of encodings', (c) => (c.model.pos = []), 'model.pos', /at least one scheme/],
    [
      'two input-side encodings',
      (c) => (c.model.pos = ['ape', 'sinusoidal']),
      'model.pos',
      /\[ape, sinusoidal\]: ape and sinusoidal both add to the embeddings; combine at most one input-side/,
    ],
    ['two attention-side encodings', (c) => (c.model.pos = ['rope', 'fire']), 'model.pos', /rope and fire both act in attention/],
    ['recurrence below 1', (c) => (c.model.recurrence = 0), 'model.recurrence', /at least 1 pass/],
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

  it('accepts a list of one input-side and one attention-side encoding, and a looped model', () => {
    const file = writeConfig('combined.yaml', YAML.stringify(base));
    const config = loadConfig(file, ['model.pos=[ape, fire]', 'model.recurrence=3', 'model.max_len=64']);
    expect(config.model.pos).toEqual(['ape', 'fire']);
    expect(prepareExperiment(config).model).toMatchObject({ pos: ['ape', 'fire'], recurrence: 3 });
    expect(loadConfig(file).model.recurrence).toBe(1);
  });

  it('rejects a malformed --set', () => {
    const file = writeConfig('set.yaml', YAML.stringify(base));
    expect(errorOf(() => loadConfig(file, ['train.steps'])).details.field).toBe('--set');
    expect(errorOf(() => loadConfig(file, ['seed.x=1'])).message).toMatch(/"seed" is not a section/);
  });
});

describe('bad run directories and resume requests', () => {
  const runs = path.join(dir, 'runs');
  const tinyFile = writeConfig(
    'tiny-run.yaml',
    YAML.stringify({ ...base, model: { ...base.model, layers: 1, d_model: 16, heads: 2 }, train: { ...base.train, steps: 20 } }),
  );
  const tiny = loadConfig(tinyFile);

  /** A run directory as training leaves it, with zero-valued checkpoints (no tensors needed). */
  function fakeRun(name: string, options: { checkpoints?: number[]; status?: RunStatus } = {}): string {
    const runDir = path.join(runs, name);
    fs.mkdirSync(runDir, { recursive: true });
    writeResolvedConfig(runDir, tiny);
    writeRunInfo(runDir, {
      status: options.status ?? 'interrupted',
      name,
      backend: 'cpu',
      started_at: '',
      updated_at: '',
      versions: {},
      git_commit: null,
    });
    const shapes = expectedParameters(prepareExperiment(tiny).model);
    const zeros = (prefix: string) =>
      Object.fromEntries(
        [...shapes].map(([n, shape]) => [prefix + n, { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) }]),
      ) as Record<string, NamedTensor>;
    for (const step of options.checkpoints ?? [10]) {
      const state = {
        stream: { random: {}, cursor: 0, epoch: 0 },
        optimizer_step: step,
        train_seconds: 0,
        window: { tokens: 0, seconds: 0 },
        last_record: null,
        backend: 'cpu',
      };
      writeCheckpoint(runDir, { step, model: zeros(''), optimizer: { ...zeros('adam.m.'), ...zeros('adam.v.') }, state }, 5);
    }
    return runDir;
  }
  const checkpointFile = (runDir: string, step: number, file: string) =>
    path.join(runDir, 'checkpoints', `step-${String(step).padStart(6, '0')}`, file);
  const train = (args: Record<string, unknown>) => trainCommand.handler({ set: [], runs: runs, overwrite: false, ...args } as never);

  /** Every file under a folder with its size and modification time: what "nothing written" compares. */
  function snapshot(folder: string): string[] {
    if (!fs.existsSync(folder)) return [];
    return (fs.readdirSync(folder, { recursive: true }) as string[]).sort().map((name) => {
      const stat = fs.statSync(path.join(folder, name));
      return `${name} ${stat.size} ${stat.mtimeMs}`;
    });
  }

  // Each case: a setup that returns the call to make, the file and field the error must name, and its message.
  const cases: [string, () => () => unknown, (runDir: string) => string | undefined, string | undefined, RegExp][] = [
    [
      'resume: the directory does not exist',
      () => () => prepareResume(path.join(runs, 'missing')),
      () => path.join(runs, 'missing'),
      undefined,
      /^run directory not found$/,
    ],
    ['resume: a file, not a directory', () => () => prepareResume(tinyFile), () => tinyFile, undefined, /^not a directory$/],
    [
      'resume: a directory that is not a run',
      () => {
        fs.mkdirSync(path.join(runs, 'stuff'), { recursive: true });
        fs.writeFileSync(path.join(runs, 'stuff', 'notes.txt'), 'hello');
        return () => prepareResume(path.join(runs, 'stuff'));
      },
      () => path.join(runs, 'stuff'),
      undefined,
      /^not a run directory \(no config.yaml or run.json\)$/,
    ],
    [
      'resume: run.json missing',
      () => {
        const runDir = fakeRun('no-run-json');
        fs.rmSync(path.join(runDir, 'run.json'));
        return () => prepareResume(runDir);
      },
      () => path.join(runs, 'no-run-json'),
      undefined,
      /^not a run directory \(no run.json\)$/,
    ],
    [
      "resume: the run's config.yaml edited into an invalid one",
      () => {
        const runDir = fakeRun('bad-config');
        fs.appendFileSync(path.join(runDir, 'config.yaml'), 'extra: 1\n');
        return () => prepareResume(runDir);
      },
      () => path.join(runs, 'bad-config', 'config.yaml'),
      'extra',
      /unknown key/,
    ],
    [
      'resume: the only checkpoint truncated',
      () => {
        const runDir = fakeRun('truncated');
        fs.truncateSync(checkpointFile(runDir, 10, MODEL_FILE), 300);
        return () => prepareResume(runDir);
      },
      () => path.join(runs, 'truncated'),
      undefined,
      /^no usable checkpoint \(checkpoint step-000010 is unusable: model.safetensors: 300 bytes, state.json recorded \d+ \(truncated\?\)\)$/,
    ],
    [
      "resume: every checkpoint's state.json cut short",
      () => {
        const runDir = fakeRun('bad-state', { checkpoints: [10, 20] });
        for (const step of [10, 20]) fs.truncateSync(checkpointFile(runDir, step, STATE_FILE), 40);
        return () => prepareResume(runDir);
      },
      () => path.join(runs, 'bad-state'),
      undefined,
      /^no usable checkpoint \(checkpoint step-000020 is unusable: state.json: unreadable .*; checkpoint step-000010 is unusable: state.json: unreadable/,
    ],
    [
      'resume: checkpoint of a different model than config.yaml',
      () => {
        const runDir = fakeRun('other-model');
        writeResolvedConfig(runDir, { ...tiny, model: { ...tiny.model, d_model: 32 } });
        return () => prepareResume(runDir);
      },
      () => path.join(runs, 'other-model'),
      undefined,
      /model.safetensors: tensor wte.weight has shape \[\d+,16\], the run's config needs \[\d+,32\]/,
    ],
    [
      'resume: the run already finished',
      () => {
        const runDir = fakeRun('finished', { checkpoints: [10, 20], status: 'finished' });
        return () => prepareResume(runDir);
      },
      () => path.join(runs, 'finished'),
      undefined,
      /^the run already finished all 20 steps; nothing to resume$/,
    ],
    [
      '--resume together with --config',
      () => {
        const runDir = fakeRun('with-config');
        return () => train({ resume: runDir, config: tinyFile });
      },
      () => undefined,
      '--resume',
      /drop --config and --set/,
    ],
    [
      'train with neither --config nor --resume',
      () => () => train({}),
      () => undefined,
      '--config',
      /name a config with --config FILE, a run to continue with --resume DIR, or one to branch with --fork DIR/,
    ],
    [
      '--run-dir exists and is not empty, without --overwrite',
      () => {
        const runDir = fakeRun('occupied');
        return () => createRunDir({ root: runs, name: 'x', explicit: runDir });
      },
      () => path.join(runs, 'occupied'),
      '--run-dir',
      /exists and is not empty \(pass --overwrite to replace it, or --resume to continue it\)/,
    ],
    [
      '--run-dir is a file',
      () => () => createRunDir({ root: runs, name: 'x', explicit: tinyFile }),
      () => tinyFile,
      '--run-dir',
      /exists and is not a directory/,
    ],
  ];

  for (const [label, setup, file, field, message] of cases) {
    it(`rejects: ${label}, writing nothing`, async () => {
      const call = setup();
      const before = snapshot(runs);
      let error: unknown;
      try {
        await call();
      } catch (thrown) {
        error = thrown;
      }
      expect(error).toBeInstanceOf(UserError);
      const userError = error as UserError;
      expect(userError.details.file).toBe(file(runs));
      expect(userError.details.field).toBe(field);
      expect(userError.message).toMatch(message);
      expect(snapshot(runs)).toEqual(before);
    });
  }
});

describe('--recurrence on bad input (the real CLI)', () => {
  for (const command of ['predict', 'probe']) {
    it(`${command} --recurrence 0 exits 2 with one line`, () => {
      const result = spawnSync(process.execPath, ['bin/arith-lab.js', command, path.join(dir, 'no-run'), '--recurrence', '0'], {
        encoding: 'utf8',
      });
      expect(result.status).toBe(2);
      expect(result.stderr).toBe('arith-lab: error: --recurrence: expected a whole number of passes, at least 1, got 0\n');
    }, 60_000);
  }
});

describe('arith-lab train on bad input (the real CLI)', () => {
  it('exits 2 with one line naming file and field on stderr, and creates no run directory', () => {
    const config = structuredClone(base);
    config.model.d_model = 128;
    config.model.heads = 3;
    const file = writeConfig('cli-bad.yaml', YAML.stringify(config));
    const runs = path.join(dir, 'cli-runs');
    const result = spawnSync(process.execPath, ['bin/arith-lab.js', 'train', '--config', file, '--runs', runs], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`arith-lab: error: ${file}: model.d_model: d_model 128 must be divisible by model.heads 3\n`);
    expect(fs.existsSync(runs)).toBe(false);
  }, 60_000);
});
