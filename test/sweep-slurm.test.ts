import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.ts';
import { sweep, type SweepOutcome, type SweepRunOptions } from '../src/experiments/sweep/sweep.ts';
import { readMetrics } from '../src/runs/metricsLog.ts';
import type { RunInfo } from '../src/runs/records.ts';
import { describeSlurm, startCluster, type TestCluster, waitForJob } from './fixtures/slurm.ts';

/**
 * `sweep` on a real one-node Slurm (test/fixtures/slurm.ts) against the local process pool: a 2x2 toy grid
 * (a 1-layer d16 model, 60 steps of 8 problems on wasm) gives the same numbers either way; an array task
 * cancelled mid-run resumes from its checkpoint when the sweep is submitted again, and ends exactly where an
 * uninterrupted run ends; a finished sweep submits nothing. Bad input is one UserError and leaves nothing behind.
 */

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-sweep-'));
const configFile = path.join(root, 'toy.yaml');
fs.writeFileSync(
  configFile,
  `seed: 0
backend: wasm
task: { op: add, train_digits: [1, 2], test_digits: [1, 3], test_size: 10 }
format: { name: reversed-padded, pad_width: 2 }
model: { layers: 1, heads: 2, d_model: 16, max_len: 16 }
train: { steps: 60, batch: 8, lr: 0.003, warmup: 5, eval_every: 20, eval_size: 5, log_every: 5, checkpoint_every: 20, keep_checkpoints: 2 }
`,
);
const grid = ['model.pos=nope,alibi', 'train.lr=3e-3,1e-2'];
const options = (runsRoot: string, more: Partial<SweepRunOptions> = {}): SweepRunOptions => ({
  config: configFile,
  grid,
  name: 'toy',
  runsRoot: path.join(root, runsRoot),
  report: false,
  ...more,
});
/** metrics.jsonl without the wall-clock fields. */
const metricsOf = (dir: string) => readMetrics(path.join(dir, 'metrics.jsonl')).map(({ tokens_per_s, elapsed_s, ...rest }) => rest);
const numbersOf = (outcome: SweepOutcome) => {
  if (outcome.kind !== 'done') throw new Error(`expected a finished sweep, got ${outcome.kind}`);
  return outcome.results.cells.map((c) => [c.id, c.inRange, c.beyond, c.runs.map((r) => [r.status, r.inRange, r.beyond])]);
};
const runInfo = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8')) as RunInfo;
const cli = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
  spawnSync(process.execPath, ['bin/arith-lab.js', ...args], { encoding: 'utf8', env });

