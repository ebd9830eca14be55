import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { reproduce } from '../src/experiments/reproduce/reproduce.ts';
import type { Reproduction } from '../src/experiments/reproductions/reproduction.ts';
import { gridCells, parseGrid } from '../src/experiments/sweep/grid.ts';

/**
 * Without a cluster: `--executor slurm --dry-run` writes the array's script and manifest (reproduce's tasks run
 * the profile's probes after training) and calls no Slurm command; grid values split at top-level commas.
 */

const toy: Reproduction = {
  name: 'toy',
  title: 'Toy table',
  citation: 'Nobody 2026.',
  notes: [],
  base: {
    backend: 'wasm',
    task: { op: 'add', train_digits: [1, 2], test_digits: [1, 3], test_size: 10 },
    format: { name: 'reversed-padded', pad_width: 2 },
    model: { layers: 1, heads: 2, d_model: 16, max_len: 16 },
    train: { steps: 20, batch: 8, eval_every: 10, eval_size: 5 },
  },
  rows: { label: '', entries: [{ id: 'all', label: 'toy', overrides: {} }] },
  columns: {
    label: 'pe',
    entries: [
      { id: 'nope', label: 'NoPE', overrides: { model: { pos: 'nope' } } },
      { id: 'alibi', label: 'ALiBi', overrides: { model: { pos: 'alibi' } } },
    ],
  },
  metrics: [{ id: 'in', label: 'in range', read: (run) => 100 * (run.info.result?.accuracy_in_range ?? NaN) }],
  paper: {},
  profiles: {
    quick: { description: 'Toy.', seeds: 1, overrides: {}, probes: [{ name: 'length', samples: 2, maxDigits: 3 }] },
    paper: { description: 'Toy.', seeds: 1, overrides: {} },
  },
};

describe('the Slurm array files', () => {
  it('reproduce --executor slurm --dry-run writes the script and manifest, with the probes, and submits nothing', async () => {
    const runsRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-slurm-script-'));
    const path0 = process.env.PATH;
    // No Slurm command can be found: a dry run must not need one.
    process.env.PATH = path.join(runsRoot, 'empty');
    try {
      const result = await reproduce(toy, {
        runsRoot,
        executor: 'slurm',
        dryRun: true,
        slurm: { partition: 'gpu', gpusPerTask: 1, maxRunning: 1, extra: ['--account=lab'] },
        trainArgs: ['--backend', 'torch', '--device', 'cuda'],
        command: ['/usr/bin/node', '/lab/bin/arith-lab.js'],
      });
      expect(result.submitted?.job).toBeNull();
      const script = fs.readFileSync(result.submitted!.scriptFile, 'utf8');
      expect(script).toContain(`sbatch --array=0-1%1 ${result.submitted!.scriptFile}`);
      for (const line of ['#SBATCH --partition=gpu', '#SBATCH --gpus-per-task=1', '#SBATCH --account=lab', '#SBATCH --requeue']) {
        expect(script).toContain(line);
      }
      expect(script).toContain('run train --resume "$RUN" --backend torch --device cuda');
      expect(script).toContain('run train --config "$CONFIG" --run-dir "$RUN" --overwrite --backend torch --device cuda');
      expect(script).toContain('run probe "$RUN" --probe length --samples 2 --max-digits 3');
      expect(script).toContain('/usr/bin/node /lab/bin/arith-lab.js "$@"');
      // Every task trains at the thread count local runs use (1 here), not at the cores Slurm gives it.
      expect(script).toContain(`export ARITH_THREADS=${process.env.ARITH_THREADS ?? 1}\n`);
      const manifest = fs.readFileSync(result.submitted!.manifestFile, 'utf8').trim().split('\n');
      expect(manifest.map((line) => line.split('\t')[0]).sort()).toEqual(['alibi-seed0', 'nope-seed0']);
      for (const line of manifest) {
        const [id, runDir, configFile] = line.split('\t');
        expect(path.isAbsolute(runDir) && runDir.endsWith(id)).toBe(true);
        expect(fs.existsSync(configFile)).toBe(true);
      }
      expect(fs.existsSync(path.join(result.dir, 'slurm', 'submission.json'))).toBe(false);
    } finally {
      process.env.PATH = path0;
      fs.rmSync(runsRoot, { recursive: true, force: true });
    }
  });

  it('grid values split at commas outside brackets; cells are every combination', () => {
    const axes = parseGrid(['task.train_digits=[1,4],[1,8]', 'model.pos=nope,rope'], ['task.train_digits', 'model.pos']);
    expect(axes[0].values).toEqual([
      [1, 4],
      [1, 8],
    ]);
    expect(gridCells(axes).map((cell) => cell.id)).toEqual([
      'train_digits-1_4_pos-nope',
      'train_digits-1_4_pos-rope',
      'train_digits-1_8_pos-nope',
      'train_digits-1_8_pos-rope',
    ]);
  });
});
