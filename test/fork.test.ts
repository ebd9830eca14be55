import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readMetrics } from '../src/runs/metricsLog.ts';
import type { MetricsRecord } from '../src/runs/records.ts';
import { readRunInfo } from '../src/runs/runDirectory.ts';
import { listCheckpoints } from '../src/runs/checkpointFiles.ts';

// `train --fork`: a new run that starts from another run's checkpoint (weights, optimizer, data stream, step)
// with the parent's config and any --set. Without changes it must continue the parent exactly; with one it
// shares the parent's history up to the checkpoint and differs after it.

const CLI = path.resolve('bin/arith-lab.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-fork-'));
const parentDir = path.join(dir, 'parent');

function cli(args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stderr: result.stderr };
}

/** The fields a continued run must reproduce exactly; tokens_per_s and elapsed_s are wall-clock. */
const exact = (records: MetricsRecord[]) => records.map(({ tokens_per_s: _s, elapsed_s: _e, ...rest }) => rest);
const metrics = (runDir: string) => exact(readMetrics(path.join(runDir, 'metrics.jsonl')));

beforeAll(() => {
  const config = path.join(dir, 'tiny.yaml');
  fs.writeFileSync(
    config,
    [
      'seed: 3',
      'backend: wasm',
      'task: { op: add, train_digits: [1, 2], test_digits: [1, 3], test_size: 20 }',
      'format: { name: reversed }',
      'model: { layers: 1, heads: 2, d_model: 16, max_len: 16, pos: rope }',
      'train: { steps: 60, batch: 16, lr: 0.003, warmup: 10, eval_every: 20, eval_size: 10, log_every: 1, checkpoint_every: 10, keep_checkpoints: 10 }',
      '',
    ].join('\n'),
  );
  const trained = cli(['train', '--config', config, '--run-dir', parentDir]);
  expect(trained.status, trained.stderr).toBe(0);
}, 120_000);

