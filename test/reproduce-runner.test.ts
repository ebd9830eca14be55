import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunStoppedError, UserError } from '../src/errors.ts';
import { planUnit, unitsOf } from '../src/experiments/reproduce/plan.ts';
import { reproduce, type ReproduceResult } from '../src/experiments/reproduce/reproduce.ts';
import type { Reproduction } from '../src/experiments/reproductions/reproduction.ts';
import { readMetrics } from '../src/runs/metricsLog.ts';
import type { RunInfo } from '../src/runs/records.ts';
import { writeResolvedConfig, writeRunInfo } from '../src/runs/runDirectory.ts';

/**
 * A two-cell toy table (a 1-layer d16 model, 80 steps of 8 problems): reproduce trains it in child processes,
 * continues after an interruption without retraining the finished cell, resumes the interrupted one from its
 * checkpoint, and gives the same numbers with --jobs 2 as with --jobs 1.
 */
const toy: Reproduction = {
  name: 'toy',
  title: 'Toy table',
  citation: 'Nobody 2026.',
  notes: ['Two cells.'],
  base: {
    seed: 0,
    backend: 'wasm',
    task: { op: 'add', train_digits: [1, 2], test_digits: [1, 3], test_size: 10 },
    format: { name: 'reversed-padded', pad_width: 2 },
    model: { layers: 1, heads: 2, d_model: 16, max_len: 16 },
    train: {
      steps: 80,
      batch: 8,
      lr: 3e-3,
      warmup: 5,
      eval_every: 10,
      eval_size: 5,
      log_every: 5,
      checkpoint_every: 20,
      keep_checkpoints: 2,
    },
  },
  rows: { label: '', entries: [{ id: 'all', label: 'toy', overrides: {} }] },
  columns: {
    label: 'pe',
    entries: [
      { id: 'nope', label: 'NoPE', overrides: { model: { pos: 'nope' } } },
      { id: 'alibi', label: 'ALiBi', overrides: { model: { pos: 'alibi' } } },
    ],
  },
  metrics: [
    { id: 'in', label: 'in range', read: (run) => 100 * (run.info.result?.accuracy_in_range ?? NaN) },
    {
      id: 'grid',
      label: 'length grid',
      read: (run) => 100 * ((run.probes.length as { summary?: { gridInRange: number } })?.summary?.gridInRange ?? NaN),
    },
  ],
  paper: {
    'all/nope/in': { text: 'n/a', source: 'none' },
    'all/alibi/in': { text: 'n/a', source: 'none' },
    'all/nope/grid': { value: 1, text: '1', source: 'none' },
    'all/alibi/grid': { value: 2, text: '2', source: 'none' },
  },
  rank: { metric: 'in', label: 'rank' },
  profiles: {
    quick: { description: 'Toy.', seeds: 1, overrides: {}, probes: [{ name: 'length', samples: 2, maxDigits: 3 }] },
    paper: { description: 'Toy.', seeds: 1, overrides: {} },
  },
};

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-reproduce-'));
const runDir = (result: ReproduceResult, cell: string) => path.join(result.dir, `${cell}-seed0`);
/** metrics.jsonl without the wall-clock fields. */
const metricsOf = (dir: string) => readMetrics(path.join(dir, 'metrics.jsonl')).map(({ tokens_per_s, elapsed_s, ...rest }) => rest);
const valuesOf = (result: ReproduceResult) => result.results.table.map((e) => [e.column, e.metric, e.ours]);
const trainCommands = (result: ReproduceResult, cell: string) =>
  (fs.readFileSync(path.join(result.dir, 'logs', `${cell}-seed0.log`), 'utf8').match(/^\$ arith-lab train/gm) ?? []).length;

