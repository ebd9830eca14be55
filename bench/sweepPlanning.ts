import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sweep } from '../src/experiments/sweep/sweep.ts';

/**
 * Plans and writes a 1,000-cell sweep (10 learning rates x 10 warmups x 10 weight decays of
 * configs/addition-nope.yaml) as a Slurm array without submitting it (--dry-run), and prints the time it took:
 * `node bin/run-ts.js bench/sweepPlanning.ts`. Node's own start and the module loading are not included.
 */
const values = (list: number[]) => list.join(',');
const runsRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-sweep-bench-'));
const start = performance.now();
const outcome = await sweep({
  config: 'configs/addition-nope.yaml',
  grid: [
    `train.lr=${values([1e-4, 2e-4, 3e-4, 5e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 2e-2])}`,
    `train.warmup=${values([0, 10, 20, 30, 40, 50, 60, 70, 80, 90])}`,
    `train.weight_decay=${values([0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9])}`,
  ],
  runsRoot,
  executor: 'slurm',
  dryRun: true,
});
const seconds = (performance.now() - start) / 1000;
const count = outcome.plan.units.length;
console.log(`${count} runs planned, validated and written (configs, manifest, array script) in ${seconds.toFixed(2)} s`);
fs.rmSync(runsRoot, { recursive: true, force: true });