describe('sweep: bad input', () => {
  it('a --grid field that is not in the schema, and a value that makes an invalid config, write nothing', async () => {
    await expect(sweep(options('bad', { grid: ['model.poss=nope,ape'] }))).rejects.toThrow(/model\.poss" is not a field.*model has layers/);
    const error = await sweep(options('bad', { grid: ['model.pos=nope,xyz'] })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(String(error)).toMatch(/^sweep toy, cell pos-xyz: model\.pos: expected one of/);
    expect(fs.existsSync(path.join(root, 'bad'))).toBe(false);
  });

  it('--executor slurm without sbatch: one line, exit 2, nothing written', () => {
    const out = path.join(root, 'no-sbatch');
    // node is started by its full path; PATH holds no Slurm commands.
    const result = cli(['sweep', '-c', configFile, '--grid', grid[0], '--runs', out, '--executor', 'slurm'], {
      ...process.env,
      PATH: path.join(root, 'empty'),
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^(?:sweep toy:.*\n)?arith-lab: error: --executor: sbatch not found.*\n$/);
    expect(fs.existsSync(out)).toBe(false);
  });
});

describeSlurm('sweep on Slurm', () => {
  let cluster: TestCluster;
  let local: SweepOutcome;

  beforeAll(async () => {
    cluster = await startCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('a partition that does not exist, or a controller that does not answer: Slurm says so, nothing is written', async () => {
    await expect(sweep(options('partition', { executor: 'slurm', slurm: { partition: 'nope' } }))).rejects.toThrow(
      /Slurm refused the job: .*invalid partition/i,
    );
    expect(fs.existsSync(path.join(root, 'partition'))).toBe(false);
    // A slurm.conf naming a port nobody listens on (sbatch gives up after MessageTimeout seconds).
    const deaf = path.join(root, 'deaf.conf');
    fs.writeFileSync(deaf, `${fs.readFileSync(cluster.conf, 'utf8').replace(/SlurmctldPort=\d+/, 'SlurmctldPort=1')}MessageTimeout=2\n`);
    const out = path.join(root, 'deaf');
    const result = cli(['sweep', '-c', configFile, '--grid', grid[0], '--runs', out, '--executor', 'slurm'], {
      ...process.env,
      SLURM_CONF: deaf,
    });
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n').at(-1)).toMatch(/^arith-lab: error: --executor: Slurm refused the job: .*(contact|connect)/i);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('a 4-cell sweep on Slurm gives the same results.json numbers as --executor local', async () => {
    local = await sweep(options('local', { jobs: 2 }));
    const submitted = await sweep(options('slurm', { executor: 'slurm', slurm: { maxRunning: 2 } }));
    expect(submitted.kind).toBe('submitted');
    if (submitted.kind !== 'submitted') return;
    const script = fs.readFileSync(submitted.submitted.scriptFile, 'utf8');
    expect(script).toContain('sbatch --array=0-3%2 ');
    expect(fs.readFileSync(submitted.submitted.manifestFile, 'utf8').trim().split('\n')).toHaveLength(4);
    await waitForJob(submitted.submitted.job!);
    const done = await sweep(options('slurm', { executor: 'slurm' }));
    expect(numbersOf(done)).toEqual(numbersOf(local));
    const results = JSON.parse(fs.readFileSync(path.join(root, 'slurm', 'sweeps', 'toy', 'results.json'), 'utf8'));
    expect(results.cells).toHaveLength(4);
    for (const unit of done.plan.units) {
      expect(metricsOf(unit.runDir)).toEqual(metricsOf(path.join(root, 'local', 'sweeps', 'toy', path.basename(unit.runDir))));
    }
  });

  it('a second submission of a finished sweep submits nothing', async () => {
    const submission = path.join(root, 'slurm', 'sweeps', 'toy', 'slurm', 'submission.json');
    const before = fs.readFileSync(submission, 'utf8');
    const lines: string[] = [];
    const again = await sweep(options('slurm', { executor: 'slurm', log: (line) => lines.push(line) }));
    expect(again.kind).toBe('done');
    expect(lines.join('\n')).toMatch(/4 finished, 0 to resume, 0 to start over, 0 new/);
    expect(fs.readFileSync(submission, 'utf8')).toBe(before);
  });

  it('an array task cancelled mid-run resumes when submitted again and ends as an uninterrupted run', async () => {
    const first = await sweep(options('cancel', { executor: 'slurm', slurm: { maxRunning: 2 } }));
    if (first.kind !== 'submitted') throw new Error(first.kind);
    const job = first.submitted.job!;
    const victim = first.plan.work[0];
    // Cancel array element 0 once it has written its first checkpoint (step 20 of 60).
    for (let i = 0; !fs.existsSync(path.join(victim.runDir, 'checkpoints', 'step-000020')); i++) {
      if (i > 3000) throw new Error('no checkpoint after 150 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(spawnSync('scancel', [`${job}_0`]).status).toBe(0);
    await waitForJob(job);
    const cancelled = runInfo(victim.runDir);
    expect(cancelled.status).toBe('interrupted');
    expect(cancelled.step).toBeLessThan(60);

    const lines: string[] = [];
    const second = await sweep(options('cancel', { executor: 'slurm', log: (line) => lines.push(line) }));
    expect(lines[0]).toMatch(/3 finished, 1 to resume/);
    if (second.kind !== 'submitted') throw new Error(second.kind);
    expect(fs.readFileSync(second.submitted.manifestFile, 'utf8').split('\t')[0]).toBe(victim.id);
    await waitForJob(second.submitted.job!);
    const done = await sweep(options('cancel', { executor: 'slurm' }));
    expect(numbersOf(done)).toEqual(numbersOf(local));
    const resumed = runInfo(victim.runDir);
    expect(resumed.status).toBe('finished');
    expect(resumed.resumes).toHaveLength(1);
    expect(metricsOf(victim.runDir)).toEqual(metricsOf(path.join(root, 'local', 'sweeps', 'toy', victim.id)));
    expect(fs.readFileSync(victim.logFile, 'utf8')).toMatch(/\$ arith-lab train --resume/);
  });
});