describe('reproduce', () => {
  let reference: ReproduceResult;

  it('trains every cell in a child process, probes it, and writes table.md, results.json and a report page', async () => {
    const lines: string[] = [];
    reference = await reproduce(toy, { runsRoot: path.join(root, 'one'), jobs: 1, log: (line) => lines.push(line) });
    expect(reference.dir).toBe(path.join(root, 'one', 'reproduce', 'toy', 'quick'));
    for (const cell of ['nope', 'alibi']) {
      const info = JSON.parse(fs.readFileSync(path.join(runDir(reference, cell), 'run.json'), 'utf8')) as RunInfo;
      expect(info.status).toBe('finished');
      expect(fs.existsSync(path.join(runDir(reference, cell), 'probes', 'length.json'))).toBe(true);
    }
    expect(fs.readFileSync(reference.tableFile, 'utf8')).toBe(reference.markdown);
    expect(reference.markdown).toContain('| metric | NoPE ours | paper | ALiBi ours | paper |');
    expect(reference.markdown).not.toContain('missing');
    expect(JSON.parse(fs.readFileSync(reference.resultsFile, 'utf8')).experiment).toBe('toy');
    expect(fs.existsSync(reference.reportFile!)).toBe(true);
    expect(lines[0]).toMatch(/2 new/);
    for (const entry of reference.results.table) expect(Number.isFinite(entry.ours!.mean)).toBe(true);
  });

  it('gives the same numbers with --jobs 2', async () => {
    const parallel = await reproduce(toy, { runsRoot: path.join(root, 'two'), jobs: 2, report: false });
    expect(valuesOf(parallel)).toEqual(valuesOf(reference));
    for (const cell of ['nope', 'alibi']) expect(metricsOf(runDir(parallel, cell))).toEqual(metricsOf(runDir(reference, cell)));
  });

  it('continues after an interruption: the finished cell is kept, the interrupted one resumes from its checkpoint', async () => {
    const runsRoot = path.join(root, 'interrupted');
    const stop = new AbortController();
    const done: string[] = [];
    // Stop while the second cell trains, right after its step-20 evaluation (before its step-80 end).
    const first = reproduce(toy, {
      runsRoot,
      report: false,
      signal: stop.signal,
      onUnitDone: (unit, outcome) => done.push(`${unit.id}:${outcome}`),
      onOutput: (unit, text) => {
        if (unit.id === 'alibi-seed0' && /step 20:/.test(text)) stop.abort('SIGTERM');
      },
    });
    await expect(first).rejects.toThrow(RunStoppedError);
    expect(done).toEqual(['nope-seed0:finished', 'alibi-seed0:interrupted']);
    const dir = path.join(runsRoot, 'reproduce', 'toy', 'quick');
    const interrupted = JSON.parse(fs.readFileSync(path.join(dir, 'alibi-seed0', 'run.json'), 'utf8')) as RunInfo;
    expect(interrupted.status).toBe('interrupted');
    expect(interrupted.step).toBeLessThan(80);
    const finishedRunJson = path.join(dir, 'nope-seed0', 'run.json');
    const finishedAt = fs.statSync(finishedRunJson).mtimeMs;

    const lines: string[] = [];
    const second = await reproduce(toy, { runsRoot, report: false, log: (line) => lines.push(line) });
    expect(lines[0]).toMatch(/1 finished, 1 to resume/);
    expect(fs.statSync(finishedRunJson).mtimeMs).toBe(finishedAt);
    expect(trainCommands(second, 'nope')).toBe(1);
    expect(trainCommands(second, 'alibi')).toBe(2);
    const resumed = JSON.parse(fs.readFileSync(path.join(dir, 'alibi-seed0', 'run.json'), 'utf8')) as RunInfo;
    expect(resumed.status).toBe('finished');
    expect(resumed.resumes).toHaveLength(1);
    expect(valuesOf(second)).toEqual(valuesOf(reference));
    for (const cell of ['nope', 'alibi']) expect(metricsOf(runDir(second, cell))).toEqual(metricsOf(runDir(reference, cell)));

    // A third run trains nothing.
    const third = await reproduce(toy, { runsRoot, report: false });
    expect(trainCommands(third, 'alibi')).toBe(2);
    expect(third.markdown).toBe(second.markdown);
  });

  it('--set changes every cell and runs apart from the profile; --only selects cells; a dry run writes nothing', async () => {
    const runsRoot = path.join(root, 'dry');
    const lines: string[] = [];
    const result = await reproduce(toy, {
      runsRoot,
      overrides: ['train.lr=0.01'],
      only: ['no*'],
      dryRun: true,
      log: (line) => lines.push(line),
    });
    expect(result.dir).toBe(path.join(runsRoot, 'reproduce', 'toy', 'quick+train.lr=0.01'));
    expect(lines).toEqual([expect.stringMatching(/2 runs \(1 selected by --only\).*1 new/), '  nope-seed0: new']);
    expect(result.results.overrides).toEqual(['train.lr=0.01']);
    expect(result.markdown).toContain('profile `quick`, changed: `train.lr=0.01`, seed 0.');
    expect(fs.existsSync(runsRoot)).toBe(false);
    await expect(reproduce(toy, { runsRoot, only: ['nothing'], dryRun: true })).rejects.toThrow(/no cell matches nothing/);
  });

  it('plans each run directory: new, finished, failed, restart, and refuses to touch a finished run of another config', () => {
    const dir = path.join(root, 'plans');
    const [unit] = unitsOf(toy, 'quick', 1, dir);
    const info = (status: RunInfo['status']): RunInfo => ({
      status,
      name: unit.id,
      backend: 'wasm',
      started_at: '',
      updated_at: '',
      versions: {},
      git_commit: null,
    });
    expect(planUnit(unit.runDir, unit.config)).toEqual({ action: 'new' });
    fs.mkdirSync(unit.runDir, { recursive: true });
    fs.writeFileSync(path.join(unit.runDir, 'stray'), '');
    expect(planUnit(unit.runDir, unit.config).action).toBe('restart');
    writeResolvedConfig(unit.runDir, unit.config);
    writeRunInfo(unit.runDir, info('running'));
    expect(planUnit(unit.runDir, unit.config)).toEqual({ action: 'restart', reason: 'no checkpoint yet' });
    writeRunInfo(unit.runDir, { ...info('failed'), message: 'run diverged at step 3' });
    expect(planUnit(unit.runDir, unit.config)).toEqual({ action: 'failed', message: 'run diverged at step 3' });
    writeRunInfo(unit.runDir, info('finished'));
    expect(planUnit(unit.runDir, unit.config)).toEqual({ action: 'finished' });
    // Another engine is the same experiment; another learning rate is not.
    expect(planUnit(unit.runDir, { ...unit.config, backend: 'cpu' })).toEqual({ action: 'finished' });
    const other = { ...unit.config, train: { ...unit.config.train, lr: 0.01 } };
    expect(() => planUnit(unit.runDir, other)).toThrow(UserError);
    expect(() => planUnit(unit.runDir, other)).toThrow(/train\.lr.*never overwritten/);
    writeRunInfo(unit.runDir, info('interrupted'));
    expect(planUnit(unit.runDir, other)).toEqual({ action: 'restart', reason: 'its config differs (train.lr)' });
  });
});