describe('train --fork', () => {
  it('without --set continues the parent exactly, and records where it came from', () => {
    const child = path.join(dir, 'same');
    const run = cli(['train', '--fork', parentDir, '--at', '30', '--run-dir', child]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/forked from .*parent at step 30 \(\d+s of its training, counted in this run's time\)/);
    expect(metrics(child)).toEqual(metrics(parentDir));
    const info = readRunInfo(child);
    expect(info).toMatchObject({
      status: 'finished',
      step: 60,
      forked_from: { run: parentDir, step: 30, config_sha256: readRunInfo(parentDir).config_sha256 },
      result: readRunInfo(parentDir).result,
    });
    // The parent's seconds up to step 30 are part of the fork's time.
    const parentAt30 = readMetrics(path.join(parentDir, 'metrics.jsonl')).find((r) => r.step === 30)!.elapsed_s;
    expect(info.train_seconds).toBeGreaterThanOrEqual(Math.floor(parentAt30 * 10) / 10);
    expect(listCheckpoints(child).map((c) => c.step)).toEqual([60, 50, 40, 30]);
    // The parent is untouched.
    expect(listCheckpoints(parentDir).map((c) => c.step)).toEqual([60, 50, 40, 30, 20, 10]);
  }, 120_000);

  it('with --set shares the history up to the checkpoint and differs after it', () => {
    const child = path.join(dir, 'lr');
    const run = cli(['train', '--fork', parentDir, '--at', '20', '--set', 'train.lr=0.03', '--run-dir', child]);
    expect(run.status, run.stderr).toBe(0);
    const [mine, theirs] = [metrics(child), metrics(parentDir)];
    expect(mine.slice(0, 20)).toEqual(theirs.slice(0, 20));
    expect(mine[20].step).toBe(21);
    expect(mine[20].lr).not.toBe(theirs[20].lr);
    expect(mine[20].loss).toBe(theirs[20].loss); // step 21's batch and weights are the parent's; its update differs
    expect(mine[21].loss).not.toBe(theirs[21].loss);
  }, 120_000);

  it.each([
    [['--set', 'model.d_model=32'], /^arith-lab: error: --set model\.d_model: a fork keeps its parent's model\.d_model \(16\)/m],
    [['--set', 'seed=4'], /^arith-lab: error: --set seed: a fork keeps its parent's seed \(3\)/m],
    [['--at', '25'], /^arith-lab: error: --at: no checkpoint at step 25 \(available: 10, 20, 30, 40, 50, 60\)$/m],
    [['--at', '40', '--set', 'train.steps=40'], /^arith-lab: error: train\.steps: is 40; a fork from step 40 must train past it$/m],
    [['--config', 'configs/addition-ape.yaml'], /^arith-lab: error: --fork: starts from the parent run's config\.yaml/m],
  ])(
    'refuses %j in one line, exit 2, writing nothing',
    (extra, message) => {
      const child = path.join(dir, 'refused');
      const run = cli(['train', '--fork', parentDir, ...extra, '--run-dir', child]);
      expect(run.stderr).toMatch(message);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.status).toBe(2);
      expect(fs.existsSync(child)).toBe(false);
    },
    60_000,
  );

  it('train.keep_checkpoints_at writes and keeps fork points between checkpoint_every steps, changing nothing else', () => {
    const config = path.join(dir, 'tiny.yaml');
    const pinned = path.join(dir, 'pinned');
    const keep = ['train.keep_checkpoints=2', 'train.keep_checkpoints_at=[15, 25]'].flatMap((s) => ['--set', s]);
    const run = cli(['train', '--config', config, ...keep, '--run-dir', pinned]);
    expect(run.status, run.stderr).toBe(0);
    // The newest two, plus the two pinned steps that checkpoint_every (10) would not have written.
    expect(listCheckpoints(pinned).map((c) => c.step)).toEqual([60, 50, 25, 15]);
    expect(metrics(pinned)).toEqual(metrics(parentDir));
    const child = path.join(dir, 'from-pinned');
    const forked = cli(['train', '--fork', pinned, '--at', '15', '--run-dir', child]);
    expect(forked.status, forked.stderr).toBe(0);
    expect(metrics(child)).toEqual(metrics(parentDir));
  }, 180_000);

  it('refuses a train.keep_checkpoints_at step past train.steps in one line, exit 2, writing nothing', () => {
    const child = path.join(dir, 'pinned-late');
    const run = cli(['train', '--config', path.join(dir, 'tiny.yaml'), '--set', 'train.keep_checkpoints_at=[61]', '--run-dir', child]);
    expect(run.stderr.trim()).toMatch(
      /^arith-lab: error: .*train\.keep_checkpoints_at: step 61 is past train\.steps 60: its checkpoint would never be written$/,
    );
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.status).toBe(2);
    expect(fs.existsSync(child)).toBe(false);
  });

  it('--at without --fork is refused', () => {
    const run = cli(['train', '--config', 'configs/addition-ape.yaml', '--at', '10', '--run-dir', path.join(dir, 'x')]);
    expect(run.stderr).toMatch(/^arith-lab: error: --at: names a checkpoint of the run given with --fork; add --fork RUN$/m);
    expect(run.status).toBe(2);
  });

  it('a warmup-stable-decay run forked with fewer steps before its cooldown is the shorter run, exactly', () => {
    // The parent holds its peak rate to step 35 (cooldown 0.5 of the 50 steps after warmup); a run of 40 steps
    // holds it to step 25. Forked at step 20 with train.steps=40, it must write what a fresh 40-step run writes.
    const config = path.join(dir, 'tiny.yaml');
    const cooled = ['--set', 'train.cooldown=0.5'];
    const parent = path.join(dir, 'wsd-parent');
    expect(cli(['train', '--config', config, ...cooled, '--run-dir', parent]).status).toBe(0);
    const fork = path.join(dir, 'wsd-fork');
    const forked = cli(['train', '--fork', parent, '--at', '20', '--set', 'train.steps=40', '--run-dir', fork]);
    expect(forked.status, forked.stderr).toBe(0);
    const fresh = path.join(dir, 'wsd-fresh');
    expect(cli(['train', '--config', config, ...cooled, '--set', 'train.steps=40', '--run-dir', fresh]).status).toBe(0);
    const [mine, theirs] = [metrics(fork), metrics(fresh)];
    expect(mine).toEqual(theirs);
    expect(mine.find((r) => r.step === 25)!.lr).toBe(0.003);
    expect(mine.find((r) => r.step === 26)!.lr).toBeLessThan(0.003);
    // The parent, still at its peak at step 26, is a different run from there on.
    expect(metrics(parent).find((r) => r.step === 26)!.lr).toBe(0.003);
  }, 180_000);
});
