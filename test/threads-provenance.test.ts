import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { runAll, threadsPerChild } from '../src/experiments/executors/processPool.ts';
import type { RunInfo } from '../src/runs/records.ts';
import { threadChangeNote } from '../src/runs/runRecord.ts';
import { describeTorch } from './fixtures/torch.ts';

/**
 * The torch engine splits float sums by thread, so a loss curve repeats bit for bit only at one thread count
 * (the Cho quick table's seed 0 came out different at 1 and at 2 threads from step 20 on). Runs record their
 * count, a resume at another count says so, and `reproduce`/`sweep` children train at a fixed count.
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-threads-'));

describe('threads of child trainings', () => {
  it('are ARITH_THREADS when it is a positive integer, else 1 (not the cores, which --jobs would oversubscribe)', () => {
    expect(threadsPerChild({})).toBe(1);
    expect(threadsPerChild({ ARITH_THREADS: '3' })).toBe(3);
    for (const bad of ['', '0', '-1', '2.5', 'four']) expect(threadsPerChild({ ARITH_THREADS: bad })).toBe(1);
  });

  it('reach each child as ARITH_THREADS', async () => {
    const logFile = path.join(dir, 'child.log');
    const printEnv = [process.execPath, '-e', 'console.log("threads=" + process.env.ARITH_THREADS)'];
    try {
      vi.stubEnv('ARITH_THREADS', undefined);
      await runAll([{ id: 'a', logFile, steps: [{ name: 'env', args: [] }] }], { jobs: 1, command: printEnv });
      vi.stubEnv('ARITH_THREADS', '3');
      await runAll([{ id: 'b', logFile, steps: [{ name: 'env', args: [] }] }], { jobs: 1, command: printEnv });
    } finally {
      vi.unstubAllEnvs();
    }
    expect(fs.readFileSync(logFile, 'utf8').match(/threads=\S+/g)).toEqual(['threads=1', 'threads=3']);
  });
});

describe('a resume at another thread count', () => {
  it('is noted with both counts and how to resume exactly; the same count, or an unknown one, is not', () => {
    expect(threadChangeNote(2, 1)).toBe(
      'note: this run trained with 2 threads and resumes with 1: it continues, but its loss curve will not repeat ' +
        'bit for bit (floats are summed in another order); ARITH_THREADS=2 resumes it exactly',
    );
    expect(threadChangeNote(1, 4)).toMatch(/trained with 1 thread and resumes with 4/);
    expect(threadChangeNote(2, 2)).toBeNull();
    expect(threadChangeNote(undefined, 2)).toBeNull(); // a run from before threads were recorded
    expect(threadChangeNote(2, null)).toBeNull(); // resumed on a backend without threads
  });
});

describeTorch('thread counts in run.json', () => {
  const config = path.join(dir, 'tiny.yaml');
  fs.writeFileSync(
    config,
    `seed: 1
backend: torch
task: { op: add, train_digits: [1, 2], test_digits: [1, 2], test_size: 5 }
format: { name: reversed }
model: { layers: 1, heads: 2, d_model: 16, max_len: 16 }
train: { steps: 6, batch: 4, warmup: 1, eval_every: 6, eval_size: 2, checkpoint_every: 3 }
`,
  );
  /** Runs the CLI; its stdout and stderr together. */
  const cli = (args: string[], threads: string, env: Record<string, string> = {}) => {
    const child = spawnSync(process.execPath, ['bin/arith-lab.js', ...args], {
      env: { ...process.env, ARITH_THREADS: threads, ...env },
      encoding: 'utf8',
    });
    expect(child.status, child.stderr).toBe(0);
    return child.stdout + child.stderr;
  };
  const info = (run: string) => JSON.parse(fs.readFileSync(path.join(run, 'run.json'), 'utf8')) as RunInfo;

  it('records the count a run trained with and each resume, and a resume at another count says so', () => {
    const run = path.join(dir, 'run');
    cli(['train', '--config', config, '--run-dir', run], '2');
    expect(info(run).threads).toBe(2);
    // Back to step 3, as if it had been stopped there, and resumed on one thread.
    fs.rmSync(path.join(run, 'checkpoints', 'step-000006'), { recursive: true });
    fs.writeFileSync(path.join(run, 'run.json'), JSON.stringify({ ...info(run), status: 'interrupted', step: 3 }));
    const out = cli(['train', '--resume', run], '1');
    expect(out).toContain('note: this run trained with 2 threads and resumes with 1');
    expect(info(run).threads).toBe(2);
    expect(info(run).resumes?.map((r) => r.threads)).toEqual([1]);
    expect(info(run).matmul_precision).toBeUndefined();
  });

  // TF32 (ARITH_MATMUL_PRECISION=high) changes every float32 product on a GPU, so a run records it.
  it('records a float32 matmul precision other than the default, at the start and at each resume', () => {
    const run = path.join(dir, 'run-tf32');
    cli(['train', '--config', config, '--run-dir', run], '1', { ARITH_MATMUL_PRECISION: 'high' });
    expect(info(run).matmul_precision).toBe('high');
    fs.rmSync(path.join(run, 'checkpoints', 'step-000006'), { recursive: true });
    fs.writeFileSync(path.join(run, 'run.json'), JSON.stringify({ ...info(run), status: 'interrupted', step: 3 }));
    cli(['train', '--resume', run], '1');
    expect(info(run).matmul_precision).toBe('high');
    expect(info(run).resumes?.map((r) => r.matmul_precision)).toEqual([undefined]);
  });
});
